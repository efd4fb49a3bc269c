import type { DeploymentState, Revision, ServiceState } from '../../src/domain/cluster-state.js';

/*
 * checkout's cluster state as the Workloads port returns it, for tests of the domain and of flows without servers.
 * A revision's pod template is named after its tag, so equal tags mean equal templates.
 */

/** Revision `n` of checkout's stable Deployment, running `shop/checkout:<tag>`. */
export const revision = (n: number, tag: string, formerRevisions: number[] = []): Revision => ({
  revision: n,
  replicaSet: `checkout-${n}`,
  images: { app: `shop/checkout:${tag}` },
  createdAt: '2026-11-01T00:00:00Z',
  replicas: 0,
  formerRevisions,
  template: `t-${tag}`,
});

/** A Deployment running `r`'s template with every pod ready. */
export function deploymentOf(r: Revision, name = 'checkout', replicas = 3): DeploymentState {
  return {
    namespace: 'shop',
    name,
    image: r.images.app!,
    images: r.images,
    replicas: { desired: replicas, current: replicas, updated: replicas, ready: replicas, available: replicas },
    revision: r.revision,
    generation: 1,
    observedGeneration: 1,
    paused: false,
    conditions: [],
    template: r.template,
  };
}

/** checkout in production: the stable runs `current`, `others` are its older revisions, the canary gets `canaryShare` percent. */
export function serviceState(current: Revision, others: Revision[] = [], canaryShare = 0, canaryReplicas = 3): ServiceState {
  return {
    service: 'checkout',
    environment: 'production',
    stable: deploymentOf(current),
    canary: deploymentOf(current, 'checkout-canary', canaryReplicas),
    history: [current, ...others].sort((a, b) => b.revision - a.revision),
    traffic: { stable: 100 - canaryShare, canary: canaryShare, source: 'istio' },
  };
}
