import { describe, expect, it } from 'vitest';
import { headline, manualRollback, preempt, remainingSteps, type Decision, type Message, type Operation, type Workload } from '../../src/domain/operation.js';
import { Release, SETTINGS, T0, V1, V2, initialCluster, start } from '../support/operation-sim.js';

/*
 * Rollbacks people ask for (`/rollback`, `lifeguard rollback`), a release they pre-empt, and a rollback the
 * cluster keeps failing, driven through the state machine against the simulated cluster of operation-sim.ts.
 */

const notes = (d: Decision) => d.messages.flatMap((m: Message) => (m.kind === 'note' ? [m.headline] : []));
const kinds = (d: Decision) => d.messages.map((m) => m.kind);

const WORKLOAD: Workload = { namespace: 'shop', stable: 'checkout', canary: 'checkout-canary', traffic: { kind: 'istio', name: 'checkout' } };

/** The stable runs v2 (revision 8) after a release; the canary sits at 0 replicas. */
function promotedCluster() {
  const cluster = initialCluster();
  return { ...cluster, stable: { ...cluster.stable, image: V2, revision: 8 } };
}

/** A manual rollback of the stable from v2 (revision 8) to v1 (revision 7), decided at T0 with the canary at `weight`. */
function rollbackTo7(weight = 0, cluster = promotedCluster()): { r: Release; started: Decision } {
  const r = new Release({ cluster: { ...cluster, weight } });
  const started = manualRollback(
    start({ id: 43, kind: 'rollback', from: { version: 'v2', image: V2, revision: 8 }, to: { version: 'v1', image: V1, revision: 7, template: `template:${V1}` }, requestedBy: 'U0CARLA', approvedBy: ['U0OSCAR'] }),
    'checkout errors after the config change',
    weight,
    r.ctx,
  );
  r.op = started.next;
  return { r, started };
}

describe('a manual rollback', () => {
  it('drains, undoes the stable to the revision chosen, empties the canary, verifies, and tells the thread and the incident channel', () => {
    const { r, started } = rollbackTo7(25);
    expect(started.next).toMatchObject({ kind: 'rollback', state: 'rolling-back', phase: 'drain', weight: 25, rollback: { trigger: 'manual', by: 'U0CARLA', why: 'checkout errors after the config change', afterPromotion: true } });
    expect(started.audit.map((a) => [a.action, a.actor])).toEqual([['rollback.manual', 'U0CARLA']]);
    expect(notes(started)).toEqual(['Rolling back to `v1` (revision 7), requested by <@U0CARLA>: checkout errors after the config change']);
    expect(kinds(started)).toContain('incident');
    expect(headline(started.next)).toBe('Rolling back: moving all traffic to the stable');

    r.settle();
    // Traffic first, then the stable, then the canary: never the other way round.
    expect(r.distinctActions).toEqual([
      { type: 'set-weight', canary: 0 },
      { type: 'undo-stable', toRevision: 7, image: V1 },
      { type: 'restore-canary', image: V1 },
    ]);
    expect(r.cluster).toMatchObject({ weight: 0, stable: { image: V1, rollout: 'complete' }, canary: { desired: 0, image: V1 } });
    expect(r.op).toMatchObject({ state: 'rolling-back', phase: 'verify' });
    expect(r.decisions.flatMap(({ decision }) => notes(decision))).toContain('Stable rolled back to `v1` (the template of revision 7, now revision 9)');

    r.wait(SETTINGS.verifyAfterMs);
    const verified = r.verdict('stable', 'pass');
    expect(verified.next).toMatchObject({ state: 'rolled-back', outcome: 'rolled back, verified' });
    expect(kinds(verified)).toContain('incident');
  });

  it('is observed done by pod template, so one whose target already runs restores nothing and only empties the canary', () => {
    const { r } = rollbackTo7(0, { ...initialCluster(), canary: { ...initialCluster().canary, image: V2, desired: 2, ready: 2 } });
    r.settle();
    expect(r.distinctActions).toEqual([
      { type: 'set-weight', canary: 0 },
      { type: 'restore-canary', image: V1 },
    ]);
    expect(r.op.phase).toBe('verify');
  });

  it('names a terminal operator as such, not as a Slack mention', () => {
    const r = new Release({ cluster: promotedCluster() });
    const started = manualRollback(start({ kind: 'rollback', to: { version: 'v1', image: V1, revision: 7 }, requestedBy: 'cli:bob' }), 'slack is down', 0, r.ctx);
    expect(notes(started)).toEqual(['Rolling back to `v1` (revision 7), requested by cli:bob: slack is down']);
  });
});

