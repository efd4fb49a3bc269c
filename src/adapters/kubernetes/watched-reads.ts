import type { KubernetesObject } from '@kubernetes/client-node';
import type { KubeApi } from './api.js';
import { DirectReads } from './direct-reads.js';
import { ClusterError, describe, type Subject } from './errors.js';
import type { ListFilter, ObjectReads } from './object-reads.js';
import { WatchCache } from './watch-cache.js';
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

const isForbidden = (error: unknown) =>
  (error instanceof ClusterError && error.kind === 'forbidden') || (error as { statusCode?: number })?.statusCode === 403;

/**
 * Reads of one cluster from watched caches, one per resource and namespace, started by the first read that
 * needs it. Where RBAC grants no list or watch, that resource and namespace falls back to reading the server
 * each time (bounded by the cluster's request gate), and says so once.
 */
export class WatchedReads implements ObjectReads {
  private readonly caches = new Map<string, Promise<WatchCache<KubernetesObject> | 'direct'>>();
  private readonly direct: DirectReads;
  private readonly observeTimeoutMs: number;

  constructor(
    private readonly api: KubeApi,
    private readonly log: WatchLog,
    opts: WatchedReadsOptions = {},
  ) {
    this.direct = new DirectReads(api);
    this.observeTimeoutMs = opts.observeTimeoutMs ?? 5_000;
  }

  async get<T extends KubernetesObject>(resource: NamedResource, subject: Subject & { name: string }): Promise<T> {
    const cache = await this.cacheFor(resource, subject.namespace);
    if (cache === 'direct') return this.direct.get<T>(resource, subject);
    const obj = cache.get(subject.name);
    if (!obj) {
      throw new ClusterError('not-found', `${describe(subject)} not found on cluster "${this.api.cluster}"${subject.configPath ? `: check ${subject.configPath} in lifeguard.yaml` : ''}`, 404);
    }
    return obj as T;
  }

  async list<T extends KubernetesObject>(resource: WatchedResource, namespace: string, filter: ListFilter): Promise<T[]> {
    const cache = await this.cacheFor(resource, namespace);
    if (cache === 'direct') return this.direct.list<T>(resource, namespace, filter);
    return cache.list(filter) as T[];
  }

  async observed(resource: WatchedResource, namespace: string, name: string, resourceVersion: string | undefined): Promise<void> {
    if (!resourceVersion) return;
    const cache = await this.cacheFor(resource, namespace);
    if (cache === 'direct') return;
    if (!(await cache.observed(name, resourceVersion, this.observeTimeoutMs))) {
      this.log.warn(
        { cluster: this.api.cluster, namespace, resource: resource.api.plural, name, resourceVersion },
        `a write to ${resource.kind} ${namespace}/${name} did not show in the watch within ${this.observeTimeoutMs} ms; reads may lag until it does`,
      );
    }
  }

  async stop(): Promise<void> {
    const caches = await Promise.allSettled(this.caches.values());
    this.caches.clear();
    await Promise.all(caches.map((c) => (c.status === 'fulfilled' && c.value !== 'direct' ? c.value.stop() : undefined)));
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
      down: (error) => this.log.warn({ ...where, err: error }, `the watch of ${resource.api.plural} in ${namespace} on cluster "${this.api.cluster}" broke; reads use the last state seen while it reconnects`),
      up: () => this.log.info(where, `the watch of ${resource.api.plural} in ${namespace} on cluster "${this.api.cluster}" is back`),
    });
    try {
      await cache.sync();
      return cache;
    } catch (error) {
      if (!isForbidden(error)) throw error instanceof ClusterError ? error : new ClusterError('unavailable', `cannot watch ${resource.api.plural} in ${namespace} on cluster "${this.api.cluster}": ${(error as Error).message}`);
      this.log.warn(
        { ...where, err: error },
        `Lifeguard may not list and watch ${resource.api.plural} in ${namespace} on cluster "${this.api.cluster}", so it reads them from the API server each time: grant list and watch (manifests/rbac.yaml) to spare the API server`,
      );
      return 'direct';
    }
  }
}
