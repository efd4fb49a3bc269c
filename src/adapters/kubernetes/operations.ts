/**
 * Every Kubernetes API call Lifeguard makes, with the RBAC verb and resource it needs. The adapter
 * can only call the API through these names, and manifests/rbac.yaml is tested against this table,
 * so the granted permissions and the code cannot drift apart.
 */
export interface ApiOperation {
  verb: 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch';
  /** API group; '' is the core group. */
  group: string;
  /** Resource, or `resource/subresource`. */
  resource: string;
}

export const OPERATIONS = {
  readDeployment: { verb: 'get', group: 'apps', resource: 'deployments' },
  listDeployments: { verb: 'list', group: 'apps', resource: 'deployments' },
  watchDeployments: { verb: 'watch', group: 'apps', resource: 'deployments' },
  patchDeployment: { verb: 'patch', group: 'apps', resource: 'deployments' },
  patchDeploymentScale: { verb: 'patch', group: 'apps', resource: 'deployments/scale' },
  listReplicaSets: { verb: 'list', group: 'apps', resource: 'replicasets' },
  watchReplicaSets: { verb: 'watch', group: 'apps', resource: 'replicasets' },
  listPods: { verb: 'list', group: '', resource: 'pods' },
  readPodLog: { verb: 'get', group: '', resource: 'pods/log' },
  listEvents: { verb: 'list', group: '', resource: 'events' },
  readVirtualService: { verb: 'get', group: 'networking.istio.io', resource: 'virtualservices' },
  listVirtualServices: { verb: 'list', group: 'networking.istio.io', resource: 'virtualservices' },
  watchVirtualServices: { verb: 'watch', group: 'networking.istio.io', resource: 'virtualservices' },
  patchVirtualService: { verb: 'patch', group: 'networking.istio.io', resource: 'virtualservices' },
  readHttpRoute: { verb: 'get', group: 'gateway.networking.k8s.io', resource: 'httproutes' },
  listHttpRoutes: { verb: 'list', group: 'gateway.networking.k8s.io', resource: 'httproutes' },
  watchHttpRoutes: { verb: 'watch', group: 'gateway.networking.k8s.io', resource: 'httproutes' },
  patchHttpRoute: { verb: 'patch', group: 'gateway.networking.k8s.io', resource: 'httproutes' },
  readLease: { verb: 'get', group: 'coordination.k8s.io', resource: 'leases' },
  createLease: { verb: 'create', group: 'coordination.k8s.io', resource: 'leases' },
  updateLease: { verb: 'update', group: 'coordination.k8s.io', resource: 'leases' },
  readCheckpointConfigMap: { verb: 'get', group: '', resource: 'configmaps' },
  createCheckpointConfigMap: { verb: 'create', group: '', resource: 'configmaps' },
  updateCheckpointConfigMap: { verb: 'update', group: '', resource: 'configmaps' },
} as const satisfies Record<string, ApiOperation>;

export type OperationName = keyof typeof OPERATIONS;

/**
 * Lease and audit-checkpoint ConfigMap operations are granted in Lifeguard's own namespace, each by its own Role;
 * the rest in the namespaces of the services it releases.
 */
export const isLeaseOperation = (name: OperationName) => OPERATIONS[name].resource === 'leases';
export const isCheckpointOperation = (name: OperationName) => OPERATIONS[name].resource === 'configmaps';
