import type { OperationName } from './operations.js';

/** A namespaced resource Lifeguard reads often enough to keep a watched copy of. */
export interface WatchedResource {
  /** `Deployment`, `VirtualService`: for messages. */
  kind: string;
  api: { group: string; version: string; plural: string };
  /** Only for a resource read one object at a time. */
  getOp?: OperationName;
  listOp: OperationName;
  watchOp: OperationName;
}

/** A resource Lifeguard reads by name. */
export type NamedResource = WatchedResource & { getOp: OperationName };

export const DEPLOYMENTS: NamedResource = {
  kind: 'Deployment',
  api: { group: 'apps', version: 'v1', plural: 'deployments' },
  getOp: 'readDeployment',
  listOp: 'listDeployments',
  watchOp: 'watchDeployments',
};

export const REPLICA_SETS: WatchedResource = {
  kind: 'ReplicaSet',
  api: { group: 'apps', version: 'v1', plural: 'replicasets' },
  listOp: 'listReplicaSets',
  watchOp: 'watchReplicaSets',
};

/** The collection's path, as a watch URL needs it. */
export const collectionPath = (resource: WatchedResource, namespace: string) =>
  `/apis/${resource.api.group}/${resource.api.version}/namespaces/${encodeURIComponent(namespace)}/${resource.api.plural}`;
