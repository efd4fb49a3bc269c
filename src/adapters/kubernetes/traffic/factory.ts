import type { Traffic } from '../../../config/schema.js';
import type { ServiceTarget, TrafficWeights } from '../../../domain/cluster-state.js';
import type { TrafficRouter } from '../../../ports.js';
import type { ClusterApis } from '../apis.js';
import type { Deployments } from '../deployments.js';
import { ClusterError } from '../errors.js';
import { GATEWAY_API } from './gateway-api.js';
import { ISTIO } from './istio.js';
import { ReplicaRatioRouter } from './replicas.js';
import { RouteObjectRouter } from './route-object.js';

export type TrafficSource = TrafficWeights['source'];

/** Which router a service's `traffic` setting names. */
export function trafficSource(traffic: Traffic): TrafficSource {
  if ('istio' in traffic) return 'istio';
  if ('gatewayApi' in traffic) return 'gatewayApi';
  return 'replicas';
}

/** The router of one kind. A new kind (SMI, Linkerd, Nginx) is one file and one case here. */
export function createTrafficRouter(source: TrafficSource, deps: { apis: ClusterApis; deployments: Deployments }): TrafficRouter {
  switch (source) {
    case 'istio':
      return new RouteObjectRouter(ISTIO, deps.apis);
    case 'gatewayApi':
      return new RouteObjectRouter(GATEWAY_API, deps.apis);
    case 'replicas':
      return new ReplicaRatioRouter(deps.deployments);
  }
}

/** The TrafficRouter port over every service: each target goes to the router its config names. */
export class KubernetesTrafficRouter implements TrafficRouter {
  private readonly routers = new Map<TrafficSource, TrafficRouter>();

  constructor(private readonly deps: { apis: ClusterApis; deployments: Deployments }) {}

  private routerFor(target: ServiceTarget): TrafficRouter {
    const source = trafficSource(target.settings.traffic);
    let router = this.routers.get(source);
    if (!router) {
      router = createTrafficRouter(source, this.deps);
      this.routers.set(source, router);
    }
    return router;
  }

  read(target: ServiceTarget): Promise<TrafficWeights> {
    return this.routerFor(target).read(target);
  }

  async set(target: ServiceTarget, canaryPercent: number): Promise<TrafficWeights> {
    checkPercent(canaryPercent);
    return this.routerFor(target).set(target, canaryPercent);
  }

  async verify(target: ServiceTarget, canaryPercent: number): Promise<boolean> {
    checkPercent(canaryPercent);
    return this.routerFor(target).verify(target, canaryPercent);
  }
}

function checkPercent(canaryPercent: number): void {
  if (!Number.isInteger(canaryPercent) || canaryPercent < 0 || canaryPercent > 100) {
    throw new ClusterError('config', `canary traffic weight must be a whole percentage from 0 to 100, got ${canaryPercent}`);
  }
}
