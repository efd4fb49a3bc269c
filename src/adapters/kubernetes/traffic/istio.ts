import type { ServiceEnvironment } from '../../../config/schema.js';
import type { RouteKind } from './weighted-routes.js';

const shortHost = (host: string | undefined) => (host ?? '').split('.')[0];

/**
 * An Istio VirtualService: a destination is the canary when its subset is `canary` or names the canary
 * Deployment, or its host is named after the canary Deployment; every other destination is the stable.
 */
export const ISTIO: RouteKind = {
  source: 'istio',
  resource: {
    kind: 'VirtualService',
    api: { group: 'networking.istio.io', version: 'v1', plural: 'virtualservices' },
    getOp: 'readVirtualService',
    listOp: 'listVirtualServices',
    watchOp: 'watchVirtualServices',
  },
  patchOp: 'patchVirtualService',
  ref(settings: ServiceEnvironment, configBase: string) {
    if (!('istio' in settings.traffic)) throw new Error(`${configBase} is not an Istio route`);
    return { name: settings.traffic.istio.virtualService, routeName: settings.traffic.istio.route, configPath: `${configBase}.istio.virtualService` };
  },
  lists: (doc) => (doc.spec?.http ?? []).map((r, i) => ({ name: r.name, list: r.route ?? [], pointer: `/spec/http/${i}/route` })),
  isCanary(d, settings) {
    const subset = d.destination?.subset;
    return subset === 'canary' || subset === settings.canary || shortHost(d.destination?.host) === settings.canary;
  },
  howToAddCanary: (settings) => `a destination with subset "canary" (or host "${settings.canary}")`,
};
