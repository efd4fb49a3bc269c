import { afterEach, describe, expect, test } from 'vitest';
import { SqliteWaiterRepository } from '../../src/adapters/sqlite/waiters.js';
import { fastConfig, startEngine, verdict, type EngineHarness } from '../support/engine-harness.js';
import { useTempDirs } from '../support/tmp.js';
import { until } from '../support/until.js';

/*
 * Rollbacks people ask for, through the release engine against the Kubernetes stand-in and a real SQLite store:
 * what `kubectl rollout undo` would do, a running release pre-empted (traffic to the stable before anything
 * else), one rollback at a time, and a release granted before a freeze began that does not start in it.
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

describe('a rollback through the engine', () => {
  test('goes where `kubectl rollout undo` goes, verifies, and holds the version it took away', async () => {
    const env = await start();
    const before = await env.cluster();
    expect(before.history.map((r) => [r.revision, r.images.app])).toEqual([[3, `${IMAGE}:1.4.2`], [2, `${IMAGE}:1.4.1`], [1, `${IMAGE}:1.4.0`]]);
    const grant = await env.grantRollback('errors after 1.4.2');
    const started = await env.engine.startFromRequest(grant);
    expect(started).toMatchObject({ ok: true, operation: { kind: 'rollback', state: 'rolling-back', from: { version: '1.4.2', revision: 3 }, to: { version: '1.4.1', revision: 2 } } });
    const id = started.ok ? started.operation.id : 0;

    const done = await until(() => (env.op(id).state === 'rolled-back' ? env.op(id) : undefined), 20_000);
    expect(done.outcome).toBe('rolled back, verified');
    const after = await env.cluster();
    expect(after.stable.image).toBe(`${IMAGE}:1.4.1`);
    expect(after.history.map((r) => r.revision)).toEqual([4, 3, 1]);
    expect(after.traffic).toMatchObject({ stable: 100, canary: 0 });
    const held = env.sqlite.db.prepare(`SELECT version, operation_id AS operation FROM version_holds`).all();
    expect(held).toEqual([{ version: '1.4.2', operation: id }]);

    // The same grant again (a retried click, a restart) starts nothing new.
    expect(await env.engine.startFromRequest(grant)).toMatchObject({ ok: true, operation: { id, state: 'rolled-back' } });
  });

  test('pre-empts a release at 25 %: the release ends aborted by the rollback, and the route goes to the stable first', async () => {
    const env = await start();
    const release = await env.engine.startFromRequest(env.grant('1.5.0'));
    const releaseId = release.ok ? release.operation.id : 0;
    // Passing verdicts, as the analysis loop gives them every interval, until the second step.
    for (const deadline = Date.now() + 20_000; !(env.op(releaseId).phase === 'hold' && env.op(releaseId).weight === 25); ) {
      if (Date.now() > deadline) throw new Error(`the release is ${env.op(releaseId).phase} at ${env.op(releaseId).weight} %`);
      if (env.op(releaseId).phase === 'hold') await env.engine.onVerdicts([verdict('pass')]);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect((await env.cluster()).traffic.canary).toBe(25);
    const writesBefore = env.fixture.standin.requests.length;

    new SqliteWaiterRepository(env.sqlite.db).add({ operationId: releaseId, service: 'checkout', environment: 'production', user: 'U0OSCAR', asked: { kind: 'release', version: '1.6.0' } }, new Date());
    const started = await env.engine.startFromRequest(await env.grantRollback('1.4.2 is leaking memory'));
    expect(started.ok).toBe(true);
    const id = started.ok ? started.operation.id : 0;
    expect(env.op(releaseId)).toMatchObject({ state: 'aborted', outcome: `aborted by rollback #${id}`, preemptedBy: { operation: id, by: 'U0CARLA' } });

    await until(() => (env.op(id).state === 'rolled-back' ? true : undefined), 20_000);
    const writes = env.fixture.standin.requests.slice(writesBefore).filter((r) => r.method !== 'GET');
    expect(writes[0]).toMatchObject({ resource: 'virtualservices', method: 'PATCH' });
    const after = await env.cluster();
    expect(after.stable.image).toBe(`${IMAGE}:1.4.1`);
    expect(after.canary.replicas.desired).toBe(0);
    const notes = env.told.filter((t) => t.op.id === releaseId && t.message.kind === 'note').map((t) => (t.message as { headline: string }).headline);
    expect(notes.at(-1)).toBe(`Stopped at 25 % of traffic: rollback #${id}, requested by <@U0CARLA>, takes over`);
    // Oscar, refused while the release ran, now waits for the rollback that holds the service.
    expect(env.sqlite.db.prepare('SELECT operation_id AS operation, user FROM lock_waiters').all()).toEqual([{ operation: id, user: 'U0OSCAR' }]);
  });

  test('one rollback at a time, and the terminal does not pre-empt without being told to', async () => {
    const env = await start({ readyDelayMs: 2_000 });
    const first = await env.engine.startFromRequest(await env.grantRollback('first'));
    expect(first.ok).toBe(true);
    const second = await env.engine.startFromRequest(await env.grantRollback('second'));
    expect(second).toMatchObject({ ok: false, why: expect.stringContaining('is already rolling checkout back in production') });
    await until(() => (first.ok && env.op(first.operation.id).state === 'rolled-back' ? true : undefined), 30_000);

    const release = await env.engine.startFromRequest(env.grant('1.5.0'));
    const plan = (await env.grantRollback('from a terminal')).plan;
    if (plan.kind !== 'rollback') throw new Error('not a rollback plan');
    const cli = await env.engine.startRollback({ requestId: null, service: 'checkout', environment: 'production', plan, requestedBy: 'cli:bob', approvedBy: [], card: null, preempt: false });
    expect(cli).toMatchObject({ ok: false, why: expect.stringContaining(`release #${release.ok ? release.operation.id : 0}`) });
    expect(release.ok && env.op(release.operation.id).state).toBe('running');
  });

  test('a release granted before its version was rolled back does not start: the version is held', async () => {
    const env = await start();
    const waiting = env.grant('1.5.0-bad');
    const first = await env.engine.startFromRequest(env.grant('1.5.0-bad'));
    const id = first.ok ? first.operation.id : 0;
    await until(() => (env.op(id).phase === 'hold' ? true : undefined));
    await env.engine.onVerdicts([verdict('fail')]);
    await until(() => (env.op(id).state === 'rolled-back' ? true : undefined));
    const started = await env.engine.startFromRequest(waiting);
    expect(started).toMatchObject({ ok: false, why: expect.stringMatching(new RegExp(`^1\\.5\\.0-bad is held since rollback #${id} \\(.+\\); /release unhold it, or ask again with force=true$`)) });
    expect(env.engine.forRequest(waiting.id)).toBeUndefined();
  });

  test('a release granted before a freeze began does not start in it, and says why in its thread', async () => {
    const frozen = { gate: () => ({ ok: false as const, freeze: { environment: 'production', reason: 'stop the line after rollback #3', start: new Date(), end: null, source: { kind: 'ad-hoc' as const, id: 3, by: 'U0ALICE' } } }) };
    const env = await start({ rules: frozen });
    const before = await env.cluster();
    const started = await env.engine.startFromRequest(env.grant('1.5.0'));
    expect(started).toMatchObject({ ok: false, why: 'production is frozen (stop the line after rollback #3) until someone runs /release unfreeze' });
    expect((await env.cluster()).canary.image).toBe(before.canary.image);
    expect(env.sqlite.db.prepare(`SELECT COUNT(*) AS n FROM audit_log WHERE action = 'operation.refused'`).get()).toEqual({ n: 1 });
  });
});
