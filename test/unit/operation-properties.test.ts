import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  OPERATION_STATES,
  PHASES,
  decide,
  isFinal,
  newOperation,
  type Action,
  type Context,
  type ControlVerb,
  type Decision,
  type Observation,
  type Operation,
  type OperationEvent,
  type Settings,
} from '../../src/domain/operation.js';
import { SETTINGS, T0, V1, applyAction, initialCluster, observe, progress, start, verdictEvent, type Cluster } from '../support/operation-sim.js';

/*
 * Invariants of the release state machine (DESIGN §7) over random runs: random plans and settings, random events
 * (ticks with the clock moving on, canary and stable verdicts, controls by people) and a random cluster (writes
 * lost to a crash between commit and action, rollouts that take a while or fail, reconciles whose decision is
 * never committed). Each run is one operation driven through `decide` as the engine would: observe, decide,
 * commit, act.
 */

/** Runs per property, from a fixed seed; `FC_RUNS=20000 FC_SEED=7 npx vitest run test/unit/operation-properties.test.ts` explores further. */
const NUM_RUNS = Number(process.env['FC_RUNS'] ?? 300);
const SEED = Number(process.env['FC_SEED'] ?? 20261102);

// ── The scenario: a plan, settings, and what happens at each reconcile ──────────────────────────────────────────

interface Scenario {
  strategy: 'canary' | 'rolling';
  steps: number[];
  pauseForApprovalAt: number[];
  settings: Settings;
  /** The last automated rollback of this service, relative to T0 (ms before), if any. */
  lastRollbackAgoMs: number | null;
  /** Traffic follows the replica ratio (no mesh): the canary is deployed without a replica count. */
  replicaTraffic: boolean;
  turns: Turn[];
}

interface Turn {
  /** How far the clock moves before this reconcile. */
  advanceMs: number;
  /** How many ticks the Deployments' rollouts move before it. */
  rolloutTicks: number;
  event: OperationEvent;
  /** The decision is committed (false: the process died before the commit; nothing happened). */
  commit: boolean;
  /** The action is performed after the commit (false: the process died in between). */
  perform: boolean;
  /** How long a rollout this action starts takes, and whether it fails. */
  rolloutLength: number;
  rolloutFails: boolean;
}

const users = fc.constantFrom('ana', 'bo', 'carla');

const eventArb: fc.Arbitrary<OperationEvent> = fc.oneof(
  { weight: 8, arbitrary: fc.constant({ type: 'tick' as const }) },
  {
    weight: 10,
    arbitrary: fc
      .tuple(
        fc.constantFrom('canary' as const, 'canary' as const, 'stable' as const),
        fc.oneof({ weight: 6, arbitrary: fc.constant('pass' as const) }, { weight: 3, arbitrary: fc.constant('inconclusive' as const) }, { weight: 1, arbitrary: fc.constant('fail' as const) }),
      )
      // The evaluation time is filled in by the driver, from its clock.
      .map(([subject, verdict]) => verdictEvent(subject, verdict, T0)),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.oneof(
          { weight: 4, arbitrary: fc.constant<ControlVerb>('promote') },
          { weight: 2, arbitrary: fc.constant<ControlVerb>('pause') },
          { weight: 3, arbitrary: fc.constant<ControlVerb>('resume') },
          { weight: 1, arbitrary: fc.constant<ControlVerb>('abort') },
        ),
        users,
      )
      .map(([verb, user]) => ({ type: 'control' as const, verb, user })),
  },
);

