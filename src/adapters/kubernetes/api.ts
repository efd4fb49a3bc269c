import {
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  Observable,
  setHeaderOptions,
  type ConfigurationOptions,
  type KubeConfig,
  type ObservableMiddleware,
  type PatchStrategy,
} from '@kubernetes/client-node';
import { ClusterError, describe, explain, isTransient, type Subject } from './errors.js';
import { keepAliveMiddleware } from './keep-alive.js';
import { OPERATIONS, type OperationName } from './operations.js';
import { RequestGate } from './request-gate.js';

export interface RetryPolicy {
  /** Attempts for a call that fails with 5xx, 429, a timeout or a dropped connection. */
  attempts: number;
  /** Attempts for a read-modify-write that meets 409 Conflict. */
  conflictAttempts: number;
  /** First backoff delay; doubles each attempt up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Each request is abandoned after this long. */
  requestTimeoutMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, conflictAttempts: 5, baseDelayMs: 250, maxDelayMs: 4_000, requestTimeoutMs: 10_000 };

const READ_VERBS = new Set(['get', 'list', 'watch']);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function timeoutMiddleware(ms: number): ObservableMiddleware {
  return {
    pre: (request) => {
      request.setSignal(AbortSignal.timeout(ms));
      return new Observable(Promise.resolve(request));
    },
    post: (response) => new Observable(Promise.resolve(response)),
  };
}

/**
 * The client-node APIs of one cluster, called only by operation name, with timeouts, bounded retries, reused
 * connections, and a gate that bounds how many requests are in flight and how fast they go.
 */
export class KubeApi {
  readonly apps: AppsV1Api;
  readonly core: CoreV1Api;
  readonly custom: CustomObjectsApi;
  readonly coordination: CoordinationV1Api;
  private readonly keepAlive = keepAliveMiddleware();

  constructor(
    readonly cluster: string,
    readonly kubeConfig: KubeConfig,
    readonly retry: RetryPolicy = DEFAULT_RETRY,
    /**
     * Reads and writes pass separate gates of the same limits: a rollback's drain must not queue behind a tick's
     * reads, which are thousands where the copies cannot serve them.
     */
    private readonly gates: { read: RequestGate; write: RequestGate } = { read: new RequestGate(), write: new RequestGate() },
  ) {
    this.apps = kubeConfig.makeApiClient(AppsV1Api);
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.custom = kubeConfig.makeApiClient(CustomObjectsApi);
    this.coordination = kubeConfig.makeApiClient(CoordinationV1Api);
  }

  /** Request options: a timeout, and the patch format for PATCH calls. */
  options(patch?: PatchStrategy): ConfigurationOptions<ObservableMiddleware> {
    const base: ConfigurationOptions<ObservableMiddleware> = { middleware: [this.keepAlive, timeoutMiddleware(this.retry.requestTimeoutMs)], middlewareMergeStrategy: 'append' };
    return patch ? setHeaderOptions('Content-Type', patch, base) : base;
  }

  private backoff(attempt: number): number {
    return Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** attempt);
  }

  /** One API call; transient failures are retried with backoff, the rest become a ClusterError at once. */
  async call<T>(op: OperationName, subject: Subject, fn: () => Promise<T>): Promise<T> {
    let last: unknown;
    for (let attempt = 0; attempt < this.retry.attempts; attempt++) {
      try {
        return await this.gates[READ_VERBS.has(OPERATIONS[op].verb) ? 'read' : 'write'].run(fn);
      } catch (error) {
        if (!isTransient(error)) throw explain(error, op, subject, this.cluster);
        last = error;
        if (attempt + 1 < this.retry.attempts) await sleep(this.backoff(attempt));
      }
    }
    const cause = explain(last, op, subject, this.cluster);
    throw new ClusterError('unavailable', `${cause.message}; gave up after ${this.retry.attempts} attempts`, cause.status);
  }

  /** Runs a read-modify-write again from the read when the write meets 409 Conflict. */
  async retryOnConflict<T>(subject: Subject, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        if (!(error instanceof ClusterError && error.kind === 'conflict')) throw error;
        if (attempt + 1 >= this.retry.conflictAttempts) {
          throw new ClusterError(
            'conflict',
            `${describe(subject)} kept changing while Lifeguard tried to update it (409 Conflict on ${this.retry.conflictAttempts} attempts): another controller or person is writing to it; find out who (kubectl get -o yaml, managedFields) and try again`,
            409,
          );
        }
        await sleep(this.backoff(attempt) / 2);
      }
    }
  }
}
