import { afterEach, describe, expect, test } from 'vitest';
import type { Operation } from '../../src/domain/operation.js';
import { fastConfig, manualLeadership, startEngine, verdict, type EngineHarness } from '../support/engine-harness.js';
import { useTempDirs } from '../support/tmp.js';
import { until } from '../support/until.js';

/*
 * The release engine against the real Kubernetes adapter and API-server stand-in and a real SQLite store.
 * Verdicts are the engine's input here (the whole chain with Prometheus and Slack is in test/e2e/), so each
 * case can say exactly what the analysis concluded and check what the engine did to the cluster.
 */

const tempDir = useTempDirs();
const running: EngineHarness[] = [];
afterEach(async () => {
  for (const env of running.splice(0)) await env.stop();
});

async function start(config = fastConfig(), opts: Parameters<typeof startEngine>[2] = {}): Promise<EngineHarness> {
  const env = await startEngine(tempDir(), config, opts);
  running.push(env);
  return env;
}

/** Feeds passing canary verdicts until the operation reaches `done`, as the analysis loop would every interval. */
async function passUntil(env: EngineHarness, id: number, done: (op: Operation) => boolean): Promise<Operation> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const current = env.op(id);
    if (done(current)) return current;
    if (Date.now() > deadline) throw new Error(`operation ${id} is still ${current.state}/${current.phase} at ${current.weight} %`);
    if (current.phase === 'hold' && current.state === 'running') await env.engine.onVerdicts([verdict('pass')]);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the release engine against the Kubernetes stand-in', () => {
  test('a good canary goes 5 → 25 → 50, waits for Promote, and ends on the new version with all traffic on the stable', async () => {
    const env = await start();
    const started = await env.engine.startFromRequest(env.grant('1.5.0'));
    expect(started.ok).toBe(true);
    const id = started.ok ? started.operation.id : 0;

    const waiting = await passUntil(env, id, (op) => op.state === 'paused');
    expect(waiting.pause?.reason).toBe('promotion');
    expect(waiting.weight).toBe(50);
    expect((await env.cluster()).traffic.canary).toBe(50);

    const denied = await env.engine.control(id, 'U0MALLORY', 'promote');
    expect(denied).toMatchObject({ ok: false, denial: 'no-role' });
    const promoted = await env.engine.control(id, 'U0ALICE', 'promote');
    expect(promoted.ok).toBe(true);

    const done = await passUntil(env, id, (op) => op.state === 'promoted');
    const state = await env.cluster();
    expect(state.stable.image).toBe('registry.example.com/shop/checkout:1.5.0');
    expect(state.canary.replicas.desired).toBe(0);
    expect(state.traffic).toMatchObject({ stable: 100, canary: 0 });
    expect(done.promotions).toEqual([expect.objectContaining({ user: 'U0ALICE', weight: 50 })]);

    const steps = env.sqlite.db.prepare<[], { detail: string }>(`SELECT detail FROM audit_log WHERE action = 'operation.step' ORDER BY id`).all();
    expect(steps.map((r) => (JSON.parse(r.detail) as { weight: number }).weight)).toEqual([5, 25, 50, 100]);
    expect(env.told.filter((t) => t.message.kind === 'note').map((t) => (t.message as { headline: string }).headline)).toEqual(
      expect.arrayContaining([expect.stringContaining('Step 1 of 4'), expect.stringContaining('Promoted by <@U0ALICE>'), expect.stringContaining('Watch period over')]),
    );
  });

  test('a failing verdict drains the canary first, then restores it, verifies the stable, and tells the incident channel', async () => {
    const env = await start();
    const before = await env.cluster();
    const started = await env.engine.startFromRequest(env.grant('1.5.0-bad'));
    const id = started.ok ? started.operation.id : 0;
    await until(() => (env.op(id).phase === 'hold' ? true : undefined));
    const writesBefore = env.fixture.standin.requests.length;

    await env.engine.onVerdicts([verdict('fail')]);
    const firstWrite = env.fixture.standin.requests.slice(writesBefore).find((r) => r.method !== 'GET');
    expect(firstWrite).toMatchObject({ resource: 'virtualservices', method: 'PATCH' });

    const done = await until(() => (env.op(id).state === 'rolled-back' ? env.op(id) : undefined));
    const after = await env.cluster();
    expect(after.traffic).toMatchObject({ stable: 100, canary: 0 });
    expect(after.canary.replicas.desired).toBe(0);
    expect(after.canary.image).toBe(before.stable.image);
    expect(after.stable.revision).toBe(before.stable.revision);
    expect(done.rollback).toMatchObject({ trigger: 'verdict', weightReached: 5, failing: [expect.objectContaining({ metric: 'error-rate', canary: 0.081, baseline: 0.004, thresholds: ['≤ 0.03'] })] });
    expect(done.rollback?.verifiedAt).not.toBeNull();
    expect(env.told.filter((t) => t.message.kind === 'incident').length).toBeGreaterThanOrEqual(1);

    const decision = env.sqlite.db.prepare<[], { detail: string }>(`SELECT detail FROM audit_log WHERE action = 'rollback.automated'`).get();
    expect(JSON.parse(decision!.detail)).toMatchObject({ failing: [{ metric: 'error-rate', canary: 0.081, baseline: 0.004, thresholds: ['≤ 0.03'] }] });
  });

  test('a promoted release whose stable fails during the watch is rolled back to the revision it ran before', async () => {
    const env = await start(fastConfig({ steps: [50, 100], pauseForApprovalAt: [], watch: 5_000 }));
    const before = await env.cluster();
    const started = await env.engine.startFromRequest(env.grant('1.5.0'));
    const id = started.ok ? started.operation.id : 0;
    await passUntil(env, id, (op) => op.phase === 'watch');
    env.stableVerdicts.push('fail');
    const done = await until(() => (['rolled-back', 'failed'].includes(env.op(id).state) ? env.op(id) : undefined));
    expect(done.state).toBe('rolled-back');
    expect(done.rollback).toMatchObject({ trigger: 'watch', afterPromotion: true });
    const after = await env.cluster();
    expect(after.stable.image).toBe(before.stable.image);
    expect(after.history[0]?.formerRevisions).toContain(before.stable.revision);
  });

  test('a second failing canary within the cooldown is paused and escalated instead of rolled back', async () => {
    const env = await start();
    const first = await env.engine.startFromRequest(env.grant('1.5.0-bad'));
    const firstId = first.ok ? first.operation.id : 0;
    await until(() => (env.op(firstId).phase === 'hold' ? true : undefined));
    await env.engine.onVerdicts([verdict('fail')]);
    await until(() => (env.op(firstId).state === 'rolled-back' ? true : undefined));

    const second = await env.engine.startFromRequest(env.grant('1.5.1-bad'));
    const secondId = second.ok ? second.operation.id : 0;
    await until(() => (env.op(secondId).phase === 'hold' ? true : undefined));
    await env.engine.onVerdicts([verdict('fail')]);
    const escalated = env.op(secondId);
    expect(escalated.state).toBe('paused');
    expect(escalated.pause?.reason).toBe('cooldown');
    expect((await env.cluster()).traffic.canary).toBe(5);
    const incidents = env.told.filter((t) => t.message.kind === 'incident' && t.op.id === secondId);
    expect(incidents).toHaveLength(1);
  });

  test('one operation at a time per service and environment, and a control on a finished one is refused', async () => {
    const env = await start();
    const first = await env.engine.startFromRequest(env.grant('1.5.0'));
    const second = await env.engine.startFromRequest(env.grant('1.6.0'));
    expect(second).toMatchObject({ ok: false, running: { id: first.ok ? first.operation.id : -1 } });
    const id = first.ok ? first.operation.id : 0;
    expect(await env.engine.control(id, 'U0ALICE', 'abort')).toMatchObject({ ok: true });
    await until(() => (env.op(id).state === 'aborted' ? true : undefined));
    expect(await env.engine.control(id, 'U0ALICE', 'pause')).toMatchObject({ ok: false, denial: 'refused' });
  });

  test('only the leader writes to the cluster: a replica without the lease records, and the new leader carries on from the store', async () => {
    const lease = manualLeadership(false);
    const env = await start(fastConfig(), { leadership: lease });
    const writes = () => env.fixture.standin.requests.filter((r) => r.method !== 'GET').length;
    const before = writes();
    const started = await env.engine.startFromRequest(env.grant('1.5.0'));
    const id = started.ok ? started.operation.id : 0;
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(writes()).toBe(before);
    expect(env.op(id)).toMatchObject({ state: 'running', phase: 'deploy-canary', pending: { type: 'deploy-canary' } });

    lease.set(true);
    await until(() => (env.op(id).phase === 'hold' ? true : undefined));
    expect((await env.cluster()).traffic.canary).toBe(5);

    lease.set(false);
    await env.engine.onVerdicts([verdict('pass')]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const held = writes();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(writes()).toBe(held);
  });

  test('a failing canary Lifeguard did not start is drained and restored as an automated rollback', async () => {
    const env = await start();
    const { workloads, traffic } = env.fixture.cluster;
    const target = env.fixture.production;
    // Someone ran a canary by hand: a new image, two pods and a fifth of the traffic.
    await workloads.setCanaryImage(target, 'registry.example.com/shop/checkout:9.9.9');
    await workloads.scaleCanary(target, 2);
    await traffic.set(target, 20);
    const before = await env.cluster();

    await env.engine.onVerdicts([verdict('fail')]);
    // The drain is the first operation of this store.
    const op = await until(() => (env.op(1) as Operation | undefined)?.state === 'rolled-back' ? env.op(1) : undefined);
    expect(op).toMatchObject({ kind: 'rollback', requestId: null, to: null, rollback: { trigger: 'unmanaged', weightReached: 20 } });
    const after = await env.cluster();
    expect(after.traffic).toMatchObject({ stable: 100, canary: 0 });
    expect(after.canary).toMatchObject({ image: before.stable.image, replicas: expect.objectContaining({ desired: 0 }) });
    expect(after.stable.revision).toBe(before.stable.revision);
    expect(env.told.some((t) => t.op.id === op.id && t.message.kind === 'incident')).toBe(true);
  });

  test('a request granted just before a crash, whose operation was never recorded, starts when the engine does', async () => {
    const lease = manualLeadership(false);
    const env = await start(fastConfig(), { leadership: lease });
    const request = env.grant('1.5.0');
    expect(env.engine.forRequest(request.id)).toBeUndefined();
    lease.set(true);
    const op = await until(() => env.engine.forRequest(request.id));
    expect(op).toMatchObject({ requestId: request.id, kind: 'release', to: { version: '1.5.0' } });
  });
});
