import { afterEach, describe, expect, test } from 'vitest';
import { runCli } from '../support/cli.js';
import { fastConfig, manualLeadership, startEngine, verdict, type EngineHarness } from '../support/engine-harness.js';
import { useTempDirs } from '../support/tmp.js';
import { until } from '../support/until.js';

/*
 * Evidence kept at rollback decisions (issue #12): the release engine against the Kubernetes stand-in and a real
 * SQLite store, then `lifeguard evidence` run as the real CLI against that database.
 */

const tempDir = useTempDirs();
const running: EngineHarness[] = [];
afterEach(async () => {
  for (const env of running.splice(0)) await env.stop();
});

async function start(opts: Parameters<typeof startEngine>[2] = {}): Promise<EngineHarness> {
  const env = await startEngine(tempDir(), fastConfig(), opts);
  running.push(env);
  return env;
}

const IMAGE = 'registry.example.com/shop/checkout';
const MiB = 1024 * 1024;

/** A release of `version` held at its first step, then failed by a verdict; its id, once its evidence is kept. */
async function failedRelease(env: EngineHarness, version: string): Promise<{ id: number; requestsBefore: number }> {
  const started = await env.engine.startFromRequest(env.grant(version));
  const id = started.ok ? started.operation.id : 0;
  await until(() => (env.op(id).phase === 'hold' ? true : undefined));
  const requestsBefore = env.fixture.standin.requests.length;
  await env.engine.onVerdicts([verdict('fail')]);
  await until(() => env.evidence.get(id));
  return { id, requestsBefore };
}

const auditRows = (env: EngineHarness, action: string) =>
  env.sqlite.db.prepare<[string], { detail: string }>('SELECT detail FROM audit_log WHERE action = ? ORDER BY id').all(action).map((r) => JSON.parse(r.detail) as Record<string, unknown>);

