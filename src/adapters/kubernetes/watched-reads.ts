import type { KubernetesObject } from '@kubernetes/client-node';
import type { KubeApi } from './api.js';
import { DirectReads } from './direct-reads.js';
import { ClusterError, describe, type Subject } from './errors.js';
import type { ListFilter, ObjectReads, ReadOptions } from './object-reads.js';
import { reached, WatchCache } from './watch-cache.js';
import type { NamedResource, WatchedResource } from './watched-resources.js';

/** What the watches of a cluster report, each once when it starts and once when it ends, never per read. */
export interface WatchLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface WatchedReadsOptions {
  /** How long a write may take to show in the cache before the caller goes on without it. */
  observeTimeoutMs?: number;
}

const objectKey = (resource: WatchedResource, namespace: string, name: string) => `${resource.api.plural}.${resource.api.group}/${namespace}/${name}`;

const isForbidden = (error: unknown) =>
  (error instanceof ClusterError && error.kind === 'forbidden') || (error as { statusCode?: number })?.statusCode === 403;

/**
 * Reads of one cluster from watched caches, one per resource and namespace, started by the first read that
 * needs it. A read goes to the API server instead (bounded by the cluster's request gate) where the copy cannot be
 * trusted: RBAC grants no list or watch there (said once), its watch is down, or it has not yet shown a write of
 * Lifeguard's own; and when the caller asks for it (`fresh`, before a read-modify-write).
 */
export class WatchedReads implements ObjectReads {
  private readonly caches = new Map<string, Promise<WatchCache<KubernetesObject> | 'direct'>>();
  private readonly direct: DirectReads;
  private readonly observeTimeoutMs: number;
  /** Writes the copies had not shown when `observed` gave up waiting: object key → the resourceVersion written. */
  private readonly unseen = new Map<string, string>();
  private stopped = false;

  constructor(
    private readonly api: KubeApi,
    private readonly log: WatchLog,
    opts: WatchedReadsOptions = {},
  ) {
    this.direct = new DirectReads(api);
    this.observeTimeoutMs = opts.observeTimeoutMs ?? 5_000;
  }

  async get<T extends KubernetesObject>(resource: NamedResource, subject: Subject & { name: string }, opts: ReadOptions = {}): Promise<T> {
    const cache = opts.fresh ? undefined : await this.liveCache(resource, subject.namespace);
    const key = objectKey(resource, subject.namespace, subject.name);
    const obj = cache?.get(subject.name);
    const written = this.unseen.get(key);
    if (written !== undefined && reached(obj?.metadata?.resourceVersion, written)) this.unseen.delete(key);
    if (!cache || this.unseen.has(key)) return this.direct.get<T>(resource, subject);
    if (!obj) {
      throw new ClusterError('not-found', `${describe(subject)} not found on cluster "${this.api.cluster}"${subject.configPath ? `: check ${subject.configPath} in lifeguard.yaml` : ''}`, 404);
    }
    return obj as T;
  }

  async list<T extends KubernetesObject>(resource: WatchedResource, namespace: string, filter: ListFilter, opts: ReadOptions = {}): Promise<T[]> {
    const cache = opts.fresh ? undefined : await this.liveCache(resource, namespace);
    if (!cache) return this.direct.list<T>(resource, namespace, filter);
    return cache.list(filter) as T[];
  }

  async observed(resource: WatchedResource, namespace: string, name: string, resourceVersion: string | undefined): Promise<void> {
    if (!resourceVersion) return;
    const cache = await this.liveCache(resource, namespace);
    if (!cache) return;
    if (!(await cache.observed(name, resourceVersion, this.observeTimeoutMs))) {
      this.unseen.set(objectKey(resource, namespace, name), resourceVersion);
      this.log.warn(
        { cluster: this.api.cluster, namespace, resource: resource.api.plural, name, resourceVersion },
        `a write to ${resource.kind} ${namespace}/${name} did not show in the watch within ${this.observeTimeoutMs} ms; it is read from the API server until it does`,
      );
    }
  }

  /** Ends every watch; reads after this go to the API server. */
  async stop(): Promise<void> {
    this.stopped = true;
    const caches = await Promise.allSettled(this.caches.values());
    this.caches.clear();
    await Promise.all(caches.map((c) => (c.status === 'fulfilled' && c.value !== 'direct' ? c.value.stop() : undefined)));
  }

  /** The synced copy of a resource in a namespace, unless it cannot serve reads now. */
  private async liveCache(resource: WatchedResource, namespace: string): Promise<WatchCache<KubernetesObject> | undefined> {
    if (this.stopped) return undefined;
    const cache = await this.cacheFor(resource, namespace);
    return cache !== 'direct' && cache.live ? cache : undefined;
  }

  /** The cache of a resource in a namespace, synced; concurrent first reads share one list. A failed sync is tried again by the next read. */
  private cacheFor(resource: WatchedResource, namespace: string): Promise<WatchCache<KubernetesObject> | 'direct'> {
    const key = `${resource.api.plural}.${resource.api.group}/${namespace}`;
    let cache = this.caches.get(key);
    if (!cache) {
      cache = this.start(resource, namespace);
      this.caches.set(key, cache);
      cache.catch(() => this.caches.delete(key));
    }
    return cache;
  }

  private async start(resource: WatchedResource, namespace: string): Promise<WatchCache<KubernetesObject> | 'direct'> {
    const where = { cluster: this.api.cluster, namespace, resource: resource.api.plural };
    const cache = new WatchCache<KubernetesObject>(this.api, resource, namespace, {
      down: (error) => this.log.warn({ ...where, err: error }, `the watch of ${resource.api.plural} in ${namespace} on cluster "${this.api.cluster}" broke; reads go to the API server while it reconnects`),
      up: () => this.log.info(where, `the watch of ${resource.api.plural} in ${namespace} on cluster "${this.api.cluster}" is back`),
    });
    try {
      await cache.sync();
      return cache;
    } catch (error) {
      if (!isForbidden(error)) {
        if (error instanceof ClusterError) throw error;
        const status = (error as { statusCode?: number }).statusCode;
        throw new ClusterError('unavailable', `cannot watch ${resource.api.plural} in ${namespace} on cluster "${this.api.cluster}": ${(error as Error).message}${status ? ` (HTTP ${status})` : ''}`, status);
      }
      this.log.warn(
        { ...where, err: error },
        `Lifeguard may not list and watch ${resource.api.plural} in ${namespace} on cluster "${this.api.cluster}", so it reads them from the API server each time: grant list and watch (manifests/rbac.yaml) to spare the API server`,
      );
      return 'direct';
    }
  }
}
