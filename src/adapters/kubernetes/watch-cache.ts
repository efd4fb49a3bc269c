import { setTimeout as sleep } from 'node:timers/promises';
import { ADD, DELETE, ERROR, ListWatch, UPDATE, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { KubeApi } from './api.js';
import { matches, type ListFilter } from './object-reads.js';
import { CUT_WITHIN_MS, ReportingWatch } from './reporting-watch.js';
import { collectionPath, type WatchedResource } from './watched-resources.js';

export interface WatchCacheEvents {
  /** The watch broke after it had synced: what it holds may be behind until it reconnects. */
  down(error: unknown): void;
  /** It is watching again, after a fresh list if the server had forgotten where it stood (410 Gone). */
  up(): void;
}

const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;
/** A watch that has held this long is healthy again: its next break backs off from the start. */
const HEALTHY_MS = 60_000;

/** Resource versions are opaque, but equal ones are the same write and etcd's are increasing integers. */
export function reached(have: string | undefined, want: string): boolean {
  if (have === undefined) return false;
  if (have === want) return true;
  return /^\d+$/.test(have) && /^\d+$/.test(want) && BigInt(have) >= BigInt(want);
}

/** Cached objects are shared by every reader: frozen, so that a reader that changes one fails loudly instead. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** managedFields are often half of an object's size, and Lifeguard never reads them. */
function slim<T extends KubernetesObject>(obj: T): T {
  if (obj.metadata?.managedFields) delete obj.metadata.managedFields;
  return deepFreeze(obj);
}

/**
 * One resource of one namespace, kept current by client-node's informer: listed once, then watched from the
 * list's resourceVersion, listed again when the server answers 410 Gone. A broken watch is retried with
 * back-off from where it stood; meanwhile it is not `live`, and its owner reads the API server instead.
 */
export class WatchCache<T extends KubernetesObject> {
  private readonly informer: ListWatch<T>;
  private readonly waiters = new Map<string, { resourceVersion: string; resolve: () => void }[]>();
  /** Names of the objects each controller owns: a Deployment's ReplicaSets without scanning the namespace's. */
  private readonly owned = new Map<string, Set<string>>();
  /** The controller of each object, to move it in `owned` when that changes. */
  private readonly ownerOf = new Map<string, string>();
  private synced = false;
  private stopped = false;
  private down = false;
  /** What went wrong during the current (re)connection, if anything. */
  private failure: unknown;
  private retryMs = FIRST_RETRY_MS;
  private upSince = performance.now();
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly api: KubeApi,
    private readonly resource: WatchedResource,
    private readonly namespace: string,
    private readonly events: WatchCacheEvents,
  ) {
    // As client-node's makeInformer builds it, with a Watch that reports what the informer would keep to itself.
    const watch = new ReportingWatch(api.kubeConfig, { cluster: api.cluster, failed: (error) => this.broke(error), stopped: () => this.stopped });
    this.informer = new ListWatch<T>(collectionPath(resource, namespace), watch, () => this.listAll(), false);
    this.informer.on(ADD, (obj) => this.saw(obj));
    this.informer.on(UPDATE, (obj) => this.saw(obj));
    this.informer.on(DELETE, (obj) => this.owner(obj, 'forget'));
    this.informer.on(ERROR, (error) => this.broke(error));
  }

  /** Lists and starts watching; rejects with what stopped it (the list's ClusterError, or the watch's HTTP error). */
  async sync(): Promise<void> {
    this.failure = undefined;
    await this.informer.start().catch((error: unknown) => (this.failure = error));
    if (this.failure !== undefined) {
      await this.informer.stop();
      throw this.failure;
    }
    this.synced = true;
  }

  /** Synced and watching: what it holds is the cluster as of moments ago. */
  get live(): boolean {
    return this.synced && !this.down && !this.stopped;
  }

  get(name: string): T | undefined {
    return this.informer.get(name, this.namespace);
  }

  list(filter: ListFilter): T[] {
    if (filter.controllerUid === undefined) return this.informer.list(this.namespace).filter(matches(filter));
    const names = this.owned.get(filter.controllerUid) ?? [];
    return [...names].map((name) => this.get(name)).filter((obj): obj is T => obj !== undefined && matches(filter)(obj));
  }

  /** Resolves true once the cache holds `name` at `resourceVersion` or later, false after `timeoutMs`. */
  observed(name: string, resourceVersion: string, timeoutMs: number): Promise<boolean> {
    if (reached(this.get(name)?.metadata?.resourceVersion, resourceVersion)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = { resourceVersion, resolve: () => done(true) };
      const timer = setTimeout(() => done(false), timeoutMs);
      const done = (seen: boolean) => {
        clearTimeout(timer);
        const left = (this.waiters.get(name) ?? []).filter((w) => w !== waiter);
        if (left.length) this.waiters.set(name, left);
        else this.waiters.delete(name);
        resolve(seen);
      };
      this.waiters.set(name, [...(this.waiters.get(name) ?? []), waiter]);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.informer.stop();
  }

  private async listAll(): Promise<KubernetesListObject<T>> {
    const { api, resource, namespace } = this;
    const list = (await api.call(resource.listOp, { kind: resource.kind, namespace }, () =>
      api.custom.listNamespacedCustomObject({ ...resource.api, namespace }, api.options()),
    )) as KubernetesListObject<T>;
    for (const item of list.items) slim(item);
    return list;
  }

  private owner(obj: T, change: 'keep' | 'forget'): void {
    const name = obj.metadata?.name ?? '';
    const before = this.ownerOf.get(name);
    const now = change === 'keep' ? obj.metadata?.ownerReferences?.find((ref) => ref.controller)?.uid : undefined;
    if (before === now) return;
    if (before !== undefined) {
      const names = this.owned.get(before);
      names?.delete(name);
      if (names?.size === 0) this.owned.delete(before);
      this.ownerOf.delete(name);
    }
    if (now !== undefined) {
      this.owned.set(now, (this.owned.get(now) ?? new Set<string>()).add(name));
      this.ownerOf.set(name, now);
    }
  }

  private saw(obj: T): void {
    slim(obj);
    this.owner(obj, 'keep');
    const name = obj.metadata?.name ?? '';
    for (const waiter of this.waiters.get(name) ?? []) if (reached(obj.metadata?.resourceVersion, waiter.resourceVersion)) waiter.resolve();
  }

  private broke(error: unknown): void {
    this.failure = error;
    if (!this.synced || this.stopped) return;
    if (!this.down) {
      this.down = true;
      // Back-off starts afresh only for a watch that had held a while: one that a proxy cuts every few seconds keeps backing off.
      if (performance.now() - this.upSince > HEALTHY_MS) this.retryMs = FIRST_RETRY_MS;
      this.events.down(error);
    }
    if (this.retryTimer) return;
    const delay = this.retryMs;
    this.retryMs = Math.min(MAX_RETRY_MS, this.retryMs * 2);
    this.retryTimer = setTimeout(() => void this.reconnect(), delay);
  }

  private async reconnect(): Promise<void> {
    this.retryTimer = undefined;
    if (this.stopped) return;
    this.failure = undefined;
    try {
      await this.informer.start();
    } catch (error) {
      // Failures before the request is made (credentials from a file or a plugin) reject instead of reporting.
      this.broke(error);
      return;
    }
    if (this.stopped) {
      await this.informer.stop();
      return;
    }
    // Back only once the watch holds: one cut as soon as it opens would otherwise be 'back' and 'broke' at every retry.
    if (this.failure === undefined && this.down) await sleep(CUT_WITHIN_MS, undefined, { ref: false });
    if (this.failure === undefined && this.down && !this.stopped) {
      this.down = false;
      this.upSince = performance.now();
      this.events.up();
    }
  }
}
