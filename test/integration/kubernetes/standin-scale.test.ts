import { AppsV1Api, KubeConfig, makeInformer, type V1Deployment } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { fleetConfig, seedServices } from '../../support/kube-standin/fleet.js';
import { typeOfKind } from '../../support/kube-standin/resources.js';
import { allSettled, serviceDeployment } from '../../support/kube-standin/seed.js';
import { KubeStandin } from '../../support/kube-standin/server.js';
import { kubectl } from './kubectl.js';

/*
 * The stand-in holding 5,000 Deployments, as the informer cache of issue #14 will see it: created over HTTP
 * within the hook's time, listed whole, watched from a list's resourceVersion, and expired with 410 Gone.
 */

const OBJECTS = 5_000;
const NAMESPACES = 50;
const DEPLOYMENTS = typeOfKind('Deployment');
const namespaceOf = (i: number) => `scale-${String(i % NAMESPACES).padStart(2, '0')}`;
const deployment = (i: number, namespace = namespaceOf(i)) =>
  serviceDeployment(`app-${i}`, { namespace, name: `app-${String(i).padStart(4, '0')}`, track: 'stable', image: 'registry.example.com/scale:1.0.0', replicas: 0 });

let standin: KubeStandin;
let kubeconfig: string;
let apps: AppsV1Api;

