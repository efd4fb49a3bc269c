import type { KubernetesObject } from '@kubernetes/client-node';
import type { Subject } from './errors.js';
import type { NamedResource, WatchedResource } from './watched-resources.js';

/**
 * How the adapter reads the objects it acts on: straight from the API server (a one-shot CLI), or from a copy
 * kept current by watches (the long-running service, whose ticks then cost the API server nothing).
 */
export interface ObjectReads {
  /**
   * One object as the API server's JSON; a `not-found` ClusterError when there is none. `fresh` reads the server
   * itself: a read-modify-write must start from what the server has, not from a copy a few milliseconds behind.
   */
  get<T extends KubernetesObject>(resource: NamedResource, subject: Subject & { name: string }, opts?: ReadOptions): Promise<T>;
  /** The namespace's objects that match the filter. */
  list<T extends KubernetesObject>(resource: WatchedResource, namespace: string, filter: ListFilter, opts?: ReadOptions): Promise<T[]>;
  /**
   * Resolves once reads reflect a write the API server answered with `resourceVersion`: a step is done when the
   * cluster is observed in the wanted state, and the next read must not show the state from before the write.
   */
  observed(resource: WatchedResource, namespace: string, name: string, resourceVersion: string | undefined): Promise<void>;
  /** Ends every watch. */
  stop(): Promise<void>;
}

export interface ReadOptions {
  /** From the API server, whatever the copies hold. */
  fresh?: boolean;
}

export interface ListFilter {
  /** Every one of these labels (a Deployment's selector). */
  labels?: Record<string, string> | undefined;
  /** Only objects this controller owns (a Deployment's ReplicaSets). */
  controllerUid?: string | undefined;
}

export const matches = (filter: ListFilter) => (obj: KubernetesObject) =>
  Object.entries(filter.labels ?? {}).every(([k, v]) => obj.metadata?.labels?.[k] === v) &&
  (filter.controllerUid === undefined || (obj.metadata?.ownerReferences ?? []).some((ref) => ref.controller && ref.uid === filter.controllerUid));
