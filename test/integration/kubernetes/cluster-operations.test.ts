import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import type { RolloutProgress } from '../../../src/domain/cluster-state.js';
import { typeOfKind } from '../../support/kube-standin/resources.js';
import { checkoutDeployment, checkoutHttpRoute, CHECKOUT_IMAGE } from '../../support/kube-standin/seed.js';
import { startFixture, type Fixture } from './fixture.js';

const NEW_IMAGE = `${CHECKOUT_IMAGE}:1.5.0`;
let f: Fixture;

beforeEach(async () => {
  f = await startFixture();
});
afterEach(async () => {
  await f.standin.stop();
});

const deployment = (namespace: string, name: string) => f.standin.store.mustGet(typeOfKind('Deployment'), namespace, name);
const containers = (namespace: string, name: string) => (deployment(namespace, name).spec as { template: { spec: { containers: { name: string; image: string }[] } } }).template.spec.containers;

describe('reading a service', () => {
  test('reads both Deployments, the stable revision history and Istio weights in production', async () => {
    const state = await f.cluster.workloads.readState(f.production);
    expect(state.stable).toMatchObject({ name: 'checkout', namespace: 'shop', image: `${CHECKOUT_IMAGE}:1.4.2`, revision: 3, replicas: { desired: 3, ready: 3, available: 3, updated: 3 } });
    expect(state.stable.images['metrics-sidecar']).toBe('registry.example.com/tools/statsd-exporter:0.26.0');
    expect(state.stable.conditions.find((c) => c.type === 'Progressing')?.reason).toBe('NewReplicaSetAvailable');
    expect(state.canary).toMatchObject({ name: 'checkout-canary', replicas: { desired: 0 } });
    expect(state.history.map((r) => [r.revision, r.images.app, r.changeCause])).toEqual([
      [3, `${CHECKOUT_IMAGE}:1.4.2`, 'release 1.4.2'],
      [2, `${CHECKOUT_IMAGE}:1.4.1`, 'release 1.4.1'],
      [1, `${CHECKOUT_IMAGE}:1.4.0`, 'release 1.4.0'],
    ]);
    expect(state.history[0]!.createdAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(state.traffic).toEqual({ stable: 100, canary: 0, source: 'istio' });
  });

  test('reads staging traffic from the replica ratio', async () => {
    await f.cluster.workloads.scaleCanary(f.staging, 2);
    expect(await f.cluster.traffic.read(f.staging)).toEqual({ stable: 50, canary: 50, source: 'replicas' });
  });
});

describe('changing a service', () => {
  test('sets the canary image with a strategic merge patch that leaves the sidecar alone, once', async () => {
    expect(await f.cluster.workloads.setCanaryImage(f.production, NEW_IMAGE, { changeCause: 'release 1.5.0 by U01ALICE' })).toEqual({ changed: true });
    expect(containers('shop', 'checkout-canary').map((c) => c.image)).toEqual([NEW_IMAGE, 'registry.example.com/tools/statsd-exporter:0.26.0']);
    expect(deployment('shop', 'checkout-canary').metadata.annotations?.['kubernetes.io/change-cause']).toBe('release 1.5.0 by U01ALICE');
    const patches = f.standin.requests.filter((r) => r.method === 'PATCH').length;
    expect(await f.cluster.workloads.setCanaryImage(f.production, NEW_IMAGE, { changeCause: 'release 1.5.0 by U01ALICE' })).toEqual({ changed: false });
    expect(f.standin.requests.filter((r) => r.method === 'PATCH').length).toBe(patches);
  });

  test('refuses to add a container when the configured one is missing', async () => {
    const target = { ...f.production, settings: { ...f.production.settings, container: 'web' } };
    await expect(f.cluster.workloads.setCanaryImage(target, NEW_IMAGE)).rejects.toThrow(
      'Deployment shop/checkout-canary has no container "web" (it has app, metrics-sidecar): check services.checkout.environments.production.container in lifeguard.yaml',
    );
    expect(containers('shop', 'checkout-canary')).toHaveLength(2);
  });

  test('scales the canary through the scale subresource and promotes its image to the stable', async () => {
    await f.cluster.workloads.setCanaryImage(f.production, NEW_IMAGE);
    await f.cluster.workloads.scaleCanary(f.production, 2);
    expect(deployment('shop', 'checkout-canary').spec?.replicas).toBe(2);
    expect(f.standin.requests.some((r) => r.resource === 'deployments/scale' && r.verb === 'patch')).toBe(true);
    expect(await f.cluster.workloads.promote(f.production, { changeCause: 'promote 1.5.0' })).toEqual({ image: NEW_IMAGE, changed: true });
    expect(containers('shop', 'checkout')[0]!.image).toBe(NEW_IMAGE);
    const done = await f.cluster.workloads.waitForRollout(f.production, 'stable', { timeoutMs: 5_000, pollMs: 20 });
    expect(done.outcome).toBe('complete');
    const state = await f.cluster.workloads.readState(f.production);
    expect(state.stable.revision).toBe(4);
    expect(state.history[0]).toMatchObject({ revision: 4, changeCause: 'promote 1.5.0' });
    await expect(f.cluster.workloads.scaleCanary(f.production, -1)).rejects.toThrow('canary replicas must be a whole number of 0 or more, got -1');
  });

  test('shifts Istio weights with a JSON patch and reads them back', async () => {
    expect(await f.cluster.traffic.set(f.production, 25)).toEqual({ stable: 75, canary: 25, source: 'istio' });
    const vs = f.standin.store.mustGet(typeOfKind('VirtualService'), 'shop', 'checkout');
    expect((vs.spec as { http: { route: { weight: number }[] }[] }).http[0]!.route.map((r) => r.weight)).toEqual([75, 25]);
    expect(await f.cluster.traffic.read(f.production)).toEqual({ stable: 75, canary: 25, source: 'istio' });
    const rv = vs.metadata.resourceVersion;
    await f.cluster.traffic.set(f.production, 25);
    expect(f.standin.store.mustGet(typeOfKind('VirtualService'), 'shop', 'checkout').metadata.resourceVersion).toBe(rv);
    await expect(f.cluster.traffic.set(f.production, 150)).rejects.toThrow('canary traffic weight must be a whole percentage from 0 to 100, got 150');
  });

  test('shifts Gateway API HTTPRoute backend weights', async () => {
    f.standin.apply(checkoutHttpRoute('shop'));
    const target = { ...f.production, settings: { ...f.production.settings, traffic: { gatewayApi: { httpRoute: 'checkout' } } } };
    expect(await f.cluster.traffic.set(target, 50)).toEqual({ stable: 50, canary: 50, source: 'gatewayApi' });
    const route = f.standin.store.mustGet(typeOfKind('HTTPRoute'), 'shop', 'checkout');
    expect((route.spec as { rules: { backendRefs: { name: string; weight: number }[] }[] }).rules[0]!.backendRefs).toEqual([
      { name: 'checkout', port: 8080, weight: 50 },
      { name: 'checkout-canary', port: 8080, weight: 50 },
    ]);
  });

  test('names the route problem when a VirtualService has no canary destination', async () => {
    const target = { ...f.production, settings: { ...f.production.settings, traffic: { istio: { virtualService: 'checkout', route: 'mirror' } } } };
    await expect(f.cluster.traffic.set(target, 5)).rejects.toThrow('VirtualService shop/checkout has no route named "mirror" (it has primary): check traffic.istio.route in lifeguard.yaml');
  });

  test('verifies a weight only once the cluster is observed giving it', async () => {
    await f.cluster.traffic.set(f.production, 0);
    expect(await f.cluster.traffic.verify(f.production, 25)).toBe(false);
    await f.cluster.traffic.set(f.production, 25);
    expect(await f.cluster.traffic.verify(f.production, 25)).toBe(true);

    // By replica ratio the split is written at once but serves its share only when its pods are ready.
    f.standin.setReadyDelay(3_000);
    try {
      await f.cluster.traffic.set(f.staging, 50);
      expect(await f.cluster.traffic.verify(f.staging, 50)).toBe(false);
      await vi.waitFor(async () => expect(await f.cluster.traffic.verify(f.staging, 50)).toBe(true), { timeout: 10_000, interval: 200 });
    } finally {
      f.standin.setReadyDelay(50);
    }
  });

  test('approximates weights by replica ratio in staging, keeping the total', async () => {
    expect(await f.cluster.traffic.set(f.staging, 50)).toEqual({ stable: 50, canary: 50, source: 'replicas' });
    expect([deployment('shop-staging', 'checkout').spec?.replicas, deployment('shop-staging', 'checkout-canary').spec?.replicas]).toEqual([1, 1]);
    expect(await f.cluster.traffic.set(f.staging, 0)).toEqual({ stable: 100, canary: 0, source: 'replicas' });
    expect([deployment('shop-staging', 'checkout').spec?.replicas, deployment('shop-staging', 'checkout-canary').spec?.replicas]).toEqual([2, 0]);
  });
});

describe('waiting for a rollout', () => {
  test('reports progress as kubectl rollout status words it, until complete', async () => {
    f.standin.setReadyDelay(150);
    const seen: RolloutProgress[] = [];
    await f.cluster.workloads.setCanaryImage(f.production, NEW_IMAGE);
    await f.cluster.workloads.scaleCanary(f.production, 2);
    const result = await f.cluster.workloads.waitForRollout(f.production, 'canary', { timeoutMs: 5_000, pollMs: 10, onProgress: (p) => seen.push(p) });
    expect(result).toMatchObject({ outcome: 'complete', message: 'deployment "checkout-canary" successfully rolled out', progress: { desired: 2, updated: 2, ready: 2, available: 2 } });
    expect(seen.some((p) => p.message === 'Waiting for deployment "checkout-canary" rollout to finish: 0 of 2 updated replicas are available...')).toBe(true);
    expect(seen.at(-1)!.message).toBe(result.message);
  });

  test('fails with the controller\'s reason when new pods never become ready, within the progress deadline', async () => {
    f.standin.apply(checkoutDeployment({ namespace: 'shop', name: 'checkout-canary-2', track: 'canary', image: `${CHECKOUT_IMAGE}:1.4.2`, replicas: 1, progressDeadlineSeconds: 1 }));
    const target = { ...f.production, settings: { ...f.production.settings, canary: 'checkout-canary-2' } };
    await f.cluster.workloads.waitForRollout(target, 'canary', { timeoutMs: 5_000, pollMs: 20 });
    f.standin.breakImage(`${CHECKOUT_IMAGE}:1.5.0-broken`);
    await f.cluster.workloads.setCanaryImage(target, `${CHECKOUT_IMAGE}:1.5.0-broken`);
    const started = Date.now();
    const result = await f.cluster.workloads.waitForRollout(target, 'canary', { timeoutMs: 10_000, pollMs: 50 });
    expect(result.outcome).toBe('failed');
    expect(result).toMatchObject({ reason: 'ProgressDeadlineExceeded' });
    expect(result.message).toMatch(/^deployment "checkout-canary-2" exceeded its progress deadline: ReplicaSet "checkout-canary-2-\w+" has timed out progressing\.$/);
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  test('gives up at its own timeout and says where the rollout stood', async () => {
    f.standin.breakImage(`${CHECKOUT_IMAGE}:1.5.0-broken`);
    await f.cluster.workloads.setCanaryImage(f.production, `${CHECKOUT_IMAGE}:1.5.0-broken`);
    await f.cluster.workloads.scaleCanary(f.production, 1);
    const result = await f.cluster.workloads.waitForRollout(f.production, 'canary', { timeoutMs: 300, pollMs: 20 });
    expect(result.outcome).toBe('timeout');
    expect(result.message).toBe(
      'Deployment shop/checkout-canary did not finish rolling out within 300ms; last status: Waiting for deployment "checkout-canary" rollout to finish: 0 of 1 updated replicas are available...',
    );
  });

  test('stops waiting at once when its signal is aborted', async () => {
    f.standin.breakImage(`${CHECKOUT_IMAGE}:1.5.0-broken`);
    await f.cluster.workloads.setCanaryImage(f.production, `${CHECKOUT_IMAGE}:1.5.0-broken`);
    await f.cluster.workloads.scaleCanary(f.production, 1);
    const abort = new AbortController();
    setTimeout(() => abort.abort('lost leadership'), 100);
    const started = Date.now();
    const result = await f.cluster.workloads.waitForRollout(f.production, 'canary', { timeoutMs: 10_000, pollMs: 5_000, signal: abort.signal });
    expect(result.outcome).toBe('aborted');
    expect(result.message).toContain('lost leadership');
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe('gathering evidence', () => {
  test('collects canary logs per container, events of the Deployments and their pods, and snapshots', async () => {
    f.standin.breakImage(`${CHECKOUT_IMAGE}:1.5.0-broken`);
    await f.cluster.workloads.setCanaryImage(f.production, `${CHECKOUT_IMAGE}:1.5.0-broken`);
    await f.cluster.workloads.scaleCanary(f.production, 2);
    await f.cluster.workloads.waitForRollout(f.production, 'canary', { timeoutMs: 200, pollMs: 20 });
    const evidence = await f.cluster.workloads.gatherEvidence(f.production, { logLines: 2 });
    expect(evidence.logs).toHaveLength(4);
    const app = evidence.logs.filter((l) => l.container === 'app');
    expect(app).toHaveLength(2);
    for (const log of app) {
      expect(log.pod).toMatch(/^checkout-canary-/);
      expect(log.lines).toHaveLength(2);
      expect(log.lines[1]).toContain('readiness /readyz answering 503');
    }
    const sidecar = evidence.logs.find((l) => l.container === 'metrics-sidecar')!;
    expect(sidecar.lines.join('\n')).not.toContain('503');
    expect(evidence.events.some((e) => e.object === 'Deployment/checkout-canary' && e.reason === 'ScalingReplicaSet')).toBe(true);
    expect(evidence.events.some((e) => e.object.startsWith('Pod/checkout-canary-') && e.type === 'Warning' && e.reason === 'Unhealthy')).toBe(true);
    expect(evidence.events.every((e) => !e.object.startsWith('ReplicaSet/'))).toBe(true);
    const canary = evidence.deployments.canary as { spec: { template: { spec: { containers: { image: string }[] } } } };
    expect(canary.spec.template.spec.containers[0]!.image).toBe(`${CHECKOUT_IMAGE}:1.5.0-broken`);
    expect(JSON.parse(JSON.stringify(evidence))).toEqual(evidence);
  });
});