describe('a release pre-empted by a rollback', () => {
  it('ends where it is, aborted by the rollback, and says so in its thread; an ended one is left alone', () => {
    const r = new Release().settle();
    r.wait(1_000).verdict('canary', 'pass');
    r.wait(SETTINGS.stepDurationMs).settle();
    expect(r.op).toMatchObject({ phase: 'hold', weight: 25 });

    const stopped = preempt(r.op, { operation: 43, user: 'U0CARLA' }, r.ctx);
    expect(stopped.next).toMatchObject({ state: 'aborted', phase: 'done', outcome: 'aborted by rollback #43', preemptedBy: { operation: 43, by: 'U0CARLA' } });
    expect(stopped.action).toBeUndefined();
    expect(stopped.audit.map((a) => a.action)).toEqual(['operation.preempted', 'operation.finished']);
    expect(notes(stopped)).toEqual(['Stopped at 25 % of traffic: rollback #43, requested by <@U0CARLA>, takes over']);
    expect(headline(stopped.next)).toBe('Aborted by rollback #43');

    const again = preempt(stopped.next, { operation: 44, user: 'U0CARLA' }, r.ctx);
    expect(again.next).toEqual(stopped.next);
    expect(again.messages).toEqual([]);
  });
});

describe('a rollback the cluster keeps failing', () => {
  const failingDrain = () => {
    const { r } = rollbackTo7(25);
    r.settings = { ...r.settings, retryForMs: 120_000, workload: WORKLOAD };
    r.failing = { since: T0, error: 'the API server answered 500 Internal Server Error; gave up after 5 attempts' };
    return r;
  };

  it('keeps trying until rollbackRetryTimeout, then ends failed with what is left and the commands that finish it', () => {
    const r = failingDrain();
    r.now = new Date(T0.getTime() + 119_999);
    expect(r.send({ type: 'tick' }, false).next.state).toBe('rolling-back');

    r.now = new Date(T0.getTime() + 120_000);
    const gaveUp = r.send({ type: 'tick' }, false);
    const op: Operation = gaveUp.next;
    expect(op).toMatchObject({ state: 'failed', outcome: 'rollback stuck: the cluster failed every attempt for 2 min (last error: the API server answered 500 Internal Server Error; gave up after 5 attempts)' });
    expect(gaveUp.action).toBeUndefined();
    expect(kinds(gaveUp)).toContain('incident');
    expect(op.rollback!.remaining).toEqual([
      'Done: nothing yet.',
      'Not done: drain the canary, roll the stable back to revision 7 (`v1`), scale the canary to 0.',
      'To finish by hand:',
      '`kubectl -n shop edit virtualservice/checkout   # canary weight 0, stable 100`',
      '`kubectl -n shop rollout undo deployment/checkout --to-revision=7`',
      '`kubectl -n shop rollout status deployment/checkout`',
      '`kubectl -n shop scale deployment/checkout-canary --replicas=0`',
      'Then record it: `lifeguard audit note "finished rollback #43 by hand" --subject checkout/production`',
    ]);
    expect(gaveUp.audit.find((a) => a.action === 'rollback.stuck')?.detail).toMatchObject({ remaining: op.rollback!.remaining });
  });

  it('once drained, leaves the route alone in its manual steps', () => {
    const r = failingDrain();
    r.failing = undefined;
    r.tick();
    r.tick();
    expect(r.op.phase).toBe('restore');
    const steps = remainingSteps(r.op, { ...WORKLOAD, traffic: { kind: 'replicas' } });
    expect(steps[0]).toBe('Done: traffic moved to the stable.');
    expect(steps.join('\n')).not.toContain('virtualservice');
  });

  it('never gives a forward release up for cluster errors: it waits for the cluster', () => {
    const r = new Release({ settings: { retryForMs: 1_000, workload: WORKLOAD } });
    r.failing = { since: T0, error: 'timeout' };
    r.now = new Date(T0.getTime() + 60_000);
    expect(r.send({ type: 'tick' }, false).next.state).toBe('running');
  });
});

