import type { ServiceEnvironment } from '../../config/schema.js';
import { ClusterError } from './errors.js';

/**
 * Finding and rewriting the stable/canary weights inside an Istio VirtualService or a Gateway API
 * HTTPRoute. A destination is the canary when its subset is `canary` or names the canary
 * Deployment, or its host or backend Service is named after the canary Deployment; every other
 * destination of the route is the stable.
 */

interface Destination {
  weight?: number;
  destination?: { host?: string; subset?: string };
  name?: string;
}

export interface RouteDoc {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
  spec?: { http?: { name?: string; route?: Destination[] }[]; rules?: { name?: string; backendRefs?: Destination[] }[] };
}

export interface WeightedRoute {
  /** JSON pointer to the route's destination list. */
  pointer: string;
  destinations: Destination[];
  canaryIndexes: number[];
  stableIndexes: number[];
}

const shortHost = (host: string | undefined) => (host ?? '').split('.')[0];

function classify(kind: 'istio' | 'gatewayApi', d: Destination, settings: ServiceEnvironment): 'canary' | 'stable' {
  if (kind === 'istio') {
    const subset = d.destination?.subset;
    if (subset === 'canary' || subset === settings.canary || shortHost(d.destination?.host) === settings.canary) return 'canary';
    return 'stable';
  }
  return d.name === settings.canary ? 'canary' : 'stable';
}

/** The routes that split traffic between stable and canary; throws when there is none. */
export function weightedRoutes(kind: 'istio' | 'gatewayApi', doc: RouteDoc, settings: ServiceEnvironment, routeName: string | undefined): WeightedRoute[] {
  const objectName = `${kind === 'istio' ? 'VirtualService' : 'HTTPRoute'} ${doc.metadata?.namespace}/${doc.metadata?.name}`;
  const lists = kind === 'istio' ? (doc.spec?.http ?? []).map((r, i) => ({ name: r.name, list: r.route ?? [], pointer: `/spec/http/${i}/route` })) : (doc.spec?.rules ?? []).map((r, i) => ({ name: r.name, list: r.backendRefs ?? [], pointer: `/spec/rules/${i}/backendRefs` }));
  let candidates = lists;
  if (routeName) {
    candidates = lists.filter((l) => l.name === routeName);
    if (candidates.length === 0) {
      throw new ClusterError('config', `${objectName} has no route named "${routeName}" (it has ${lists.map((l) => l.name ?? '(unnamed)').join(', ') || 'none'}): check traffic.istio.route in lifeguard.yaml`);
    }
  }
  const routes = candidates
    .map(({ list, pointer }) => {
      const kinds = list.map((d) => classify(kind, d, settings));
      return {
        pointer,
        destinations: list,
        canaryIndexes: kinds.flatMap((k, i) => (k === 'canary' ? [i] : [])),
        stableIndexes: kinds.flatMap((k, i) => (k === 'stable' ? [i] : [])),
      };
    })
    .filter((r) => r.canaryIndexes.length > 0 && r.stableIndexes.length > 0);
  if (routes.length === 0) {
    const how = kind === 'istio' ? `a destination with subset "canary" (or host "${settings.canary}")` : `a backendRef to the Service "${settings.canary}"`;
    throw new ClusterError('config', `${objectName} has no route with both a stable and a canary destination: add ${how} with weight 0 next to the stable one`);
  }
  return routes;
}

/** The canary's share of the first weighted route, in percent. */
export function readWeights(routes: WeightedRoute[]): { stable: number; canary: number } {
  const route = routes[0]!;
  const weightOf = (i: number) => route.destinations[i]!.weight ?? (route.destinations.length === 1 ? 100 : 0);
  const canary = route.canaryIndexes.reduce((n, i) => n + weightOf(i), 0);
  const stable = route.stableIndexes.reduce((n, i) => n + weightOf(i), 0);
  const total = canary + stable;
  if (total === 0) return { stable: 100, canary: 0 };
  const canaryPercent = Math.round((canary * 100) / total);
  return { stable: 100 - canaryPercent, canary: canaryPercent };
}

/** JSON patch operations that set every weighted route to the given split, guarded by the resourceVersion read. */
export function weightPatch(routes: WeightedRoute[], canaryPercent: number, resourceVersion: string): object[] {
  const ops: object[] = [{ op: 'replace', path: '/metadata/resourceVersion', value: resourceVersion }];
  for (const route of routes) {
    const first = (indexes: number[], share: number) => indexes.map((i, n) => ({ op: 'add', path: `${route.pointer}/${i}/weight`, value: n === 0 ? share : 0 }));
    ops.push(...first(route.canaryIndexes, canaryPercent), ...first(route.stableIndexes, 100 - canaryPercent));
  }
  return ops;
}

/** Replica counts that approximate a traffic split when there is no mesh: the total stays the same. */
export function replicaSplit(stableReplicas: number, canaryReplicas: number, canaryPercent: number): { stable: number; canary: number } {
  if (canaryPercent === 0) return { stable: Math.max(1, stableReplicas + canaryReplicas), canary: 0 };
  const total = Math.max(stableReplicas + canaryReplicas, canaryPercent === 100 ? 1 : 2);
  if (canaryPercent === 100) return { stable: 0, canary: total };
  const canary = Math.min(total - 1, Math.max(1, Math.round((total * canaryPercent) / 100)));
  return { stable: total - canary, canary };
}
