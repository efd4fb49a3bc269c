import { ApiException } from '@kubernetes/client-node';
import { OPERATIONS, type OperationName } from './operations.js';

export type ClusterErrorKind = 'forbidden' | 'not-found' | 'conflict' | 'unavailable' | 'invalid' | 'config' | 'state';

/** A failure talking to a cluster, worded for the person who has to fix it. */
export class ClusterError extends Error {
  override name = 'ClusterError';
  constructor(
    readonly kind: ClusterErrorKind,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** What an API call was about, for messages: `Deployment shop/checkout-canary`. */
export interface Subject {
  kind: string;
  namespace: string;
  name?: string;
  /** Where in lifeguard.yaml the name came from, when it did. */
  configPath?: string;
}

export const describe = (s: Subject) => `${s.kind} ${s.namespace}/${s.name ?? '*'}`;

/** The `Status` object the API server sent, if it sent one. */
export function statusOf(error: ApiException<unknown>): { message?: string; reason?: string } {
  const body = error.body;
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as { message?: string; reason?: string };
    } catch {
      return { message: body };
    }
  }
  return (body ?? {}) as { message?: string; reason?: string };
}

export function isTransient(error: unknown): boolean {
  if (error instanceof ApiException) return error.code === 429 || error.code >= 500;
  const name = (error as Error)?.name;
  const code = (error as NodeJS.ErrnoException)?.code;
  return name === 'AbortError' || name === 'TimeoutError' || name === 'FetchError' || code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ETIMEDOUT';
}

/** Turns a client error into a ClusterError that says which object, what was refused and what to do. */
export function explain(error: unknown, op: OperationName, subject: Subject, cluster: string): ClusterError {
  if (error instanceof ClusterError) return error;
  const { verb, group, resource } = OPERATIONS[op];
  if (error instanceof ApiException) {
    const status = statusOf(error);
    const said = status.message ? ` (API server: ${status.message})` : '';
    switch (error.code) {
      case 403:
        return new ClusterError(
          'forbidden',
          `Lifeguard's ServiceAccount may not ${verb} ${resource} (API group "${group}") in namespace "${subject.namespace}" on cluster "${cluster}": add that verb to its Role (manifests/rbac.yaml) and bind it in "${subject.namespace}"${said}`,
          403,
        );
      case 404:
        return new ClusterError(
          'not-found',
          `${describe(subject)} not found on cluster "${cluster}"${subject.configPath ? `: check ${subject.configPath} in lifeguard.yaml` : ''}${said}`,
          404,
        );
      case 409:
        return new ClusterError('conflict', `${describe(subject)} was changed by someone else while Lifeguard was updating it${said}`, 409);
      case 422:
      case 400:
        return new ClusterError('invalid', `the API server rejected the change to ${describe(subject)}${said}`, error.code);
      default:
        return new ClusterError('unavailable', `cluster "${cluster}" answered ${error.code} to ${verb} ${resource} for ${describe(subject)}${said}`, error.code);
    }
  }
  const e = error as Error;
  return new ClusterError('unavailable', `cannot reach cluster "${cluster}" to ${verb} ${resource} for ${describe(subject)}: ${e?.name === 'AbortError' || e?.name === 'TimeoutError' ? 'request timed out' : (e?.message ?? String(error))}`);
}