describe('what review of the rollback path found', () => {
  it('gives a rollback its whole retry time even when the release before it was already failing', () => {
    const { r } = rollbackTo7(25);
    r.settings = { ...r.settings, retryForMs: 120_000, workload: WORKLOAD };
    // The cluster had been failing the release's writes for ten minutes when the rollback was decided, at T0.
    r.failing = { since: new Date(T0.getTime() - 600_000), error: 'timeout' };
    r.now = new Date(T0.getTime() + 60_000);
    expect(r.send({ type: 'tick' }, false).next.state).toBe('rolling-back');
    r.now = new Date(T0.getTime() + 120_000);
    expect(r.send({ type: 'tick' }, false).next.state).toBe('failed');
  });

  it('keeps traffic drained until the end: a weight set again by another writer is set back to 0', () => {
    const { r } = rollbackTo7(25);
    r.tick();
    r.tick();
    expect(r.op.phase).toBe('restore');
    r.cluster = { ...r.cluster, weight: 50 };
    expect(r.tick().action).toEqual({ type: 'set-weight', canary: 0 });
    r.settle();
    expect(r.op.phase).toBe('verify');
    r.cluster = { ...r.cluster, weight: 50 };
    expect(r.tick().action).toEqual({ type: 'set-weight', canary: 0 });
  });

  it('does not tell people to undo to a revision that was already undone', () => {
    const r = failingRestoreAfterUndo();
    const steps = remainingSteps(r.op, WORKLOAD);
    expect(steps[0]).toBe('Done: traffic moved to the stable, stable restored.');
    expect(steps.join('\n')).not.toContain('rollout undo');
    expect(steps).toContain('`kubectl -n shop scale deployment/checkout-canary --replicas=0`');
  });

  it('an Abort that cannot finish is posted in the incident channel like any stuck rollback', () => {
    const r = new Release().settle();
    r.settings = { ...r.settings, retryForMs: 60_000, workload: WORKLOAD };
    expect(kinds(r.control('abort', 'carla'))).not.toContain('incident');
    r.failing = { since: r.now, error: '500' };
    r.now = new Date(r.now.getTime() + 60_000);
    const gaveUp = r.send({ type: 'tick' }, false);
    expect(gaveUp.next.state).toBe('failed');
    expect(kinds(gaveUp)).toContain('incident');
  });
});

/** A manual rollback whose stable is back on v1 while emptying the canary keeps failing. */
function failingRestoreAfterUndo(): Release {
  const { r } = rollbackTo7(0, { ...promotedCluster(), canary: { ...initialCluster().canary, image: V2, desired: 2, ready: 2 } });
  r.tick();
  r.tick();
  // The undo lands and rolls out; the canary write is then refused.
  for (let i = 0; i < 5 && r.op.rollback!.stableRestoredAt == null; i++) r.wait(0).tick();
  expect(r.op.rollback!.stableRestoredAt).toBeTruthy();
  expect(r.op.rollback!.restoredAt).toBeNull();
  return r;
}
