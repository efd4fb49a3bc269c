import { afterEach, describe, expect, test } from 'vitest';
import { ClusterError } from '../../../src/adapters/kubernetes/errors.js';
import { typeOfKind } from '../../support/kube-standin/resources.js';
import { CHECKOUT_IMAGE } from '../../support/kube-standin/seed.js';
import { startFixture, type Fixture } from './fixture.js';

const NEW_IMAGE = `${CHECKOUT_IMAGE}:1.5.0`;
const CANARY_PATH = '/apis/apps/v1/namespaces/shop/deployments/checkout-canary';
const VS_PATH = '/apis/networking.istio.io/v1/namespaces/shop/virtualservices/checkout';
let f: Fixture;

afterEach(async () => {
  await f.standin.stop();
});

const canaryImage = () => (f.standin.store.mustGet(typeOfKind('Deployment'), 'shop', 'checkout-canary').spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]!.image;

describe('409 Conflict', () => {
  test('re-reads and retries when another writer changes the Deployment in between', async () => {
    f = await startFixture();
    f.standin.inject({ path: CANARY_PATH, method: 'PATCH', concurrentWrite: true, times: 2 });
    await f.cluster.workloads.setCanaryImage(f.production, NEW_IMAGE);
    expect(canaryImage()).toBe(NEW_IMAGE);
    const patches = f.standin.requests.filter((r) => r.method === 'PATCH' && r.path === CANARY_PATH).map((r) => r.status);
    expect(patches).toEqual([409, 409, 200]);
    // The competing writer's change survives: the patch touched only the image.
    expect(f.standin.store.mustGet(typeOfKind('Deployment'), 'shop', 'checkout-canary').metadata.annotations?.['standin.lifeguard.dev/competing-writes']).toBe('2');
  });

  test('gives up after a bounded number of attempts in a conflict storm, saying what is going on', async () => {
    f = await startFixture({ retry: { conflictAttempts: 4 } });
    f.standin.inject({ path: VS_PATH, method: 'PATCH', concurrentWrite: true });
    const error = await f.cluster.traffic.set(f.production, 5).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClusterError);
    expect((error as ClusterError).message).toBe(
      'VirtualService shop/checkout kept changing while Lifeguard tried to update it (409 Conflict on 4 attempts): another controller or person is writing to it; find out who (kubectl get -o yaml, managedFields) and try again',
    );
    expect(f.standin.requests.filter((r) => r.method === 'PATCH' && r.path === VS_PATH)).toHaveLength(4);
  });

  test('a rollback that meets a conflict re-plans from a fresh read', async () => {
    f = await startFixture();
    f.standin.inject({ path: '/apis/apps/v1/namespaces/shop/deployments/checkout', method: 'PATCH', concurrentWrite: true, times: 1 });
    const result = await f.cluster.workloads.rollback(f.production);
    expect(result).toMatchObject({ outcome: 'rolled-back', fromRevision: 3, toRevision: 2 });
    expect(f.standin.requests.filter((r) => r.method === 'PATCH').map((r) => r.status)).toEqual([409, 200]);
  });
});

