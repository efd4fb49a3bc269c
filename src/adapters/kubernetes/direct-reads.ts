import type { KubernetesObject } from '@kubernetes/client-node';
import type { KubeApi } from './api.js';
import type { Subject } from './errors.js';
import { matches, type ListFilter, type ObjectReads } from './object-reads.js';
import type { NamedResource, WatchedResource } from './watched-resources.js';

export const selectorString = (labels: Record<string, string> | undefined) =>
  Object.entries(labels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

/**
 * Every read is a request to the API server. Read as the server's JSON (through the custom-objects client,
 * same path, same RBAC) rather than client-node's typed models, which drop fields they do not know: a rollback
 * must copy a pod template exactly, including fields newer than this library.
 */
export class DirectReads implements ObjectReads {
  constructor(private readonly api: KubeApi) {}

  async get<T extends KubernetesObject>(resource: NamedResource, subject: Subject & { name: string }): Promise<T> {
    const { api } = this;
    return (await api.call(resource.getOp, subject, () =>
      api.custom.getNamespacedCustomObject({ ...resource.api, namespace: subject.namespace, name: subject.name }, api.options()),
    )) as T;
  }

  async list<T extends KubernetesObject>(resource: WatchedResource, namespace: string, filter: ListFilter): Promise<T[]> {
    const { api } = this;
    const list = (await api.call(resource.listOp, { kind: resource.kind, namespace }, () =>
      api.custom.listNamespacedCustomObject({ ...resource.api, namespace, labelSelector: selectorString(filter.labels) }, api.options()),
    )) as { items: T[] };
    return list.items.filter(matches(filter));
  }

  /** The next read goes to the server, which has the write. */
  async observed(): Promise<void> {}

  async stop(): Promise<void> {}
}
