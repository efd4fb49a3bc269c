import type { ServiceEnvironment } from '../../../config/schema.js';
import type { OperationName } from '../operations.js';
import { ClusterError } from '../errors.js';
import type { NamedResource } from '../watched-resources.js';

/**
 * Finding and rewriting the stable/canary weights inside a route object (an Istio VirtualService, a Gateway
 * API HTTPRoute). Each kind describes itself with a `RouteKind`; the weight arithmetic is shared.
 */

export interface Destination {
  weight?: number;
  destination?: { host?: string; subset?: string };
  name?: string;
}

export interface RouteDoc {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
  spec?: { http?: { name?: string; route?: Destination[] }[]; rules?: { name?: string; backendRefs?: Destination[] }[] };
}

/** One list of weighted destinations inside the object, with where it lives. */
export interface DestinationList {
  name: string | undefined;
  list: Destination[];
  /** JSON pointer to the list. */
  pointer: string;
}

/** What differs between kinds of route object; everything else is in this file. */
export interface RouteKind {
  source: 'istio' | 'gatewayApi';
  /** How the route object is read and watched; its `kind` (`VirtualService`, `HTTPRoute`) is also for messages. */
  resource: NamedResource;
  patchOp: OperationName;
  /** The object's name, the named route to use (if any), and where lifeguard.yaml set them. */
  ref(settings: ServiceEnvironment, configBase: string): { name: string; routeName?: string | undefined; configPath: string };
  lists(doc: RouteDoc): DestinationList[];
  isCanary(destination: Destination, settings: ServiceEnvironment): boolean;
  /** What to add to the object when it has no canary destination. */
  howToAddCanary(settings: ServiceEnvironment): string;
}

export interface WeightedRoute {
  pointer: string;
  destinations: Destination[];
  canaryIndexes: number[];
  stableIndexes: number[];
}

/** The routes that split traffic between stable and canary; throws when there is none. */
export function weightedRoutes(kind: RouteKind, doc: RouteDoc, settings: ServiceEnvironment, routeName: string | undefined): WeightedRoute[] {
  const objectName = `${kind.resource.kind} ${doc.metadata?.namespace}/${doc.metadata?.name}`;
  const lists = kind.lists(doc);
  let candidates = lists;
  if (routeName) {
    candidates = lists.filter((l) => l.name === routeName);
    if (candidates.length === 0) {
      throw new ClusterError('config', `${objectName} has no route named "${routeName}" (it has ${lists.map((l) => l.name ?? '(unnamed)').join(', ') || 'none'}): check traffic.${kind.source}.route in lifeguard.yaml`);
    }
  }
  const routes = candidates
    .map(({ list, pointer }) => {
      const canary = list.map((d) => kind.isCanary(d, settings));
      return {
        pointer,
        destinations: list,
        canaryIndexes: canary.flatMap((c, i) => (c ? [i] : [])),
        stableIndexes: canary.flatMap((c, i) => (c ? [] : [i])),
      };
    })
    .filter((r) => r.canaryIndexes.length > 0 && r.stableIndexes.length > 0);
  if (routes.length === 0) {
    throw new ClusterError('config', `${objectName} has no route with both a stable and a canary destination: add ${kind.howToAddCanary(settings)} with weight 0 next to the stable one`);
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

/** Whether every weighted route gives the canary exactly `canaryPercent`. */
export const allRoutesAt = (routes: WeightedRoute[], canaryPercent: number) => routes.every((r) => readWeights([r]).canary === canaryPercent);

/** JSON patch operations that set every weighted route to the given split, guarded by the resourceVersion read. */
export function weightPatch(routes: WeightedRoute[], canaryPercent: number, resourceVersion: string): object[] {
  const ops: object[] = [{ op: 'replace', path: '/metadata/resourceVersion', value: resourceVersion }];
  for (const route of routes) {
    const first = (indexes: number[], share: number) => indexes.map((i, n) => ({ op: 'add', path: `${route.pointer}/${i}/weight`, value: n === 0 ? share : 0 }));
    ops.push(...first(route.canaryIndexes, canaryPercent), ...first(route.stableIndexes, 100 - canaryPercent));
  }
  return ops;
}