const turnArb: fc.Arbitrary<Turn> = fc.record({
  advanceMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 90_000 })),
  rolloutTicks: fc.integer({ min: 0, max: 2 }),
  event: eventArb,
  commit: fc.oneof({ weight: 19, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  perform: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  rolloutLength: fc.integer({ min: 0, max: 3 }),
  rolloutFails: fc.oneof({ weight: 29, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
});

/** Rising weights ending at 100, as the config requires; pauses at some of them. */
const planArb = fc
  .uniqueArray(fc.integer({ min: 1, max: 99 }), { maxLength: 4 })
  .map((ws) => [...ws.sort((a, b) => a - b), 100])
  .chain((steps) => fc.record({ steps: fc.constant(steps), pauseForApprovalAt: fc.subarray(steps.filter((w) => w < 100)) }));

const scenarioArb: fc.Arbitrary<Scenario> = fc
  .record({
    strategy: fc.oneof({ weight: 4, arbitrary: fc.constant('canary' as const) }, { weight: 1, arbitrary: fc.constant('rolling' as const) }),
    plan: planArb,
    watchMs: fc.constantFrom(0, 60_000, 120_000),
    maxInconclusive: fc.integer({ min: 1, max: 4 }),
    canaryReplicas: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
    lastRollbackAgoMs: fc.constantFrom(null, null, 60_000, 3_600_000),
    replicaTraffic: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    turns: fc.array(turnArb, { minLength: 5, maxLength: 150 }),
  })
  .map(({ strategy, plan, watchMs, maxInconclusive, canaryReplicas, lastRollbackAgoMs, replicaTraffic, turns }) => ({
    strategy,
    steps: strategy === 'rolling' ? [100] : plan.steps,
    pauseForApprovalAt: strategy === 'rolling' ? [] : plan.pauseForApprovalAt,
    settings: { ...SETTINGS, watchMs, maxInconclusive, canaryReplicas },
    lastRollbackAgoMs,
    replicaTraffic,
    turns,
  }));

// ── The driver: the engine's reconcile loop, against the simulated cluster ──────────────────────────────────────

interface Reconcile {
  /** The committed operation the reconcile started from. */
  before: Operation;
  event: OperationEvent;
  observation: Observation;
  ctx: Context;
  decision: Decision;
  committed: boolean;
  performed: boolean;
  /** The cluster as it really is when the decision is taken (the observation may lag behind it). */
  truth: Cluster;
}

interface Run {
  scenario: Scenario;
  trace: Reconcile[];
  final: Operation;
  cluster: Cluster;
}

/**
 * Reconciles once per turn. Then lets the run come to rest the way the engine and its users would: ticks with the
 * clock moving, the stable judged `pass` when due (watch, verification), the canary `pass` when under analysis,
 * Promote clicked when asked for, Resume after a pause, Abort after an escalation; so that most runs end and the
 * properties about endings bite.
 *
 * `lag`: the observation is the cluster as it was up to that many reconciles ago (a watch cache behind the API
 * server), never going backwards; 0 observes the cluster as it is.
 */
function simulate(scenario: Scenario, lag: (turn: number) => number = () => 0): Run {
  let now = new Date(T0);
  let cluster: Cluster = { ...initialCluster(), replicaTraffic: scenario.replicaTraffic };
  const history: Cluster[] = [cluster];
  let seen = 0;
  let op = newOperation(start({ strategy: scenario.strategy, steps: scenario.steps, pauseForApprovalAt: scenario.pauseForApprovalAt }), now);
  const trace: Reconcile[] = [];
  const lastAutomatedRollbackAt = scenario.lastRollbackAgoMs === null ? undefined : new Date(T0.getTime() - scenario.lastRollbackAgoMs);

  const reconcile = (event: OperationEvent, how: Pick<Turn, 'commit' | 'perform' | 'rolloutLength' | 'rolloutFails'>, behind: number) => {
    const ctx: Context = { now, settings: scenario.settings, lastAutomatedRollbackAt };
    seen = Math.max(seen, history.length - 1 - behind);
    const observation = observe(history[seen]!);
    const decision = decide(op, observation, event, ctx);
    const performed = how.commit && how.perform && decision.action !== undefined;
    trace.push({ before: op, event, observation, ctx, decision, committed: how.commit, performed, truth: cluster });
    if (how.commit) op = decision.next;
    if (performed) cluster = applyAction(cluster, decision.action!, { rolloutTicks: how.rolloutLength, rolloutFails: how.rolloutFails });
  };
  const passTime = (ms: number, ticks: number) => {
    now = new Date(now.getTime() + ms);
    cluster = progress(cluster, ticks);
    history.push(cluster);
  };

  scenario.turns.forEach((turn, i) => {
    passTime(turn.advanceMs, turn.rolloutTicks);
    const event = turn.event.type === 'verdict' ? { ...turn.event, evaluatedAt: now.toISOString() } : turn.event;
    reconcile(event, turn, lag(i));
  });

  const clean = { commit: true, perform: true, rolloutLength: 1, rolloutFails: false };
  for (let i = 0; i < 80 && !isFinal(op.state); i++) {
    passTime(15_000, 1);
    const due = (op.state === 'running' && op.phase === 'watch') || (op.state === 'rolling-back' && op.phase === 'verify');
    let event: OperationEvent = { type: 'tick' };
    if (op.state === 'paused') {
      const verb: ControlVerb = op.pause?.reason === 'promotion' ? 'promote' : op.pause?.reason === 'cooldown' ? 'abort' : 'resume';
      event = { type: 'control', verb, user: 'bo' };
    } else if (due && i % 3 === 2) event = verdictEvent('stable', 'pass', now);
    else if (op.state === 'running' && op.phase === 'hold' && op.analysis.passes === 0) event = verdictEvent('canary', 'pass', now);
    reconcile(event, clean, 0);
  }
  return { scenario, trace, final: op, cluster };
}

const params = { numRuns: NUM_RUNS, seed: SEED };
const runs = (check: (run: Run) => void) => fc.assert(fc.property(scenarioArb, (scenario) => check(simulate(scenario))), params);

const took = (d: Decision, action: string) => d.audit.some((a) => a.action === action);
const startsRollback = (r: Reconcile) => r.before.state !== 'rolling-back' && r.decision.next.state === 'rolling-back';
const escalates = (r: Reconcile) => r.before.pause?.reason !== 'cooldown' && r.decision.next.pause?.reason === 'cooldown';

/** Which phases may follow which within one reconcile (several hops at most: the engine loops until it must act or wait). */
const EDGES: Record<string, string[]> = {
  'deploy-canary': ['shift', 'drain'],
  shift: ['hold', 'promote-stable', 'drain'],
  hold: ['shift', 'drain'],
  'promote-stable': ['finalize', 'drain'],
  'update-stable': ['watch', 'done', 'drain'],
  finalize: ['watch', 'done', 'drain'],
  watch: ['done', 'drain'],
  drain: ['restore'],
  restore: ['verify'],
  verify: ['done'],
  done: [],
};
function reachable(from: string): Set<string> {
  const seen = new Set<string>([from]);
  const queue = [from];
  while (queue.length > 0) {
    for (const next of EDGES[queue.shift()!] ?? []) {
      if (!seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  return seen;
}
const REACH = new Map(PHASES.map((p) => [p as string, reachable(p)]));

/** Property (5), for the rollback: nothing is restored while the canary takes traffic, and it ends with the cluster restored. */
function checkDrainBeforeRestore(run: Run): void {
  for (const r of run.trace) {
    const action = r.decision.action;
    if (r.committed && r.decision.next.state === 'rolling-back' && (action?.type === 'restore-canary' || action?.type === 'undo-stable')) {
      expect(r.truth.weight, `${action.type} with ${r.truth.weight} % of traffic on the canary`).toBe(0);
    }
  }
  if (run.final.state === 'rolled-back' || run.final.state === 'aborted') {
    expect(run.cluster).toMatchObject({ weight: 0, stable: { image: V1 }, canary: { image: V1, desired: 0 } });
  }
}

/** Property (5): phases and weights along the plan, a rollback that only drains and restores, endings that match the cluster. */
function checkPlanOrder(run: Run, drainBeforeRestore = true): void {
  let weights: number[] = [];
  let rollingBack = false;
  for (const r of run.trace.filter((t) => t.committed)) {
    const { before, decision } = r;
    const next = decision.next;
    const action: Action | undefined = decision.action;
    // Phase and step move only along the plan.
    if (next.phase !== before.phase) expect(REACH.get(before.phase)!.has(next.phase), `${before.phase} → ${next.phase}`).toBe(true);
    expect(next.step - before.step).toBeGreaterThanOrEqual(0);
    expect(next.step - before.step).toBeLessThanOrEqual(1);
    if (before.state === 'rolling-back') expect(['rolling-back', 'rolled-back', 'aborted', 'failed']).toContain(next.state);

    if (next.state === 'rolling-back') {
      rollingBack = true;
      if (action?.type === 'set-weight') expect(action.canary).toBe(0);
      expect(['deploy-canary', 'promote-stable', 'set-stable-image', 'scale-canary']).not.toContain(action?.type);
    } else if (!rollingBack && action?.type === 'set-weight' && ['deploy-canary', 'shift', 'hold'].includes(next.phase)) {
      weights = [...weights, action.canary];
      expect(action.canary).toBe(next.steps[next.step]);
    }
  }
  expect(weights).toEqual([...weights].sort((a, b) => a - b));
  // The endings leave the cluster as they say.
  const { final, cluster } = run;
  if (final.state === 'promoted') {
    expect(cluster.weight).toBe(0);
    expect(cluster.stable.image).toBe(final.to!.image);
    if (final.strategy === 'canary') expect(cluster.canary.desired).toBe(0);
  }
  if (drainBeforeRestore) checkDrainBeforeRestore(run);
}

// ── The properties ───────────────────────────────────────────────────────────────────────────────────────────────

describe('operation state machine: properties over random runs', () => {
  it('the driver reaches every ending, so the properties below are not vacuous', () => {
    const endings = new Map<string, number>();
    let failsTaken = 0;
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const run = simulate(scenario);
        endings.set(run.final.state, (endings.get(run.final.state) ?? 0) + 1);
        if (run.trace.some((r) => r.committed && r.event.type === 'verdict' && r.event.verdict === 'fail' && (startsRollback(r) || escalates(r)))) failsTaken++;
      }),
      params,
    );
    for (const state of ['promoted', 'rolled-back', 'aborted']) expect(endings.get(state) ?? 0, `${state} in ${JSON.stringify([...endings])}`).toBeGreaterThan(NUM_RUNS / 30);
    expect(failsTaken).toBeGreaterThan(NUM_RUNS / 10);
    expect([...endings.keys()].every((s) => (OPERATION_STATES as readonly string[]).includes(s))).toBe(true);
  });

  it('(1) once a fail verdict was taken into account, the operation never ends promoted', () => {
    runs((run) => {
      const committed = run.trace.filter((r) => r.committed);
      const taken = committed.findIndex((r) => r.event.type === 'verdict' && r.event.verdict === 'fail' && (startsRollback(r) || escalates(r)));
      if (taken < 0) return;
      // A person who resumes a release escalated within the rollback cooldown overrides the verdict on purpose
      // ("A person decides now: Abort to roll back, or Resume"): the one way on.
      const overridden = committed.slice(taken).some((r) => r.before.pause?.reason === 'cooldown' && r.event.type === 'control' && r.event.verb === 'resume' && !r.decision.refused);
      if (overridden) return;
      expect(run.final.state).not.toBe('promoted');
      for (const r of committed.slice(taken + 1)) {
        expect(r.decision.action?.type).not.toBe('promote-stable');
        expect(r.decision.action?.type).not.toBe('set-stable-image');
      }
    });
  });

  it('(2) an inconclusive verdict never advances a step, promotes, or starts a rollback by itself', () => {
    const RANK = (op: Operation) => (isFinal(op.state) ? 100 : op.step * 10 + ['deploy-canary', 'shift', 'hold', 'update-stable', 'promote-stable', 'finalize', 'watch'].indexOf(op.phase));
    runs((run) => {
      for (const r of run.trace) {
        if (r.event.type !== 'verdict' || r.event.verdict !== 'inconclusive' || isFinal(r.before.state)) continue;
        const tick = decide(r.before, r.observation, { type: 'tick' }, r.ctx);
        const got = r.decision.next;
        if (startsRollback(r)) expect(tick.next.state).toBe('rolling-back');
        if (got.state === 'promoted') expect(tick.next.state).toBe('promoted');
        if (r.before.state !== 'rolling-back' && got.state !== 'rolling-back') {
          expect(RANK(got)).toBeLessThanOrEqual(Math.max(RANK(r.before), RANK(tick.next)));
          const steps = (d: Decision) => d.audit.filter((a) => a.action === 'operation.step' || a.action === 'operation.stable_updated').map((a) => JSON.stringify(a.detail));
          for (const s of steps(r.decision)) expect(steps(tick)).toContain(s);
        }
        expect(took(r.decision, 'rollback.automated') && !took(tick, 'rollback.automated')).toBe(false);
      }
    });
  });

  it('(2b) a canary judged only inconclusive never leaves its first step and is never rolled back for a verdict', () => {
    const onlyInconclusive = scenarioArb
      // A plan of [100] alone is the direct path (critical urgency): no step is judged, by design.
      .filter((s) => s.strategy === 'canary' && s.steps.length > 1)
      .map((s) => ({ ...s, turns: s.turns.map((t) => (t.event.type === 'verdict' && t.event.subject === 'canary' ? { ...t, event: { ...t.event, verdict: 'inconclusive' as const, failing: [] } } : t)) }));
    fc.assert(
      fc.property(onlyInconclusive, (scenario) => {
        // The random turns only: the settling after them hands in passes.
        const run = simulate(scenario);
        const turns = run.trace.slice(0, scenario.turns.length);
        for (const r of turns) {
          if (!r.committed) continue;
          expect(r.decision.next.step).toBeLessThanOrEqual(0);
          expect(r.decision.next.rollback?.trigger).not.toBe('verdict');
          expect(r.decision.next.state).not.toBe('promoted');
        }
      }),
      params,
    );
  });

  it('(3) a finished operation never moves again', () => {
    runs((run) => {
      for (const r of run.trace) {
        if (!isFinal(r.before.state)) continue;
        expect(r.decision.next).toEqual(r.before);
        expect(r.decision.action).toBeUndefined();
        expect(r.decision.messages).toEqual([]);
        expect(r.decision.audit).toEqual([]);
        expect(r.decision.refused === undefined).toBe(r.event.type !== 'control');
      }
    });
    // And for anything at all thrown at the operations the runs ended with.
    const anything = fc.tuple(scenarioArb, fc.array(fc.tuple(eventArb, fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 10_000_000 })), { maxLength: 10 }));
    fc.assert(
      fc.property(anything, ([scenario, events]) => {
        const { final } = simulate(scenario);
        fc.pre(isFinal(final.state));
        for (const [event, weight, later] of events) {
          const obs = observe({ ...initialCluster(), weight });
          const d = decide(final, obs, event, { now: new Date(T0.getTime() + later), settings: scenario.settings, lastAutomatedRollbackAt: undefined });
          expect(d.next).toEqual(final);
          expect([d.action, d.messages, d.audit]).toEqual([undefined, [], []]);
        }
      }),
      { numRuns: Math.ceil(NUM_RUNS / 3), seed: SEED },
    );
  });

  it('(4) no transition is taken twice along a run', () => {
    const ONCE = ['rollback.automated', 'rollback.aborted', 'rollback.drained', 'rollback.restored', 'rollback.verified', 'rollback.verify_failed', 'operation.finished', 'operation.canary_deployed', 'operation.stable_updated'];
    runs((run) => {
      const keys = run.trace
        .filter((r) => r.committed)
        .flatMap((r) => r.decision.audit)
        .flatMap((a) => {
          if (a.action === 'operation.step') return [`step ${String(a.detail['step'])}`];
          if (a.action === 'rollback.automated' || a.action === 'rollback.aborted') return ['rollback started'];
          return ONCE.includes(a.action) ? [a.action] : [];
        });
      const twice = keys.filter((k, i) => keys.indexOf(k) !== i);
      expect(twice).toEqual([]);
      // Steps are announced in plan order, without gaps.
      const steps = keys.filter((k) => k.startsWith('step ')).map((k) => Number(k.slice(5)));
      expect(steps).toEqual(steps.map((_, i) => i + 1));
    });
  });

  it('(5) the phases follow the plan: weights only rise while running, and a rollback drains before it restores', () => {
    runs(checkPlanOrder);
  });

  it('(6) deciding is a function of the operation and the observation: the same ones give the same action and nothing new', () => {
    runs((run) => {
      for (const r of run.trace) {
        // Deterministic: no hidden clock, no hidden state.
        expect(decide(r.before, r.observation, r.event, r.ctx)).toEqual(r.decision);
        if (!r.committed || r.decision.refused !== undefined) continue;
        // Level-based, written ahead: the committed state with the same observation is a rest point.
        const again = decide(r.decision.next, r.observation, { type: 'tick' }, r.ctx);
        expect(again.action).toEqual(r.decision.action);
        expect(again.next).toEqual(r.decision.next);
        expect(again.audit).toEqual([]);
        expect(again.messages).toEqual([]);
      }
    });
  });
});

