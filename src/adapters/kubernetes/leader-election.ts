import { hostname } from 'node:os';
import type { KubeConfig, V1Lease } from '@kubernetes/client-node';
import type { Leadership } from '../../ports.js';
import { DEFAULT_RETRY, KubeApi, type RetryPolicy } from './api.js';
import { ClusterError, type Subject } from './errors.js';

export interface LeaseOptions {
  namespace: string;
  /** Lease name; every replica of one Lifeguard installation uses the same. */
  name: string;
  /** This replica's identity, e.g. the pod name. */
  identity: string;
  /** How long a lease holds without renewal before another replica may take it. */
  leaseDurationMs: number;
  /** A leader that has not renewed for this long gives up leadership (shorter than leaseDurationMs). */
  renewDeadlineMs: number;
  /** How often to try to acquire or renew. */
  retryPeriodMs: number;
  retry?: Partial<RetryPolicy>;
}

export const DEFAULT_LEASE_TIMING = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

/** The API server keeps MicroTime with microseconds; it rejects the millisecond form Date.toISOString() gives. */
const microTime = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
const parseTime = (value: unknown) => (value instanceof Date ? value.getTime() : value ? Date.parse(String(value)) : 0);

/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it: the
 * holder renews every retry period; others take over once the lease has not changed for its
 * duration, judged by their own clock so that clock skew between replicas does not matter.
 */
export class LeaseLeaderElection implements Leadership {
  private readonly api: KubeApi;
  private readonly subject: Subject;
  private leader = false;
  private controller = new AbortController();
  private readonly listeners: ((leader: boolean) => void)[] = [];
  private readonly problemListeners: ((error: unknown) => void)[] = [];
  /** The last failure reported, so a failure that repeats every retry period is reported once. */
  private lastProblem: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private lastRenewMs = 0;
  private observed: { record: string; atMs: number } | undefined;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    kubeConfig: KubeConfig,
    private readonly opts: LeaseOptions,
  ) {
    if (opts.renewDeadlineMs >= opts.leaseDurationMs) throw new ClusterError('config', 'leader election: renewDeadline must be shorter than leaseDuration');
    // A lease call must fail fast enough to leave room for another try before the renew deadline.
    const requestTimeoutMs = Math.max(100, Math.floor(opts.retryPeriodMs));
    this.api = new KubeApi('lease', kubeConfig, { ...DEFAULT_RETRY, attempts: 1, requestTimeoutMs, ...opts.retry });
    this.subject = { kind: 'Lease', namespace: opts.namespace, name: opts.name };
    this.controller.abort('not leader yet');
  }

  isLeader(): boolean {
    return this.leader;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  onChange(listener: (leader: boolean) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Called when reading or writing the Lease fails (e.g. a 403 because the Role is missing), once per distinct
   * failure: a replica that can never lead must say why.
   */
  onProblem(listener: (error: unknown) => void): void {
    this.problemListeners.push(listener);
  }

  private report(error: unknown) {
    const message = error instanceof Error ? error.message : String(error);
    if (message === this.lastProblem) return;
    this.lastProblem = message;
    for (const listener of this.problemListeners) listener(error);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  async stop(opts: { release?: boolean } = {}): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.loop;
    if (opts.release && this.leader) {
      await this.write((lease) => ({ ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(Date.now()) as unknown as Date } })).catch(
        (error: unknown) => this.report(error),
      );
    }
    this.setLeader(false, 'stopped');
  }

  private schedule(ms: number) {
    this.timer = setTimeout(() => {
      this.loop = this.tick().finally(() => {
        if (this.running) this.schedule(this.opts.retryPeriodMs);
      });
    }, ms);
  }

  private async tick(): Promise<void> {
    const now = Date.now();
    let acquired: boolean;
    try {
      acquired = await this.tryAcquireOrRenew(now);
      this.lastProblem = undefined;
    } catch (error) {
      this.report(error);
      acquired = false;
    }
    if (!this.running) return;
    if (acquired) {
      this.lastRenewMs = now;
      this.setLeader(true);
    } else if (this.leader && Date.now() - this.lastRenewMs > this.opts.renewDeadlineMs) {
      this.setLeader(false, `lease ${this.opts.namespace}/${this.opts.name} not renewed within ${this.opts.renewDeadlineMs}ms`);
    }
  }

  private setLeader(leader: boolean, why = '') {
    if (leader === this.leader) return;
    this.leader = leader;
    if (leader) this.controller = new AbortController();
    else this.controller.abort(why);
    for (const listener of this.listeners) listener(leader);
  }

  private async read(): Promise<V1Lease | undefined> {
    try {
      return await this.api.call('readLease', this.subject, () => this.api.coordination.readNamespacedLease({ name: this.opts.name, namespace: this.opts.namespace }, this.api.options()));
    } catch (error) {
      if (error instanceof ClusterError && error.kind === 'not-found') return undefined;
      throw error;
    }
  }

  private async write(change: (lease: V1Lease) => V1Lease): Promise<void> {
    const lease = await this.read();
    if (!lease) return;
    await this.api.call('updateLease', this.subject, () =>
      this.api.coordination.replaceNamespacedLease({ name: this.opts.name, namespace: this.opts.namespace, body: change(lease) }, this.api.options()),
    );
  }

  private async tryAcquireOrRenew(now: number): Promise<boolean> {
    const leaseDurationSeconds = Math.max(1, Math.ceil(this.opts.leaseDurationMs / 1000));
    const lease = await this.read();
    if (!lease) {
      const body: V1Lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: this.opts.name, namespace: this.opts.namespace },
        spec: { holderIdentity: this.opts.identity, leaseDurationSeconds, acquireTime: microTime(now) as unknown as Date, renewTime: microTime(now) as unknown as Date, leaseTransitions: 0 },
      };
      await this.api.call('createLease', this.subject, () => this.api.coordination.createNamespacedLease({ namespace: this.opts.namespace, body }, this.api.options()));
      return true;
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const record = `${holder}|${parseTime(spec.renewTime)}|${spec.leaseTransitions ?? 0}`;
    if (this.observed?.record !== record) this.observed = { record, atMs: now };
    const durationMs = holder === this.opts.identity ? this.opts.leaseDurationMs : (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
    if (holder && holder !== this.opts.identity && this.observed.atMs + durationMs > now) return false;
    const takingOver = holder !== this.opts.identity;
    const next: V1Lease = {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: this.opts.identity,
        leaseDurationSeconds,
        renewTime: microTime(now) as unknown as Date,
        acquireTime: microTime(takingOver ? now : parseTime(spec.acquireTime) || now) as unknown as Date,
        leaseTransitions: (spec.leaseTransitions ?? 0) + (takingOver && holder ? 1 : 0),
      },
    };
    await this.api.call('updateLease', this.subject, () => this.api.coordination.replaceNamespacedLease({ name: this.opts.name, namespace: this.opts.namespace, body: next }, this.api.options()));
    return true;
  }
}

/** Lease settings for a replica running in Kubernetes: identity and namespace from the downward API (manifests/deployment.yaml). */
export function leaseOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): LeaseOptions {
  return {
    namespace: env.POD_NAMESPACE ?? 'lifeguard',
    name: 'lifeguard-leader',
    identity: env.POD_NAME ?? hostname(),
    ...DEFAULT_LEASE_TIMING,
  };
}
