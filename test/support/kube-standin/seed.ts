import { typeOfKind } from './resources.js';
import type { KubeStandin } from './server.js';

export const CHECKOUT_IMAGE = 'registry.example.com/shop/checkout';

export interface DeploymentOptions {
  namespace: string;
  name: string;
  track: 'stable' | 'canary';
  image: string;
  replicas: number;
  progressDeadlineSeconds?: number;
  changeCause?: string;
}

/** The `checkout` Deployment pair as the example config describes it. */
export function checkoutDeployment(opts: DeploymentOptions) {
  return serviceDeployment('checkout', opts);
}

/** One side of a service's Deployment pair, labelled with its `app` and `track` as DESIGN §3 has it. */
export function serviceDeployment(app: string, opts: DeploymentOptions) {
  const labels = { app, track: opts.track };
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
  return serviceVirtualService('checkout', namespace, canaryWeight);
}

/** An Istio VirtualService named after the service, splitting its traffic between the `stable` and `canary` subsets. */
export function serviceVirtualService(app: string, namespace: string, canaryWeight = 0) {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: app, namespace },
    spec: {
      hosts: [app],
      http: [
        {
          name: 'primary',
          route: [
            { destination: { host: app, subset: 'stable' }, weight: 100 - canaryWeight },
            { destination: { host: app, subset: 'canary' }, weight: canaryWeight },
          ],
        },
      ],
    },
  };
}

export function checkoutHttpRoute(namespace: string, canaryWeight = 0) {
  return serviceHttpRoute('checkout', namespace, canaryWeight);
}

/** A Gateway API HTTPRoute named after the service, splitting its traffic between the Services `<app>` and `<app>-canary`. */
export function serviceHttpRoute(app: string, namespace: string, canaryWeight = 0) {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: app, namespace },
    spec: {
      parentRefs: [{ name: 'shop-gateway' }],
      hostnames: [`${app}.example.com`],
      rules: [
        {
          matches: [{ path: { type: 'PathPrefix', value: '/' } }],
          backendRefs: [
            { name: app, port: 8080, weight: 100 - canaryWeight },
            { name: `${app}-canary`, port: 8080, weight: canaryWeight },
          ],
        },
      ],
    },
  };
}

/** Resolves once the controller has observed the Deployment's latest generation. */
export async function settled(standin: KubeStandin, namespace: string, name: string, timeoutMs = 10_000): Promise<void> {
  await allSettled(standin, [{ namespace, name }], timeoutMs);
}

/** Resolves once the controller has observed the latest generation of every one of these Deployments. */
export async function allSettled(standin: KubeStandin, deployments: { namespace: string; name: string }[], timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let pending = deployments;
  for (;;) {
    pending = pending.filter(({ namespace, name }) => {
      const d = standin.store.peek(typeOfKind('Deployment'), namespace, name);
      return !(d && (d.status?.observedGeneration as number | undefined) === d.metadata.generation && d.metadata.annotations?.['deployment.kubernetes.io/revision']);
    });
    if (pending.length === 0) return;
    if (Date.now() > deadline) {
      const { namespace, name } = pending[0]!;
      throw new Error(`stand-in: Deployment ${namespace}/${name}${pending.length > 1 ? ` and ${pending.length - 1} more` : ''} did not settle within ${timeoutMs}ms`);
    }
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
