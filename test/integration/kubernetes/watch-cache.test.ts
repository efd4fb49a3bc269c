import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, test } from 'vitest';
import { kubernetesCluster } from '../../../src/adapters/kubernetes/cluster.js';
import { CUT_WITHIN_MS } from '../../../src/adapters/kubernetes/reporting-watch.js';
import { createLogger } from '../../../src/log.js';
import type { Cluster } from '../../../src/ports.js';
import { typeOfKind } from '../../support/kube-standin/resources.js';
import { CHECKOUT_IMAGE } from '../../support/kube-standin/seed.js';
import { exampleConfig, kubeConfigOf, startFixture, type Fixture } from './fixture.js';
import { kubectl } from './kubectl.js';

let f: Fixture;
let watched: Cluster;

afterEach(async () => {
  await watched?.stop?.();
  await f?.standin.stop();
});

function logLines() {
  const lines: { level: number; msg: string }[] = [];
  const log = createLogger({ level: 'info', destination: new Writable({ write: (chunk, _e, done) => (lines.push(JSON.parse(String(chunk)) as { level: number; msg: string }), done()) }) });
  return { log, lines };
}

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return { value, ms: performance.now() - started };
    if (performance.now() - started > timeoutMs) throw new Error(`not seen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const stableImage = async () => (await watched.workloads.readState(f.production)).stable.image;

describe('reads from watched copies (lifeguard start)', () => {
  test('after the first read, reading the state of a service sends no request to the API server', async () => {
    f = await startFixture();
    watched = kubernetesCluster(exampleConfig, { reads: 'watch', kubeConfig: () => kubeConfigOf(f.kubeconfig) });
    await watched.workloads.readState(f.production);
    const before = f.standin.requests.length;
    for (let i = 0; i < 50; i++) await watched.workloads.readState(f.production);
    expect(f.standin.requests.slice(before).filter((r) => r.verb !== 'watch')).toEqual([]);
  });

  test('a cluster set to `watch: false` is read from the API server at every read', async () => {
    f = await startFixture();
    const config = { ...exampleConfig, clusters: { prod: { ...exampleConfig.clusters.prod!, watch: false } } };
    watched = kubernetesCluster(config, { reads: 'watch', kubeConfig: () => kubeConfigOf(f.kubeconfig) });
    await watched.workloads.readState(f.production);
    const before = f.standin.requests.length;
    for (let i = 0; i < 5; i++) await watched.workloads.readState(f.production);
    const requests = f.standin.requests.slice(before);
    expect(requests.filter((r) => r.verb === 'get' && r.resource === 'deployments')).toHaveLength(10);
    expect(requests.filter((r) => r.verb === 'watch')).toEqual([]);
  });

  test('a Deployment changed with kubectl is seen within a second', async () => {
    f = await startFixture();
    watched = kubernetesCluster(exampleConfig, { reads: 'watch', kubeConfig: () => kubeConfigOf(f.kubeconfig) });
    expect(await stableImage()).toBe(`${CHECKOUT_IMAGE}:1.4.2`);
    const set = await kubectl(f.kubeconfig, ['-n', 'shop', 'set', 'image', 'deployment/checkout', `app=${CHECKOUT_IMAGE}:1.4.3`]);
    expect(set.code, set.stderr).toBe(0);
    const seen = await until(async () => ((await stableImage()) === `${CHECKOUT_IMAGE}:1.4.3` ? true : undefined), 5_000);
    expect(seen.ms).toBeLessThan(1_000);
  });

  test('a write is read back at once: the next read never shows the state from before it', async () => {
    f = await startFixture();
    watched = kubernetesCluster(exampleConfig, { reads: 'watch', kubeConfig: () => kubeConfigOf(f.kubeconfig) });
    await watched.workloads.readState(f.production);
    for (const [image, percent] of [['1.5.0', 10], ['1.5.1', 30], ['1.5.2', 0]] as const) {
      await watched.workloads.setCanaryImage(f.production, `${CHECKOUT_IMAGE}:${image}`);
      await watched.traffic.set(f.production, percent);
      const state = await watched.workloads.readState(f.production);
      expect([state.canary.image, state.traffic.canary]).toEqual([`${CHECKOUT_IMAGE}:${image}`, percent]);
    }
  });

  test('survives the API server closing its watches with 410 Gone, without missing a change made meanwhile', async () => {
    f = await startFixture();
    const { log, lines } = logLines();
    watched = kubernetesCluster(exampleConfig, { reads: 'watch', log, kubeConfig: () => kubeConfigOf(f.kubeconfig) });
    await watched.workloads.readState(f.production);
    const before = f.standin.requests.length;
    f.standin.expireWatches();
    // Changed while the watches are gone: the re-list has to bring it.
    const scale = await kubectl(f.kubeconfig, ['-n', 'shop', 'scale', 'deployment/checkout', '--replicas=6']);
    expect(scale.code, scale.stderr).toBe(0);
    const seen = await until(async () => ((await watched.workloads.readState(f.production)).stable.replicas.desired === 6 ? true : undefined), 5_000);
    expect(seen.ms).toBeLessThan(1_000);
    const relisted = f.standin.requests.slice(before).filter((r) => r.verb === 'list').map((r) => r.resource);
    expect(relisted).toContain('deployments');
    // And it goes on watching: a later change arrives too.
    await kubectl(f.kubeconfig, ['-n', 'shop', 'set', 'image', 'deployment/checkout', `app=${CHECKOUT_IMAGE}:1.4.4`]);
    await until(async () => ((await stableImage()) === `${CHECKOUT_IMAGE}:1.4.4` ? true : undefined), 1_000);
    expect(lines.filter((l) => l.level >= 40)).toEqual([]);
  });

  test('while a watch is down its reads go to the API server, and it comes back by itself, each said once', async () => {
    f = await startFixture();
    const { log, lines } = logLines();
    watched = kubernetesCluster(exampleConfig, { reads: 'watch', log, kubeConfig: () => kubeConfigOf(f.kubeconfig) });
    await watched.workloads.readState(f.production);
    // The collection (list and watch) answers 503: the watch cannot be made again after the server drops it.
    const unfault = f.standin.inject({ path: '/apis/apps/v1/namespaces/shop/deployments', method: 'GET', status: 503 });
    f.standin.expireWatches();
    await until(async () => (lines.some((l) => l.msg.startsWith('the watch of deployments in shop')) ? true : undefined), 5_000);
    const set = await kubectl(f.kubeconfig, ['-n', 'shop', 'set', 'image', 'deployment/checkout', `app=${CHECKOUT_IMAGE}:1.4.5`]);
    expect(set.code, set.stderr).toBe(0);
    // Read from the server meanwhile: the change shows although no watch can bring it.
    expect(await stableImage()).toBe(`${CHECKOUT_IMAGE}:1.4.5`);
    unfault();
    await until(async () => (lines.some((l) => l.msg.endsWith('is back')) ? true : undefined), 10_000);
    const before = f.standin.requestCounts().byVerb.get ?? 0;
    await watched.workloads.readState(f.production);
    expect(f.standin.requestCounts().byVerb.get ?? 0).toBe(before);
    const told = lines.filter((l) => l.msg.includes('the watch of deployments in shop')).map((l) => l.msg);
    expect(told).toEqual([
      'the watch of deployments in shop on cluster "prod" broke; reads go to the API server while it reconnects',
      'the watch of deployments in shop on cluster "prod" is back',
    ]);
  });

  test('a watch that cannot be reopened after a clean close, its credentials failing, is known down: no stale read, and back by itself', async () => {
    f = await startFixture();
    const { log, lines } = logLines();
    // An exec credential plugin, as EKS and GKE use, that fails while `fail` exists; its token expires at once, so every request runs it.
    const dir = mkdtempSync(join(tmpdir(), 'lifeguard-exec-'));
    const failing = join(dir, 'fail');
    const plugin = join(dir, 'credentials.sh');
    writeFileSync(
      plugin,
      `#!/bin/sh\nif [ -e '${failing}' ]; then echo 'the token service is unavailable' >&2; exit 1; fi\n` +
        `echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"standin-token","expirationTimestamp":"2000-01-01T00:00:00Z"}}'\n`,
      { mode: 0o755 },
    );
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, readFileSync(f.kubeconfig, 'utf8').replace('    token: standin-token', `    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: ${plugin}\n      interactiveMode: Never`));
    watched = kubernetesCluster(exampleConfig, { reads: 'watch', log, kubeConfig: () => kubeConfigOf(kubeconfig) });
    try {
      expect(await stableImage()).toBe(`${CHECKOUT_IMAGE}:1.4.2`);
      // Past the second in which a watch ended with nothing to show counts as cut (reporting-watch.ts), so the close below is a timeout's.
      await new Promise((r) => setTimeout(r, CUT_WITHIN_MS + 200));
      writeFileSync(failing, '');
      // The server ends the watches as at their timeout; the informer reopens them by itself, and the plugin fails before any request leaves.
      f.standin.endWatches();
      const broke = await until(async () => lines.find((l) => l.msg.startsWith('the watch of deployments in shop')), 5_000);
      expect((broke.value as unknown as { err: { message: string } }).err.message).toContain('the token service is unavailable');
      const set = await kubectl(f.kubeconfig, ['-n', 'shop', 'set', 'image', 'deployment/checkout', `app=${CHECKOUT_IMAGE}:1.4.6`]);
      expect(set.code, set.stderr).toBe(0);
      // Not the image from before the change: the read goes to the API server, and fails for the same credentials.
      await expect(stableImage()).rejects.toThrow(/token service is unavailable/);
      rmSync(failing);
      await until(async () => (lines.some((l) => l.msg === 'the watch of deployments in shop on cluster "prod" is back') ? true : undefined), 10_000);
      const before = f.standin.requestCounts().byVerb.get ?? 0;
      expect(await stableImage()).toBe(`${CHECKOUT_IMAGE}:1.4.6`);
      expect(f.standin.requestCounts().byVerb.get ?? 0).toBe(before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('watches cut as soon as they open are said once and retried with back-off, not reopened in a loop; reads go to the API server meanwhile', async () => {
    f = await startFixture();
    const { log, lines } = logLines();
    watched = kubernetesCluster(exampleConfig, { reads: 'watch', log, kubeConfig: () => kubeConfigOf(f.kubeconfig) });
    await watched.workloads.readState(f.production);
    const uncut = f.standin.cutWatches(0);
    f.standin.endWatches();
    const watchesBefore = f.standin.requestCounts().byVerb.watch ?? 0;
    await until(async () => (lines.some((l) => l.msg.startsWith('the watch of deployments in shop')) ? true : undefined), 5_000);
    const set = await kubectl(f.kubeconfig, ['-n', 'shop', 'set', 'image', 'deployment/checkout', `app=${CHECKOUT_IMAGE}:1.4.7`]);
    expect(set.code, set.stderr).toBe(0);
    expect(await stableImage()).toBe(`${CHECKOUT_IMAGE}:1.4.7`);
    await new Promise((r) => setTimeout(r, 4_000));
    // Three watched resources, each cut at once and reopened after 1 s and 2 s more of back-off (perhaps 4 s more on a slow machine).
    expect((f.standin.requestCounts().byVerb.watch ?? 0) - watchesBefore).toBeLessThanOrEqual(3 * 4);
    uncut();
    await until(async () => (lines.some((l) => l.msg === 'the watch of deployments in shop on cluster "prod" is back') ? true : undefined), 20_000);
    const told = lines.filter((l) => l.msg.includes('the watch of deployments in shop'));
    expect(told.map((l) => l.msg)).toEqual([
      'the watch of deployments in shop on cluster "prod" broke; reads go to the API server while it reconnects',
      'the watch of deployments in shop on cluster "prod" is back',
    ]);
    expect((told[0] as unknown as { err: { message: string } }).err.message).toContain('cuts long requests; if it always does, set clusters.prod.watch: false');
  });

  test('a Deployment deleted from the cluster is gone from the reads', async () => {
    f = await startFixture();
    watched = kubernetesCluster(exampleConfig, { reads: 'watch', kubeConfig: () => kubeConfigOf(f.kubeconfig) });
    await watched.workloads.readState(f.production);
    f.standin.store.delete(typeOfKind('Deployment'), 'shop', 'checkout-canary');
    const error = await until(
      () => watched.workloads.readState(f.production).then(() => undefined, (e: unknown) => e as Error),
      1_000,
    );
    expect(error.value.message).toBe('Deployment shop/checkout-canary not found on cluster "prod": check services.checkout.environments.production.canary in lifeguard.yaml');
  });

  test('where RBAC allows no watch, reads go to the API server each time, said once', async () => {
    f = await startFixture({
      rbac: [
        { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'patch'] },
        { apiGroups: ['apps'], resources: ['replicasets'], verbs: ['list'] },
        { apiGroups: ['networking.istio.io'], resources: ['virtualservices'], verbs: ['get', 'patch'] },
      ].map((r) => ({ ...r, namespaces: ['shop'] })),
    });
    const { log, lines } = logLines();
    watched = kubernetesCluster(exampleConfig, { reads: 'watch', log, kubeConfig: () => kubeConfigOf(f.kubeconfig) });
    for (let i = 0; i < 5; i++) await watched.workloads.readState(f.production);
    const warnings = lines.filter((l) => l.level === 40).map((l) => l.msg);
    expect(warnings.sort()).toEqual(
      ['deployments', 'replicasets', 'virtualservices'].map(
        (plural) => `Lifeguard may not list and watch ${plural} in shop on cluster "prod", so it reads them from the API server each time: grant list and watch (manifests/rbac.yaml) to spare the API server`,
      ),
    );
    expect(f.standin.requests.filter((r) => r.verb === 'get' && r.resource === 'deployments').length).toBeGreaterThanOrEqual(10);
  });
});