describe('evidence kept at a rollback decision', () => {
  test('a failing verdict keeps the canary pod logs, the Events, both Deployments and the failing metrics, after the drain; the CLI prints them', async () => {
    const env = await start();
    const { id, requestsBefore } = await failedRelease(env, '1.5.0-bad');

    // The drain went first: no log was read before the route was patched.
    const after = env.fixture.standin.requests.slice(requestsBefore);
    const firstWrite = after.findIndex((r) => r.method !== 'GET');
    expect(after[firstWrite]).toMatchObject({ resource: 'virtualservices', method: 'PATCH' });
    expect(after.findIndex((r) => r.resource === 'pods/log')).toBeGreaterThan(firstWrite);

    const kept = env.evidence.get(id)!;
    expect(kept).toMatchObject({ operationId: id, kind: 'release', trigger: 'verdict', from: { version: '1.4.2' }, to: { version: '1.5.0-bad' }, weightReached: 5 });
    expect(kept.failing).toEqual([expect.objectContaining({ metric: 'error-rate', canary: 0.081, baseline: 0.004, thresholds: ['≤ 0.03'] })]);
    const apps = kept.logs.filter((log) => log.container === 'app');
    expect(apps.length).toBeGreaterThan(0);
    for (const log of kept.logs) expect(log).toMatchObject({ pod: expect.stringMatching(/^checkout-canary-/), cutBytes: 0 });
    for (const log of apps) expect(log.lines).toContainEqual(expect.stringContaining(`INFO starting app image=${IMAGE}:1.5.0-bad`));
    expect(kept.events).toContainEqual(expect.objectContaining({ object: 'Deployment/checkout-canary', reason: 'ScalingReplicaSet' }));
    expect(kept.events).toContainEqual(expect.objectContaining({ object: expect.stringMatching(/^Pod\/checkout-canary-/), reason: 'Started' }));
    expect(kept.deployments.canary).toMatchObject({ metadata: { name: 'checkout-canary' }, spec: { template: { spec: { containers: expect.arrayContaining([expect.objectContaining({ name: 'app', image: `${IMAGE}:1.5.0-bad` })]) } } } });
    expect(kept.deployments.stable).not.toHaveProperty('metadata.managedFields');
    expect(auditRows(env, 'evidence.kept')).toEqual([expect.objectContaining({ operation: id, logs: kept.logs.length, bound: expect.objectContaining({ maxBytes: MiB, cutBytes: 0 }) })]);

    await until(() => (env.op(id).state === 'rolled-back' ? true : undefined));
    // Gathered once, however often the operation was reconciled since.
    expect(env.sqlite.db.prepare('SELECT count(*) AS n FROM evidence').get()).toEqual({ n: 1 });

    const db = env.sqlite.file;
    const printed = await runCli(['evidence', String(id), '--db', db]);
    expect(printed.stderr).toBe('');
    expect(printed.code).toBe(0);
    expect(printed.stdout).toContain(`Operation #${id}: release of checkout/production, 1.4.2 → 1.5.0-bad`);
    expect(printed.stdout).toMatch(/error-rate\s+high\s+0\.081\s+0\.004\s+≤ 0\.03/);
    expect(printed.stdout).toContain(`image app=${IMAGE}:1.5.0-bad`);
    expect(printed.stdout).toMatch(/Normal\s+ScalingReplicaSet\s+Deployment\/checkout-canary/);
    expect(printed.stdout).toMatch(/==> checkout-canary-\S+ \/ app <==/);
    expect(printed.stdout).toContain(`INFO starting app image=${IMAGE}:1.5.0-bad`);

    const json = await runCli(['evidence', `#${id}`, '--json', '--db', db]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(kept);

    const unknown = await runCli(['evidence', '999', '--db', db]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^lifeguard evidence: there is no operation #999 in .*lifeguard\.db\n\nusage: lifeguard evidence <operation-id>/);
    const malformed = await runCli(['evidence', 'latest', '--db', db]);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('"latest" is not an operation id');
  });

  test('a rollback someone asked for keeps evidence too; a release never rolled back has none', async () => {
    const env = await start();
    const started = await env.engine.startFromRequest(await env.grantRollback('errors after 1.4.2'));
    const id = started.ok ? started.operation.id : 0;
    const kept = await until(() => env.evidence.get(id));
    expect(kept).toMatchObject({ operationId: id, kind: 'rollback', trigger: 'manual', by: 'U0CARLA', why: 'errors after 1.4.2', failing: [], from: { version: '1.4.2' }, to: { version: '1.4.1' } });
    expect(kept.deployments.stable).toMatchObject({ metadata: { name: 'checkout' } });
    expect(kept.events.length).toBeGreaterThan(0);
    await until(() => (env.op(id).state === 'rolled-back' ? true : undefined));

    const printed = await runCli(['evidence', String(id), '--db', env.sqlite.file]);
    expect(printed.code).toBe(0);
    expect(printed.stdout).toContain('Rollback decided');
    expect(printed.stdout).toContain('(manual) by U0CARLA');

    const release = await env.engine.startFromRequest(env.grant('1.5.0'));
    const releaseId = release.ok ? release.operation.id : 0;
    const none = await runCli(['evidence', String(releaseId), '--db', env.sqlite.file]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(`operation #${releaseId} (release of checkout/production) was never rolled back`);
  });

  test('a failing canary Lifeguard did not start keeps evidence of its drain', async () => {
    const env = await start();
    const { workloads, traffic } = env.fixture.cluster;
    await workloads.setCanaryImage(env.fixture.production, `${IMAGE}:9.9.9`);
    await workloads.scaleCanary(env.fixture.production, 2);
    await traffic.set(env.fixture.production, 20);
    await workloads.waitForRollout(env.fixture.production, 'canary', { timeoutMs: 10_000 });

    await env.engine.onVerdicts([verdict('fail')]);
    const kept = await until(() => env.evidence.get(1));
    expect(kept).toMatchObject({ kind: 'rollback', trigger: 'unmanaged', to: null, weightReached: 20 });
    expect(kept.logs.filter((log) => log.container === 'app').map((log) => log.lines[0])).toEqual([expect.stringContaining(`image=${IMAGE}:9.9.9`), expect.stringContaining(`image=${IMAGE}:9.9.9`)]);
  });

  test('a rollback recorded by a replica without the lease gets its evidence from the leader that drains it', async () => {
    const lease = manualLeadership(false);
    const env = await start({ leadership: lease });
    const started = await env.engine.startFromRequest(await env.grantRollback('errors after 1.4.2'));
    const id = started.ok ? started.operation.id : 0;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(env.evidence.has(id)).toBe(false);

    lease.set(true);
    expect(await until(() => env.evidence.get(id))).toMatchObject({ operationId: id, trigger: 'manual' });
    await until(() => (env.op(id).state === 'rolled-back' ? true : undefined));
    expect(auditRows(env, 'evidence.kept')).toHaveLength(1);
  });

  test('evidence the cluster refuses is audited as evidence.failed, and the rollback goes on without it', async () => {
    const env = await start();
    const started = await env.engine.startFromRequest(env.grant('1.5.0-bad'));
    const id = started.ok ? started.operation.id : 0;
    await until(() => (env.op(id).phase === 'hold' ? true : undefined));
    env.fixture.standin.inject({ path: /\/api\/v1\/namespaces\/shop\/events$/, method: 'GET', status: 403 });

    await env.engine.onVerdicts([verdict('fail')]);
    const [failed] = await until(() => (auditRows(env, 'evidence.failed').length > 0 ? auditRows(env, 'evidence.failed') : undefined));
    expect(failed).toMatchObject({ operation: id, error: expect.stringContaining('403') });
    expect((await until(() => (env.op(id).state === 'rolled-back' ? env.op(id) : undefined))).outcome).toBe('rolled back, verified');
    expect(env.evidence.has(id)).toBe(false);
    const none = await runCli(['evidence', String(id), '--db', env.sqlite.file]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(`no evidence was kept for operation #${id} (release of checkout/production): gathering it failed`);
  });

  test('a 10 MiB canary log is cut to the bound, keeping its last lines, and says so', async () => {
    const env = await start();
    env.fixture.standin.noisyImage(`${IMAGE}:1.5.0-noisy`, 10 * MiB);
    const { id } = await failedRelease(env, '1.5.0-noisy');

    const row = env.sqlite.db.prepare<[number], { bytes: number; length: number }>('SELECT bytes, length(CAST(payload AS BLOB)) AS length FROM evidence WHERE operation_id = ?').get(id)!;
    expect(row.bytes).toBe(row.length);
    expect(row.bytes).toBeLessThanOrEqual(MiB);
    const kept = env.evidence.get(id)!;
    const apps = kept.logs.filter((log) => log.container === 'app');
    expect(apps.length).toBeGreaterThan(0);
    // Lines are kept whole: each cut log may give up to one 128 KiB line more than the bound asks.
    expect(row.bytes).toBeGreaterThan(MiB - apps.length * 128 * 1024);
    for (const log of apps) {
      // Each pod wrote 10 MiB plus its start-up lines; what is kept is its end, the most recent lines.
      expect(log.cutBytes).toBeGreaterThan(9 * MiB);
      expect(log.lines.at(-1)).toMatch(/DEBUG last payload=x+$/);
    }
    expect(kept.bound.cutBytes).toBe(kept.logs.reduce((total, log) => total + log.cutBytes, 0));

    const printed = await runCli(['evidence', String(id), '--db', env.sqlite.file]);
    expect(printed.code).toBe(0);
    expect(printed.stdout).toContain(`… ${apps[0]!.cutBytes} bytes cut (evidence bound 1048576 bytes)`);
    expect(printed.stdout).toContain(`bytes kept (evidence bound 1048576 bytes), ${kept.bound.cutBytes} bytes of log cut`);
  });
});