describe('5xx and timeouts', () => {
  test('retries 503 and 500 with backoff and then succeeds', async () => {
    f = await startFixture();
    f.standin.inject({ path: CANARY_PATH, method: 'GET', status: 503, times: 1 });
    f.standin.inject({ path: CANARY_PATH, method: 'PATCH', status: 500, times: 2 });
    await f.cluster.workloads.setCanaryImage(f.production, NEW_IMAGE);
    expect(canaryImage()).toBe(NEW_IMAGE);
    expect(f.standin.requests.filter((r) => r.path === CANARY_PATH).map((r) => `${r.method} ${r.status}`)).toEqual(['GET 503', 'GET 200', 'PATCH 500', 'PATCH 500', 'PATCH 200']);
  });

  test('gives up after its attempts when the API server stays down, naming the call', async () => {
    f = await startFixture({ retry: { attempts: 3 } });
    f.standin.inject({ path: CANARY_PATH, status: 503 });
    await expect(f.cluster.workloads.scaleCanary(f.production, 1)).resolves.toBeUndefined();
    await expect(f.cluster.workloads.setCanaryImage(f.production, NEW_IMAGE)).rejects.toThrow(
      'cluster "prod" answered 503 to get deployments for Deployment shop/checkout-canary (API server: injected fault: 503 on GET /apis/apps/v1/namespaces/shop/deployments/checkout-canary); gave up after 3 attempts',
    );
  });

  test('abandons a request that hangs and retries it', async () => {
    f = await startFixture({ retry: { requestTimeoutMs: 200 } });
    f.standin.inject({ path: CANARY_PATH, method: 'GET', latencyMs: 1_000, times: 1 });
    const started = Date.now();
    const state = await f.cluster.workloads.readState(f.production);
    expect(state.canary.name).toBe('checkout-canary');
    expect(Date.now() - started).toBeLessThan(900);
  });

  test('a request that always hangs ends in a timeout message', async () => {
    f = await startFixture({ retry: { requestTimeoutMs: 100, attempts: 2 } });
    f.standin.inject({ path: CANARY_PATH, method: 'GET', latencyMs: 500 });
    await expect(f.cluster.traffic.read(f.staging)).resolves.toMatchObject({ source: 'replicas' });
    await expect(f.cluster.workloads.readState(f.production)).rejects.toThrow(
      'cannot reach cluster "prod" to get deployments for Deployment shop/checkout-canary: request timed out; gave up after 2 attempts',
    );
  });
});

describe('403 and 404', () => {
  test('403 says which verb on which resource in which namespace the ServiceAccount lacks', async () => {
    f = await startFixture({
      rbac: [
        { apiGroups: ['apps'], resources: ['deployments', 'replicasets'], verbs: ['get', 'list'] },
        { apiGroups: ['networking.istio.io'], resources: ['virtualservices'], verbs: ['get'] },
      ],
    });
    await expect(f.cluster.workloads.readState(f.production)).resolves.toMatchObject({ service: 'checkout' });
    const error = (await f.cluster.workloads.setCanaryImage(f.production, NEW_IMAGE).catch((e: unknown) => e)) as ClusterError;
    expect(error.kind).toBe('forbidden');
    expect(error.message).toBe(
      'Lifeguard\'s ServiceAccount may not patch deployments (API group "apps") in namespace "shop" on cluster "prod": add that verb to its Role (manifests/rbac.yaml) and bind it in "shop" (API server: deployments.apps "checkout-canary" is forbidden: User "system:serviceaccount:lifeguard:lifeguard" cannot patch resource "deployments" in API group "apps" in the namespace "shop")',
    );
    await expect(f.cluster.workloads.scaleCanary(f.production, 1)).rejects.toThrow('may not patch deployments/scale (API group "apps") in namespace "shop"');
    expect(f.standin.requests.filter((r) => r.status === 403)).toHaveLength(2);
  });

  test('404 names the missing object and where its name comes from', async () => {
    f = await startFixture();
    const target = { ...f.production, settings: { ...f.production.settings, canary: 'checkout-canari' } };
    await expect(f.cluster.workloads.readState(target)).rejects.toThrow(
      'Deployment shop/checkout-canari not found on cluster "prod": check services.checkout.environments.production.canary in lifeguard.yaml (API server: deployments.apps "checkout-canari" not found)',
    );
    const vsTarget = { ...f.production, settings: { ...f.production.settings, traffic: { istio: { virtualService: 'payments' } } } };
    await expect(f.cluster.traffic.set(vsTarget, 5)).rejects.toThrow(
      'VirtualService shop/payments not found on cluster "prod": check services.checkout.environments.production.traffic.istio.virtualService in lifeguard.yaml',
    );
    expect(f.standin.requests.filter((r) => r.method === 'PATCH')).toHaveLength(0);
  });
});
