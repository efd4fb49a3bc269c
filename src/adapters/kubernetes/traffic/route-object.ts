import { PatchStrategy } from '@kubernetes/client-node';
import type { ServiceTarget, TrafficWeights } from '../../../domain/cluster-state.js';
import type { TrafficRouter } from '../../../ports.js';
import type { ClusterApis } from '../apis.js';
import type { ReadOptions } from '../object-reads.js';
import { allRoutesAt, readWeights, weightPatch, weightedRoutes, type RouteDoc, type RouteKind } from './weighted-routes.js';

/** Weights kept in a route object of the cluster (VirtualService, HTTPRoute): read, patched and verified there. */
export class RouteObjectRouter implements TrafficRouter {
  constructor(
    private readonly kind: RouteKind,
    private readonly apis: ClusterApis,
  ) {}

  private ref(target: ServiceTarget) {
    const ref = this.kind.ref(target.settings, `services.${target.service}.environments.${target.environment}.traffic`);
    return { ...ref, subject: { kind: this.kind.resource.kind, namespace: target.settings.namespace, name: ref.name, configPath: ref.configPath } };
  }

  private async routes(target: ServiceTarget, opts: ReadOptions = {}) {
    const ref = this.ref(target);
    const doc = await this.apis.readsFor(target).get<RouteDoc & { metadata: object }>(this.kind.resource, ref.subject, opts);
    return { doc, routes: weightedRoutes(this.kind, doc, target.settings, ref.routeName) };
  }

  async read(target: ServiceTarget): Promise<TrafficWeights> {
    const { routes } = await this.routes(target);
    return { ...readWeights(routes), source: this.kind.source };
  }

  async set(target: ServiceTarget, canaryPercent: number): Promise<TrafficWeights> {
    const api = this.apis.for(target);
    const ref = this.ref(target);
    return api.retryOnConflict(ref.subject, async () => {
      const { doc, routes } = await this.routes(target, { fresh: true });
      if (allRoutesAt(routes, canaryPercent)) return { ...readWeights(routes), source: this.kind.source };
      const body = weightPatch(routes, canaryPercent, doc.metadata?.resourceVersion ?? '');
      const patched = (await api.call(this.kind.patchOp, ref.subject, () =>
        api.custom.patchNamespacedCustomObject({ ...this.kind.resource.api, namespace: target.settings.namespace, name: ref.name, body }, api.options(PatchStrategy.JsonPatch)),
      )) as RouteDoc;
      await this.apis.readsFor(target).observed(this.kind.resource, target.settings.namespace, ref.name, patched.metadata?.resourceVersion);
      return { ...readWeights(weightedRoutes(this.kind, patched, target.settings, ref.routeName)), source: this.kind.source };
    });
  }

  async verify(target: ServiceTarget, canaryPercent: number): Promise<boolean> {
    return allRoutesAt((await this.routes(target)).routes, canaryPercent);
  }
}
