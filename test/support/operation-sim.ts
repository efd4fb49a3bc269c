import {
  confirmPerformed,
  decide,
  newOperation,
  type Action,
  type Context,
  type Decision,
  type DeploymentView,
  type FailingMetric,
  type Observation,
  type Operation,
  type OperationEvent,
  type OperationStart,
  type Settings,
  type VerdictEvent,
} from '../../src/domain/operation.js';
import { replicaSplit } from '../../src/domain/traffic-split.js';

/*
 * A simulated cluster for the release engine's state machine (src/domain/operation.ts), without servers: a pure
 * function applies an `Action` to the cluster the way the Workloads and TrafficRouter adapters would (level-based:
 * setting a weight sets it, a new pod template starts a rollout that completes, or fails, after some ticks), and a
 * driver feeds `decide` with a fake clock, committing what it returns as the engine does.
 */

export const V1 = 'shop/checkout:v1';
export const V2 = 'shop/checkout:v2';

export interface SimDeployment extends Omit<DeploymentView, 'template'> {
  /** Ticks until a progressing rollout ends. */
  remaining: number;
  /** The rollout under way ends `failed` (progress deadline exceeded) instead of `complete`. */
  failing: boolean;
}

export interface Cluster {
  stable: SimDeployment;
  canary: SimDeployment;
  weight: number;
  replicaTraffic: boolean;
}

export function initialCluster(): Cluster {
  return {
    stable: { image: V1, revision: 7, desired: 3, ready: 3, rollout: 'complete', remaining: 0, failing: false },
    canary: { image: V1, revision: 2, desired: 0, ready: 0, rollout: 'complete', remaining: 0, failing: false },
    weight: 0,
    replicaTraffic: false,
  };
}

/** How the cluster carries out a write: rollouts take `rolloutTicks` ticks (0: done at once) and may fail. */
export interface Apply {
  rolloutTicks: number;
  rolloutFails?: boolean;
}

function rollout(d: SimDeployment, patch: Partial<SimDeployment>, how: Apply): SimDeployment {
  const next = { ...d, ...patch };
  const templateChanged = next.image !== d.image;
  if (!templateChanged && next.desired === d.desired) return next;
  const started: SimDeployment = {
    ...next,
    revision: templateChanged ? d.revision + 1 : d.revision,
    ready: Math.min(d.ready, next.desired),
    rollout: 'progressing',
    remaining: how.rolloutTicks,
    failing: how.rolloutFails ?? false,
  };
  return how.rolloutTicks <= 0 ? finish(started) : started;
}

function finish(d: SimDeployment): SimDeployment {
  return d.failing ? { ...d, rollout: 'failed', remaining: 0 } : { ...d, rollout: 'complete', ready: d.desired, remaining: 0 };
}

/** Performs one action as the adapters would: idempotent, level-based. */
export function applyAction(cluster: Cluster, action: Action, how: Apply = { rolloutTicks: 0 }): Cluster {
  switch (action.type) {
    case 'deploy-canary':
      return { ...cluster, canary: rollout(cluster.canary, { image: action.image, ...(action.replicas === null ? {} : { desired: action.replicas }) }, how) };
    case 'set-weight': {
      if (!cluster.replicaTraffic) return { ...cluster, weight: action.canary };
      // Without a mesh the weight is the replica split, as the replicas router sets it.
      const split = replicaSplit(cluster.stable.desired, cluster.canary.desired, action.canary);
      return { ...cluster, stable: rollout(cluster.stable, { desired: split.stable }, how), canary: rollout(cluster.canary, { desired: split.canary }, how) };
    }
    case 'promote-stable':
    case 'set-stable-image':
      return { ...cluster, stable: rollout(cluster.stable, { image: action.image }, how) };
    case 'scale-canary':
      return { ...cluster, canary: rollout(cluster.canary, { desired: action.replicas }, how) };
    case 'restore-canary':
      return { ...cluster, canary: rollout(cluster.canary, { image: action.image, desired: 0 }, how) };
    case 'undo-stable':
      // `kubectl rollout undo --to-revision` makes the old template the newest revision.
      return { ...cluster, stable: rollout(cluster.stable, { image: action.image }, how) };
  }
}

/** Time passes for the Deployments: progressing rollouts move `ticks` closer to their end. */
export function progress(cluster: Cluster, ticks = 1): Cluster {
  const move = (d: SimDeployment): SimDeployment => {
    if (d.rollout !== 'progressing' || ticks <= 0) return d;
    const remaining = d.remaining - ticks;
    return remaining <= 0 ? finish(d) : { ...d, remaining };
  };
  return { ...cluster, stable: move(cluster.stable), canary: move(cluster.canary) };
}

export function observe(cluster: Cluster): Observation {
  // The simulated pod template is its image: two revisions of one image have one template.
  const view = ({ image, revision, desired, ready, rollout: status }: SimDeployment): DeploymentView => ({ image, revision, template: `template:${image}`, desired, ready, rollout: status });
  const { stable, canary } = cluster;
  const ratio = stable.desired + canary.desired === 0 ? 0 : Math.round((canary.desired * 100) / (stable.desired + canary.desired));
  return { stable: view(stable), canary: view(canary), weight: cluster.replicaTraffic ? ratio : cluster.weight, replicaTraffic: cluster.replicaTraffic };
}

export const SETTINGS: Settings = {
  stepDurationMs: 60_000,
  watchMs: 120_000,
  maxInconclusive: 3,
  verifyAfterMs: 30_000,
  rollbackCooldownMs: 600_000,
};

