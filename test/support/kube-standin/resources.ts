/** The resource types this stand-in serves, as its discovery documents describe them. */
export interface ResourceType {
  group: string;
  version: string;
  plural: string;
  singular: string;
  kind: string;
  shortNames?: string[];
  /** Built-in kinds accept strategic merge patches; custom resources do not. */
  builtIn: boolean;
  subresources: string[];
  /** Whether changes to it bump `metadata.generation` (objects with a spec). */
  generation: boolean;
  /** Whether `status` is a subresource, so writes to the main resource keep the stored status. */
  statusSubresource: boolean;
}

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export const RESOURCE_TYPES: ResourceType[] = [
  { group: '', version: 'v1', plural: 'pods', singular: 'pod', kind: 'Pod', shortNames: ['po'], builtIn: true, subresources: ['log', 'status'], generation: true, statusSubresource: true },
  { group: '', version: 'v1', plural: 'configmaps', singular: 'configmap', kind: 'ConfigMap', shortNames: ['cm'], builtIn: true, subresources: [], generation: false, statusSubresource: false },
  { group: '', version: 'v1', plural: 'events', singular: 'event', kind: 'Event', shortNames: ['ev'], builtIn: true, subresources: [], generation: false, statusSubresource: false },
  { group: 'apps', version: 'v1', plural: 'deployments', singular: 'deployment', kind: 'Deployment', shortNames: ['deploy'], builtIn: true, subresources: ['scale', 'status'], generation: true, statusSubresource: true },
  { group: 'apps', version: 'v1', plural: 'replicasets', singular: 'replicaset', kind: 'ReplicaSet', shortNames: ['rs'], builtIn: true, subresources: ['scale', 'status'], generation: true, statusSubresource: true },
  { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', singular: 'lease', kind: 'Lease', builtIn: true, subresources: [], generation: false, statusSubresource: false },
  { group: 'networking.istio.io', version: 'v1', plural: 'virtualservices', singular: 'virtualservice', kind: 'VirtualService', shortNames: ['vs'], builtIn: false, subresources: ['status'], generation: true, statusSubresource: true },
  { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes', singular: 'httproute', kind: 'HTTPRoute', builtIn: false, subresources: ['status'], generation: true, statusSubresource: true },
];

export const apiVersionOf = (t: ResourceType) => (t.group ? `${t.group}/${t.version}` : t.version);

/** `deployments.apps`, `pods`: how the API server names a resource in messages. */
export const qualifiedName = (t: ResourceType) => (t.group ? `${t.plural}.${t.group}` : t.plural);

export function findType(group: string, version: string, plural: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((t) => t.group === group && t.version === version && t.plural === plural);
}

export function typeOfKind(kind: string): ResourceType {
  const type = RESOURCE_TYPES.find((t) => t.kind === kind);
  if (!type) throw new Error(`stand-in does not serve kind ${kind}`);
  return type;
}

export function discoveryRoot(): unknown {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }] };
}

export function groupList(): unknown {
  const groups = [...new Set(RESOURCE_TYPES.filter((t) => t.group).map((t) => t.group))];
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: groups.map((name) => {
      const version = RESOURCE_TYPES.find((t) => t.group === name)!.version;
      const gv = { groupVersion: `${name}/${version}`, version };
      return { name, versions: [gv], preferredVersion: gv };
    }),
  };
}

export function resourceList(group: string, version: string): unknown | undefined {
  const types = RESOURCE_TYPES.filter((t) => t.group === group && t.version === version);
  if (types.length === 0) return undefined;
  const namespaces = group === '' ? [{ name: 'namespaces', singularName: 'namespace', namespaced: false, kind: 'Namespace', verbs: ['get', 'list'], shortNames: ['ns'] }] : [];
  const resources = types.flatMap((t) => [
    { name: t.plural, singularName: t.singular, namespaced: true, kind: t.kind, verbs: VERBS, ...(t.shortNames ? { shortNames: t.shortNames } : {}) },
    ...t.subresources.map((sub) => ({
      name: `${t.plural}/${sub}`,
      singularName: '',
      namespaced: true,
      kind: sub === 'scale' ? 'Scale' : sub === 'log' ? 'Pod' : t.kind,
      ...(sub === 'scale' ? { group: 'autoscaling', version: 'v1' } : {}),
      verbs: sub === 'log' ? ['get'] : ['get', 'patch', 'update'],
    })),
  ]);
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources: [...namespaces, ...resources] };
}
