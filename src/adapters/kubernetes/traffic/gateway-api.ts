import type { ServiceEnvironment } from '../../../config/schema.js';
import type { RouteKind } from './weighted-routes.js';

/** A Gateway API HTTPRoute: the backendRef to the Service named after the canary Deployment is the canary. */
export const GATEWAY_API: RouteKind = {
  source: 'gatewayApi',
  resource: {
    kind: 'HTTPRoute',
    api: { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes' },
    getOp: 'readHttpRoute',
    listOp: 'listHttpRoutes',
    watchOp: 'watchHttpRoutes',
  },
  patchOp: 'patchHttpRoute',
  ref(settings: ServiceEnvironment, configBase: string) {
    if (!('gatewayApi' in settings.traffic)) throw new Error(`${configBase} is not a Gateway API route`);
    return { name: settings.traffic.gatewayApi.httpRoute, configPath: `${configBase}.gatewayApi.httpRoute` };
  },
  lists: (doc) => (doc.spec?.rules ?? []).map((r, i) => ({ name: r.name, list: r.backendRefs ?? [], pointer: `/spec/rules/${i}/backendRefs` })),
  isCanary: (d, settings) => d.name === settings.canary,
  howToAddCanary: (settings) => `a backendRef to the Service "${settings.canary}"`,
};