export const T0 = new Date('2026-11-02T10:00:00.000Z');

export function start(patch: Partial<OperationStart> = {}): OperationStart {
  return {
    id: 42,
    requestId: 7,
    kind: 'release',
    strategy: 'canary',
    service: 'checkout',
    environment: 'production',
    from: { version: 'v1', image: V1, revision: 7 },
    to: { version: 'v2', image: V2 },
    steps: [5, 25, 50, 100],
    pauseForApprovalAt: [50],
    requestedBy: 'ana',
    approvedBy: ['bo'],
    card: { channel: 'C1', ts: '1.0' },
    ...patch,
  };
}

const ERROR_RATE: FailingMetric = {
  metric: 'error-rate',
  classification: 'high',
  canary: 0.08,
  baseline: 0.01,
  thresholds: ['max 0.03'],
  breachingForMs: 60_000,
  reason: '0.08 over max 0.03 for 60s',
};

export function verdictEvent(subject: VerdictEvent['subject'], verdict: VerdictEvent['verdict'], at: Date): VerdictEvent {
  const reasons = verdict === 'fail' ? ['error-rate: 0.08 over max 0.03 for 60s'] : verdict === 'inconclusive' ? ['error-rate: no data'] : ['all metrics pass'];
  return {
    type: 'verdict',
    subject,
    verdict,
    evaluatedAt: at.toISOString(),
    reasons,
    // The state machine reads the summary above; the whole verdict only travels on to the thread and the audit log.
    evidence: { service: 'checkout', environment: 'production', evaluatedAt: at.toISOString(), verdict, reasons, score: null, scoreThresholds: { pass: 80, marginal: 60 }, trafficShare: null, metrics: [] },
    failing: verdict === 'fail' ? [ERROR_RATE] : [],
    breachStartedAt: verdict === 'fail' ? new Date(at.getTime() - 60_000).toISOString() : null,
  };
}

/** A release driven by hand: each call is one reconcile with the clock and the cluster as they are. */
export class Release {
  now: Date;
  cluster: Cluster;
  op: Operation;
  settings: Settings;
  lastAutomatedRollbackAt: Date | undefined;
  /** How the next writes are carried out. */
  how: Apply = { rolloutTicks: 1 };
  readonly decisions: { event: OperationEvent; decision: Decision }[] = [];

  constructor(opts: { start?: Partial<OperationStart>; settings?: Partial<Settings>; cluster?: Cluster; lastAutomatedRollbackAt?: Date } = {}) {
    this.now = new Date(T0);
    this.cluster = opts.cluster ?? initialCluster();
    this.settings = { ...SETTINGS, ...opts.settings };
    this.lastAutomatedRollbackAt = opts.lastAutomatedRollbackAt;
    this.op = newOperation(start(opts.start), this.now);
  }

  /** The cluster failing the engine's calls since then, as the engine tells the state machine. */
  failing: Context['failing'];

  get ctx(): Context {
    return { now: this.now, settings: this.settings, lastAutomatedRollbackAt: this.lastAutomatedRollbackAt, ...(this.failing ? { failing: this.failing } : {}) };
  }

  /** The clock moves on `ms`; the Deployments' rollouts move one tick. */
  wait(ms: number): this {
    this.now = new Date(this.now.getTime() + ms);
    this.cluster = progress(this.cluster);
    return this;
  }

  /** One reconcile: observe, decide, commit, perform the action (unless `perform` is false: a crash after the commit). */
  send(event: OperationEvent, perform = true): Decision {
    const decision = decide(this.op, observe(this.cluster), event, this.ctx);
    this.decisions.push({ event, decision });
    this.op = decision.next;
    if (decision.action && perform) {
      this.cluster = applyAction(this.cluster, decision.action, this.how);
      this.op = confirmPerformed(this.op, decision.action) ?? this.op;
    }
    return decision;
  }

  tick(): Decision {
    return this.send({ type: 'tick' });
  }

  verdict(subject: VerdictEvent['subject'], verdict: VerdictEvent['verdict']): Decision {
    return this.send(verdictEvent(subject, verdict, this.now));
  }

  control(verb: 'promote' | 'pause' | 'resume' | 'abort', user = 'bo'): Decision {
    return this.send({ type: 'control', verb, user });
  }

  /** Reconciles (rollouts moving a tick each time, the clock still) until nothing is done, rolling out or changing. */
  settle(limit = 30): this {
    for (let i = 0; i < limit; i++) {
      const before = JSON.stringify([this.op.state, this.op.phase, this.op.step, this.cluster]);
      const d = this.tick();
      const rolling = this.cluster.stable.rollout === 'progressing' || this.cluster.canary.rollout === 'progressing';
      if (!d.action && !rolling && before === JSON.stringify([this.op.state, this.op.phase, this.op.step, this.cluster])) return this;
      this.cluster = progress(this.cluster);
    }
    throw new Error(`no rest after ${limit} reconciles: ${this.op.state}/${this.op.phase}`);
  }

  /** Every action performed or decided, in order. */
  get actions(): Action[] {
    return this.decisions.flatMap(({ decision }) => (decision.action ? [decision.action] : []));
  }

  get audit(): string[] {
    return this.decisions.flatMap(({ decision }) => decision.audit.map((a) => a.action));
  }

  /** The distinct actions in the order first decided: what a person watching the cluster sees happen. */
  get distinctActions(): Action[] {
    const out: Action[] = [];
    for (const a of this.actions) if (JSON.stringify(out[out.length - 1]) !== JSON.stringify(a)) out.push(a);
    return out;
  }
}