describe('operation state machine: with a watch cache behind the cluster', () => {
  // The engine reads the cluster from informer caches (DESIGN §7 "Watch, don't poll"): an observation can be up to
  // two reconciles old, though it never goes back in time.
  const lagged = fc.tuple(scenarioArb, fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 150, maxLength: 150 }));
  const laggedRuns = (check: (run: Run) => void, options: fc.Parameters<[[Scenario, number[]]]> = {}) =>
    fc.assert(fc.property(lagged, ([scenario, lags]) => check(simulate(scenario, (i) => lags[i] ?? 0))), { ...params, ...options });

  it('(4) no transition is taken twice, and (6) decisions stay level-based', () => {
    laggedRuns((run) => {
      const rows = run.trace.filter((r) => r.committed).flatMap((r) => r.decision.audit.map((a) => a.action));
      for (const once of ['rollback.drained', 'rollback.restored', 'operation.finished', 'operation.canary_deployed', 'operation.stable_updated']) {
        expect(rows.filter((a) => a === once).length).toBeLessThanOrEqual(1);
      }
      for (const r of run.trace) {
        if (!r.committed || r.decision.refused !== undefined) continue;
        const again = decide(r.decision.next, r.observation, { type: 'tick' }, r.ctx);
        expect([again.action, again.audit, again.messages]).toEqual([r.decision.action, [], []]);
      }
    });
  });

  it('(5) the phases follow the plan', () => {
    laggedRuns((run) => checkPlanOrder(run, false));
  });

  // BUG C and D (see operation.test.ts for the two counterexamples as examples): entering a rollback clears the
  // written-ahead `pending` action, and drain and restore then take an observation older than Lifeguard's own last
  // write as proof there is nothing to do. A weight written but not yet seen is never drained; a canary deployed but
  // not yet seen is never restored.
  it.fails('BUG C/D: with a lagging cache, a rollback still drains before it restores and leaves the cluster restored', () => {
    // No shrinking: the counterexamples are spelled out in operation.test.ts.
    laggedRuns(checkDrainBeforeRestore, { endOnFailure: true });
  });
});

