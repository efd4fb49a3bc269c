import { typeOfKind } from './resources.js';
import type { KubeStandin } from './server.js';

export const CHECKOUT_IMAGE = 'registry.example.com/shop/checkout';

/** The `checkout` Deployment pair as the example config describes it. */
export function checkoutDeployment(opts: { namespace: string; name: string; track: 'stable' | 'canary'; image: string; replicas: number; progressDeadlineSeconds?: number; changeCause?: string }) {
  const labels = { app: 'checkout', track: opts.track };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: opts.name, namespace: opts.namespace, labels, ...(opts.changeCause ? { annotations: { 'kubernetes.io/change-cause': opts.changeCause } } : {}) },
    spec: {
      replicas: opts.replicas,
      selector: { matchLabels: labels },
      ...(opts.progressDeadlineSeconds ? { progressDeadlineSeconds: opts.progressDeadlineSeconds } : {}),
      template: {
        metadata: { labels: { ...labels, version: opts.track === 'stable' ? 'baseline' : 'canary' } },
        spec: {
          containers: [
            { name: 'app', image: opts.image, ports: [{ containerPort: 8080, name: 'http' }], readinessProbe: { httpGet: { path: '/readyz', port: 'http' } } },
            { name: 'metrics-sidecar', image: 'registry.example.com/tools/statsd-exporter:0.26.0' },
          ],
        },
      },
    },
  };
}

export function checkoutVirtualService(namespace: string, canaryWeight = 0) {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: 'checkout', namespace },
    spec: {
      hosts: ['checkout'],
      http: [
        {
          name: 'primary',
          route: [
            { destination: { host: 'checkout', subset: 'stable' }, weight: 100 - canaryWeight },
            { destination: { host: 'checkout', subset: 'canary' }, weight: canaryWeight },
          ],
        },
      ],
    },
  };
}

export function checkoutHttpRoute(namespace: string, canaryWeight = 0) {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'checkout', namespace },
    spec: {
      parentRefs: [{ name: 'shop-gateway' }],
      hostnames: ['checkout.example.com'],
      rules: [
        {
          matches: [{ path: { type: 'PathPrefix', value: '/' } }],
          backendRefs: [
            { name: 'checkout', port: 8080, weight: 100 - canaryWeight },
            { name: 'checkout-canary', port: 8080, weight: canaryWeight },
          ],
        },
      ],
    },
  };
}

/** Resolves once the controller has observed the Deployment's latest generation. */
export async function settled(standin: KubeStandin, namespace: string, name: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = standin.store.get(typeOfKind('Deployment'), namespace, name);
    if (d && (d.status?.observedGeneration as number | undefined) === d.metadata.generation && d.metadata.annotations?.['deployment.kubernetes.io/revision']) return;
    if (Date.now() > deadline) throw new Error(`stand-in: Deployment ${namespace}/${name} did not settle within ${timeoutMs}ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Creates a Deployment and rolls it through a series of images, one revision each, waiting for the
 * controller between steps as `kubectl set image` run by hand would.
 */
export async function deployWithHistory(standin: KubeStandin, base: ReturnType<typeof checkoutDeployment>, releases: { image: string; changeCause: string }[]): Promise<void> {
  const { namespace, name } = base.metadata;
  for (const [i, release] of releases.entries()) {
    if (i === 0) {
      const first = structuredClone(base);
      first.spec.template.spec.containers[0]!.image = release.image;
      standin.apply({ ...first, metadata: { ...first.metadata, annotations: { 'kubernetes.io/change-cause': release.changeCause } } });
    } else {
      const type = typeOfKind('Deployment');
      const current = standin.store.mustGet(type, namespace, name);
      const spec = structuredClone(current.spec) as typeof base.spec;
      spec.template.spec.containers[0]!.image = release.image;
      standin.store.update(type, { ...current, spec, metadata: { ...current.metadata, annotations: { ...current.metadata.annotations, 'kubernetes.io/change-cause': release.changeCause } } });
    }
    await settled(standin, namespace, name);
  }
}

/** The example config's `checkout` service: production in `shop` behind Istio, staging in `shop-staging` by replica ratio. */
export async function seedCheckout(standin: KubeStandin): Promise<void> {
  for (const [namespace, replicas] of [['shop', 3], ['shop-staging', 2]] as const) {
    await deployWithHistory(standin, checkoutDeployment({ namespace, name: 'checkout', track: 'stable', image: `${CHECKOUT_IMAGE}:1.4.0`, replicas }), [
      { image: `${CHECKOUT_IMAGE}:1.4.0`, changeCause: 'release 1.4.0' },
      { image: `${CHECKOUT_IMAGE}:1.4.1`, changeCause: 'release 1.4.1' },
      { image: `${CHECKOUT_IMAGE}:1.4.2`, changeCause: 'release 1.4.2' },
    ]);
    standin.apply(checkoutDeployment({ namespace, name: 'checkout-canary', track: 'canary', image: `${CHECKOUT_IMAGE}:1.4.2`, replicas: 0 }));
  }
  standin.apply(checkoutVirtualService('shop'));
}