async function call(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${standin.url}${path}`, { method, headers: { 'Content-Type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
}

/** A raw watch: its events as they come, when the server has taken it on, and when it has ended it. */
function watch(path: string) {
  const events: { type: string; object: { metadata?: { name?: string; resourceVersion?: string }; [key: string]: unknown } }[] = [];
  const controller = new AbortController();
  const response = fetch(`${standin.url}${path}`, { signal: controller.signal });
  // The stand-in registers a watch before its headers go out.
  const established = response.then(() => undefined);
  const ended = (async () => {
    const res = await response;
    const status = res.status;
    const decoder = new TextDecoder();
    let buffered = '';
    for await (const chunk of res.body!) {
      buffered += decoder.decode(chunk as Uint8Array, { stream: true });
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) if (line) events.push(JSON.parse(line) as (typeof events)[number]);
    }
    return status;
  })().catch(() => 'aborted' as const);
  return { events, established, ended, stop: () => controller.abort() };
}

async function until(condition: () => boolean, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeAll(async () => {
  standin = await KubeStandin.start({ readyDelayMs: 0, syncDelayMs: 0, bookmarkIntervalMs: 100 });
  kubeconfig = standin.writeKubeconfig();
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  apps = kc.makeApiClient(AppsV1Api);
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < OBJECTS) {
        const i = next++;
        const res = await call('POST', `/apis/apps/v1/namespaces/${namespaceOf(i)}/deployments`, deployment(i));
        if (res.status !== 201) throw new Error(`create ${i}: ${res.status} ${await res.text()}`);
      }
    }),
  );
  // The controller has its own writes to make for each; the tests count revisions from when it is done.
  await allSettled(standin, standin.store.peekAll(DEPLOYMENTS).map((d) => d.metadata), 60_000);
});
afterAll(async () => {
  await standin.stop();
});

describe('the stand-in with 5,000 Deployments', () => {
  test('holds every one, and lists return them with the revision they reflect', async () => {
    expect(standin.store.peekAll(DEPLOYMENTS)).toHaveLength(OBJECTS);
    expect(standin.requestCounts().byResource['create deployments']).toBe(OBJECTS);
    const one = await apps.listNamespacedDeployment({ namespace: namespaceOf(7) });
    expect(one.items).toHaveLength(OBJECTS / NAMESPACES);
    const names = one.items.map((d) => d.metadata!.name!);
    expect(names).toEqual([...names].sort());
    expect(names[0]).toBe('app-0007');
    const revision = standin.store.currentRevision;
    const all = await apps.listDeploymentForAllNamespaces();
    expect(all.items).toHaveLength(OBJECTS);
    expect(Number(all.metadata!.resourceVersion)).toBeGreaterThanOrEqual(revision);
    expect(new Set(all.items.map((d) => `${d.metadata!.namespace}/${d.metadata!.name}`)).size).toBe(OBJECTS);
  });

  test('kubectl get deployments prints them, one namespace and all', async () => {
    const one = await kubectl(kubeconfig, ['-n', namespaceOf(3), 'get', 'deployments']);
    expect(one.code).toBe(0);
    const lines = one.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/);
    expect(lines).toHaveLength(1 + OBJECTS / NAMESPACES);
    expect(lines[1]).toMatch(/^app-0003\s+0\/0\s+0\s+0\s+\d+[sm]$/);
    const all = await kubectl(kubeconfig, ['get', 'deployments', '--all-namespaces', '-o', 'name']);
    expect(all.stdout.trim().split('\n')).toHaveLength(OBJECTS);
  });

  test('a watch from a list\'s resourceVersion gets every later change and none before', async () => {
    const list = await apps.listNamespacedDeployment({ namespace: 'scale-watch' });
    const from = list.metadata!.resourceVersion!;
    const w = watch(`/apis/apps/v1/deployments?watch=true&resourceVersion=${from}`);
    await w.established;
    for (let i = 0; i < 3; i++) expect((await call('POST', '/apis/apps/v1/namespaces/scale-watch/deployments', deployment(i, 'scale-watch'))).status).toBe(201);
    expect((await call('PATCH', '/apis/apps/v1/namespaces/scale-07/deployments/app-0007', { metadata: { labels: { touched: 'yes' } } })).status).toBe(200);
    expect((await call('DELETE', '/apis/apps/v1/namespaces/scale-08/deployments/app-0008')).status).toBe(200);
    await until(() => w.events.some((e) => e.type === 'DELETED'), 'the DELETED event');
    w.stop();
    expect(w.events.every((e) => Number(e.object.metadata!.resourceVersion) > Number(from))).toBe(true);
    const mine = w.events.filter((e) => e.type !== 'MODIFIED' || e.object.metadata!.name === 'app-0007').map((e) => `${e.type} ${e.object.metadata!.name}`);
    expect(mine).toEqual(['ADDED app-0000', 'ADDED app-0001', 'ADDED app-0002', 'MODIFIED app-0007', 'DELETED app-0008']);
  });

  test('expireWatches ends open watches with 410 Expired, and a watch from before it gets the same', async () => {
    const before = standin.store.currentRevision;
    const open = watch(`/apis/apps/v1/namespaces/scale-01/deployments?watch=true&resourceVersion=${before}`);
    await open.established;
    standin.expireWatches();
    expect(await open.ended).toBe(200);
    expect(open.events).toEqual([
      { type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `too old resource version: ${before} (${before})`, reason: 'Expired', code: 410 } },
    ]);

    expect((await call('POST', '/apis/apps/v1/namespaces/scale-01/deployments', deployment(9001, 'scale-01'))).status).toBe(201);
    // Changes up to the expiry are gone: only a watch from its revision or later can go on.
    const stale = watch(`/apis/apps/v1/namespaces/scale-01/deployments?watch=true&resourceVersion=${before - 1}`);
    expect(await stale.ended).toBe(200);
    expect(stale.events).toHaveLength(1);
    expect(stale.events[0]!.object).toMatchObject({ reason: 'Expired', code: 410, message: `too old resource version: ${before - 1} (${before})` });

    // From the revision of a list made after it, a watch goes on.
    const list = await apps.listNamespacedDeployment({ namespace: 'scale-01' });
    const fresh = watch(`/apis/apps/v1/namespaces/scale-01/deployments?watch=true&resourceVersion=${list.metadata!.resourceVersion}`);
    await fresh.established;
    expect((await call('PATCH', '/apis/apps/v1/namespaces/scale-01/deployments/app-0001', { metadata: { labels: { fresh: 'yes' } } })).status).toBe(200);
    await until(() => fresh.events.some((e) => e.object.metadata?.name === 'app-0001'), 'the change after the list');
    fresh.stop();
    expect(fresh.events.map((e) => e.type)).not.toContain('ERROR');
  });

  test('client-node\'s informer lists again after 410 Gone and misses nothing', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const live = makeInformer<V1Deployment>(kc, '/apis/apps/v1/deployments', () => apps.listDeploymentForAllNamespaces());
    const errors: unknown[] = [];
    live.on('error', (e) => errors.push(e));
    const lists = () => standin.requestCounts().byResource['list deployments'] ?? 0;
    const listsBefore = lists();
    await live.start();
    const stored = () => new Map(standin.store.peekAll(DEPLOYMENTS).map((d) => [`${d.metadata.namespace}/${d.metadata.name}`, d.metadata.resourceVersion]));
    const cached = () => new Map(live.list().map((d) => [`${d.metadata!.namespace}/${d.metadata!.name}`, d.metadata!.resourceVersion]));
    await until(() => live.list().length === stored().size, 'the informer to fill');

    standin.expireWatches();
    // Changes while the informer lists again: the list or the watch after it must carry each of them.
    expect((await call('POST', '/apis/apps/v1/namespaces/scale-02/deployments', deployment(9002, 'scale-02'))).status).toBe(201);
    expect((await call('PATCH', '/apis/apps/v1/namespaces/scale-03/deployments/app-0003', { metadata: { labels: { after: 'expiry' } } })).status).toBe(200);
    expect((await call('DELETE', '/apis/apps/v1/namespaces/scale-04/deployments/app-0004')).status).toBe(200);
    await until(() => JSON.stringify([...cached()].sort()) === JSON.stringify([...stored()].sort()), 'the informer to hold what the store holds');
    expect(errors).toEqual([]);
    await live.stop();
    // Its first list, and one more after the 410.
    expect(lists() - listsBefore).toBe(2);
  });

  test('a watch that allows bookmarks gets them with the current revision; timeoutSeconds ends it', async () => {
    const from = standin.store.currentRevision;
    const w = watch(`/apis/apps/v1/namespaces/scale-05/deployments?watch=true&allowWatchBookmarks=true&timeoutSeconds=3&resourceVersion=${from}`);
    await until(() => w.events.some((e) => e.type === 'BOOKMARK'), 'a bookmark');
    const bookmark = w.events.find((e) => e.type === 'BOOKMARK')!;
    expect(bookmark.object).toMatchObject({ kind: 'Deployment', apiVersion: 'apps/v1' });
    expect(Number(bookmark.object.metadata!.resourceVersion)).toBeGreaterThanOrEqual(from);
    expect(Number(bookmark.object.metadata!.resourceVersion)).toBeLessThanOrEqual(standin.store.currentRevision);
    expect(await w.ended).toBe(200);
    // Every watch so far has been ended by one side or the other, and the stand-in has let go of each.
    await until(() => standin.openWatches === 0, 'every watch to be let go');
  });
});

describe('a small stand-in', () => {
  test('keeps only the latest requests in full, and counts them all', async () => {
    const small = await KubeStandin.start({ requestLogLimit: 10 });
    try {
      for (let i = 0; i < 25; i++) {
        const abort = new AbortController();
        const res = await fetch(`${small.url}/api/v1/namespaces/small/configmaps${i % 5 === 4 ? '?watch=true' : ''}`, { signal: abort.signal });
        abort.abort();
        await res.text().catch(() => {});
      }
      expect(small.requests.length).toBeLessThanOrEqual(10);
      expect(small.requests.at(-1)).toMatchObject({ verb: 'watch', resource: 'configmaps', status: 200 });
      expect(small.requestCounts()).toEqual({ total: 25, byVerb: { list: 20, watch: 5 }, byResource: { 'list configmaps': 20, 'watch configmaps': 5 } });
    } finally {
      await small.stop();
    }
  });

  test('a watch from before the oldest change kept answers 410 Expired, from just at it replays the rest', async () => {
    const small = await KubeStandin.start({ historyLimit: 5 });
    try {
      const configMaps = typeOfKind('ConfigMap');
      for (let i = 1; i <= 10; i++) small.store.create(configMaps, 'small', { metadata: { name: `cm-${i}` }, data: { i: String(i) } });
      const at = async (rv: number) => (await (await fetch(`${small.url}/api/v1/namespaces/small/configmaps?watch=true&resourceVersion=${rv}&timeoutSeconds=1`)).text()).trim().split('\n').map((l) => JSON.parse(l) as { type: string; object: { metadata: { name: string }; message?: string } });
      expect(await at(4)).toEqual([{ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'too old resource version: 4 (5)', reason: 'Expired', code: 410 } }]);
      expect((await at(5)).map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED cm-6', 'ADDED cm-7', 'ADDED cm-8', 'ADDED cm-9', 'ADDED cm-10']);
    } finally {
      await small.stop();
    }
  });
});

describe('a fleet of services', () => {
  test('seedServices rolls out N services and fleetConfig describes them in a valid lifeguard.yaml', async () => {
    const fleet = await KubeStandin.start({ readyDelayMs: 0, syncDelayMs: 0 });
    try {
      const services = await seedServices(fleet, 120);
      expect(services.map((s) => s.name).slice(0, 2)).toEqual(['svc-0001', 'svc-0002']);
      expect(new Set(services.map((s) => s.namespace))).toEqual(new Set(['fleet-01', 'fleet-02', 'fleet-03']));
      expect(fleet.store.peekAll(DEPLOYMENTS)).toHaveLength(240);
      expect(fleet.store.peekAll(typeOfKind('ReplicaSet'))).toHaveLength(240);
      expect(fleet.store.peekAll(typeOfKind('VirtualService'))).toHaveLength(40);
      expect(fleet.store.peekAll(typeOfKind('HTTPRoute'))).toHaveLength(40);
      const stable = fleet.store.peek(DEPLOYMENTS, 'fleet-03', 'svc-0120')!;
      expect(stable.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('1');

      const config = parseConfig(fleetConfig(services, { context: 'lifeguard-standin' }));
      expect(Object.keys(config.services)).toHaveLength(120);
      expect(config.services['svc-0002']!.environments.production).toMatchObject({ namespace: 'fleet-01', stable: 'svc-0002', canary: 'svc-0002-canary', traffic: { gatewayApi: { httpRoute: 'svc-0002' } } });
      expect(Object.keys(parseConfig(fleetConfig(services, { withCheckout: true })).services)).toContain('checkout');
    } finally {
      await fleet.stop();
    }
  });
});
