import * as z from 'zod';
import { replicaSplit } from './traffic-split.js';
import type { Verdict } from './verdict.js';

/**
 * A release, hotfix or automated rollback as a state machine, free of I/O. The engine (flows/operations.ts)
 * loads an operation, observes the cluster, asks `decide` what to do, commits the answer and performs at most
 * one idempotent, level-based action ("set weight 25", "canary image v, 3 replicas"). A step is done when the
 * cluster is observed in the wanted state, never when a write returned, so repeating any decision after a
 * crash is harmless.
 */

export const OPERATION_STATES = ['running', 'paused', 'rolling-back', 'promoted', 'rolled-back', 'aborted', 'failed'] as const;
export type OperationState = (typeof OPERATION_STATES)[number];
const FINAL: readonly OperationState[] = ['promoted', 'rolled-back', 'aborted', 'failed'];
export const isFinal = (state: OperationState): boolean => FINAL.includes(state);

/**
 * Where an operation is in its plan. Forward: deploy-canary → (shift → hold)* → promote-stable → finalize →
 * watch, or update-stable → watch for a rolling release. Backward: drain → restore → verify.
 */
export const PHASES = ['deploy-canary', 'shift', 'hold', 'promote-stable', 'finalize', 'update-stable', 'watch', 'drain', 'restore', 'verify', 'done'] as const;
export type Phase = (typeof PHASES)[number];

/** Why a rollback runs: a verdict, a failed rollout or an unmanaged canary (automated), an Abort, or a `/rollback` / `lifeguard rollback` (manual). */
export const ROLLBACK_TRIGGERS = ['verdict', 'watch', 'unmanaged', 'abort', 'rollout-failed', 'manual'] as const;
export type RollbackTrigger = (typeof ROLLBACK_TRIGGERS)[number];

/** A metric behind a failing verdict, with its values and the bounds it broke. */
export const failingMetricSchema = z.object({
  metric: z.string(),
  classification: z.string(),
  canary: z.number().nullable(),
  baseline: z.number().nullable(),
  thresholds: z.array(z.string()),
  breachingForMs: z.number().nullable(),
  reason: z.string(),
});
export type FailingMetric = z.infer<typeof failingMetricSchema>;

const verdictNoteSchema = z.object({ verdict: z.enum(['pass', 'fail', 'inconclusive']), at: z.string(), reasons: z.array(z.string()) });

export const operationSchema = z.object({
  id: z.number().int(),
  /** The approval request it executes; null for a drain of a canary Lifeguard did not start. */
  requestId: z.number().int().nullable(),
  kind: z.enum(['release', 'hotfix', 'rollback']),
  strategy: z.enum(['canary', 'rolling']),
  service: z.string(),
  environment: z.string(),
  /** The stable Deployment before the operation: what a rollback restores. */
  from: z.object({ version: z.string(), image: z.string(), revision: z.number().int() }),
  /**
   * What it releases; for a manual rollback, the revision it goes back to (with that revision's pod-template
   * fingerprint, which is how its restore is observed done); null for a drain.
   */
  to: z.object({ version: z.string(), image: z.string(), revision: z.number().int().optional(), template: z.string().optional() }).nullable(),
  steps: z.array(z.number().int().min(1).max(100)),
  pauseForApprovalAt: z.array(z.number().int()),
  /** A step's length when the plan shortens it (a `high` hotfix's fast canary); null: the service's `stepDuration`. */
  stepDurationMs: z.number().int().positive().nullable().default(null),
  requestedBy: z.string(),
  approvedBy: z.array(z.string()),
  /** The request's card: its thread is the operation's thread. */
  card: z.object({ channel: z.string(), ts: z.string() }).nullable(),
  state: z.enum(OPERATION_STATES),
  phase: z.enum(PHASES),
  /** Index into `steps` of the step under way; -1 before the first. */
  step: z.number().int(),
  /** The canary's share of traffic as last observed, in percent. */
  weight: z.number(),
  phaseSince: z.string(),
  /** When the stable Deployment began to change (promotion or rolling update): the watch judges against before it. */
  stableChangedAt: z.string().nullable(),
  analysis: z.object({
    /** Passing verdicts during the current step. */
    passes: z.number().int(),
    /** Inconclusive verdicts in a row, whatever the step. */
    inconclusiveRun: z.number().int(),
    last: verdictNoteSchema.nullable(),
  }),
  /** Promote clicks, each for the step it was clicked at. */
  promotions: z.array(z.object({ user: z.string(), weight: z.number(), step: z.number().int(), at: z.string() })),
  pause: z.object({ reason: z.enum(['user', 'inconclusive', 'promotion', 'cooldown']), by: z.string(), at: z.string(), why: z.string() }).nullable(),
  /** A rollback of the same service and environment took over: this operation stopped where it was. */
  preemptedBy: z.object({ operation: z.number().int(), by: z.string(), at: z.string() }).nullable().default(null),
  rollback: z
    .object({
      trigger: z.enum(ROLLBACK_TRIGGERS),
      by: z.string(),
      why: z.string(),
      /** The stable was already promoted: restoring means undoing it to `from.revision`. */
      afterPromotion: z.boolean(),
      stepReached: z.number().int(),
      weightReached: z.number(),
      failing: z.array(failingMetricSchema),
      breachStartedAt: z.string().nullable(),
      decidedAt: z.string(),
      drainedAt: z.string().nullable(),
      restoredAt: z.string().nullable(),
      verifiedAt: z.string().nullable(),
      /** When the stable was observed back on the restored template (the canary may still be under way). */
      stableRestoredAt: z.string().nullable().optional(),
      /** A rollback that could not finish: what was and was not done, and the commands that finish it by hand. */
      remaining: z.array(z.string()).optional(),
    })
    .nullable(),
  /** The action decided and not yet observed done: written ahead, so a restart knows what was under way. */
  pending: z.unknown().nullable(),
  /** The last action of this phase the cluster accepted (written after the call returned): "X done". */
  performed: z.unknown().nullable(),
  outcome: z.string().nullable(),
  wakeAt: z.string().nullable(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
  /** Row version for compare-and-set. */
  version: z.number().int(),
});
export type Operation = z.infer<typeof operationSchema>;

/** One Deployment as the engine needs to see it. */
export interface DeploymentView {
  image: string;
  revision: number;
  /** Fingerprint of the pod template: a manual rollback is done when the stable's equals its target's. */
  template: string;
  desired: number;
  ready: number;
  /** As `kubectl rollout status` judges it. */
  rollout: 'complete' | 'progressing' | 'failed';
}

/** The cluster as observed at the start of a reconcile. */
export interface Observation {
  stable: DeploymentView;
  canary: DeploymentView;
  /** The canary's share of traffic now. */
  weight: number;
  /** Weights from the replica ratio: the canary's replicas are set by the traffic step, not by deploying it. */
  replicaTraffic: boolean;
}

/** A verdict as the state machine reads it; the whole verdict goes to the audit log beside it. */
export interface VerdictEvent {
  type: 'verdict';
  /** `canary`: the canary against the baseline; `stable`: the stable against its own past (watch, verify). */
  subject: 'canary' | 'stable';
  verdict: Verdict['verdict'];
  evaluatedAt: string;
  reasons: string[];
  failing: FailingMetric[];
  breachStartedAt: string | null;
  /** The whole verdict, for the thread and the audit log. */
  evidence: Verdict;
}

export const CONTROL_VERBS = ['promote', 'pause', 'resume', 'abort'] as const;
export type ControlVerb = (typeof CONTROL_VERBS)[number];

export type OperationEvent = { type: 'tick' } | VerdictEvent | { type: 'control'; verb: ControlVerb; user: string };

/** Idempotent, level-based: performing one twice leaves the cluster as performing it once. */
export type Action =
  | { type: 'deploy-canary'; image: string; replicas: number | null }
  | { type: 'set-weight'; canary: number }
  | { type: 'promote-stable'; image: string }
  | { type: 'scale-canary'; replicas: number }
  | { type: 'restore-canary'; image: string }
  | { type: 'undo-stable'; toRevision: number; image: string }
  | { type: 'set-stable-image'; image: string };

/** What a transition tells people; the engine turns these into outbox entries. */
export type Message =
  | { kind: 'card' }
  | { kind: 'note'; tone: 'info' | 'good' | 'warning' | 'bad'; headline: string; lines: string[]; verdict?: boolean }
  | { kind: 'incident' };

export interface Settings {
  stepDurationMs: number;
  watchMs: number;
  maxInconclusive: number;
  /**
   * How long after a step begins its verdicts still judge mostly data from before it (the longest lookback of the
   * analysis): inconclusive ones then are the canary warming up, not missing metrics, and do not count.
   */
  warmupMs?: number | undefined;
  /** How long after a rollback its verification judges the stable: one analysis window. */
  verifyAfterMs: number;
  /** Canary replicas for a canary step; the stable's count when not configured. */
  canaryReplicas?: number | undefined;
  rollbackCooldownMs: number;
  /** A rollback still draining or restoring after this long cannot finish by itself: people are told and it ends failed. */
  stuckAfterMs?: number | undefined;
  /** How long a rollback keeps retrying a cluster that fails (5xx, timeouts, unreadable) before it ends failed. */
  retryForMs?: number | undefined;
  /** The service's objects, for the manual commands an escalation gives. */
  workload?: Workload | undefined;
}

/** Where a service lives in its cluster: what a person needs to finish a rollback by hand. */
export interface Workload {
  namespace: string;
  stable: string;
  canary: string;
  /** How traffic is split: `istio virtualservice/NAME`, `gatewayApi httproute/NAME` or `replicas`. */
  traffic: { kind: 'istio'; name: string } | { kind: 'gatewayApi'; name: string } | { kind: 'replicas' };
}

export interface Context {
  now: Date;
  settings: Settings;
  /** When the last automated rollback of this service and environment was decided, if any. */
  lastAutomatedRollbackAt?: Date | undefined;
  /** The cluster has failed this operation (an action refused, or the cluster unreadable) since then, with this error. */
  failing?: { since: Date; error: string } | undefined;
}

export interface Decision {
  next: Operation;
  action?: Action | undefined;
  audit: { action: string; actor: string; detail: Record<string, unknown> }[];
  messages: Message[];
  /** A control that does not apply now, in words for the person who sent it; nothing changed. */
  refused?: string | undefined;
}

const AUTOMATED: readonly RollbackTrigger[] = ['verdict', 'watch', 'unmanaged', 'rollout-failed'];
export const isAutomated = (trigger: RollbackTrigger): boolean => AUTOMATED.includes(trigger);
/** Every rollback but an Abort is an incident: it gets a post in the incident channel. */
const isIncident = (trigger: RollbackTrigger): boolean => trigger !== 'abort';

/** Collects what a transition says and does while the next operation is built. */
class Transition {
  op: Operation;
  action: Action | undefined;
  readonly audit: Decision['audit'] = [];
  readonly messages: Message[] = [];

  constructor(
    op: Operation,
    readonly ctx: Context,
  ) {
    this.op = structuredClone(op);
  }

  get nowIso(): string {
    return this.ctx.now.toISOString();
  }

  enter(phase: Phase, patch: Partial<Operation> = {}): void {
    this.op = { ...this.op, ...patch, phase, phaseSince: this.nowIso, pending: null, performed: null };
    this.messages.push({ kind: 'card' });
  }

  record(action: string, detail: Record<string, unknown>, actor = 'lifeguard'): void {
    this.audit.push({ action, actor, detail });
  }

  note(tone: Extract<Message, { kind: 'note' }>['tone'], headline: string, lines: string[] = [], verdict = false): void {
    this.messages.push({ kind: 'note', tone, headline, lines, ...(verdict ? { verdict } : {}) });
  }

  /**
   * Whether the cluster accepted `action` in this phase: what is observed since is Lifeguard's own doing, and not a
   * reading from before its last write (as a watch cache behind could give) or a write lost to a crash.
   */
  performed(action: Action): boolean {
    return JSON.stringify(this.op.performed) === JSON.stringify(action);
  }

  act(action: Action): void {
    this.action = action;
    if (JSON.stringify(this.op.pending) !== JSON.stringify(action)) {
      this.op = { ...this.op, pending: action };
      this.record('operation.action', { operation: this.op.id, phase: this.op.phase, action });
    }
  }

  wakeAt(at: Date | null): void {
    this.op = { ...this.op, wakeAt: at ? at.toISOString() : null };
  }

  finish(state: OperationState, outcome: string): void {
    this.op = { ...this.op, state, outcome, phase: 'done', phaseSince: this.nowIso, pending: null, performed: null, wakeAt: null, finishedAt: this.nowIso };
    this.messages.push({ kind: 'card' });
    this.record('operation.finished', { operation: this.op.id, state, outcome });
  }

  decision(refused?: string): Decision {
    if (refused !== undefined) return { next: this.op, audit: this.audit, messages: [], refused };
    // The card is redrawn once per transition, after everything else it says.
    const card = this.messages.some((m) => m.kind === 'card');
    const messages = [...this.messages.filter((m) => m.kind !== 'card'), ...(card ? [{ kind: 'card' as const }] : [])];
    return { next: this.op, action: this.action, audit: this.audit, messages };
  }
}

const pct = (n: number) => `${n} %`;

/** Every transition of an operation: the one place that says what happens next. */
export function decide(op: Operation, observation: Observation | undefined, event: OperationEvent, ctx: Context): Decision {
  const t = new Transition(op, ctx);
  if (isFinal(op.state)) {
    return t.decision(event.type === 'control' ? `operation ${op.id} has already ended (${op.state})` : undefined);
  }
  if (event.type === 'control') {
    const refused = control(t, event.verb, event.user);
    if (refused !== undefined) return t.decision(refused);
  } else if (event.type === 'verdict') {
    verdict(t, event);
  }
  if (stuck(t) || gaveUp(t)) return t.decision();
  if (observation && !isFinal(t.op.state)) advance(t, observation);
  return t.decision();
}

function control(t: Transition, verb: ControlVerb, user: string): string | undefined {
  const { op } = t;
  const subject = { operation: op.id, verb };
  if (op.state === 'rolling-back') return `operation ${op.id} is rolling back; it cannot be ${verb === 'abort' ? 'aborted' : `${verb}d`} now`;
  switch (verb) {
    case 'pause':
      if (op.state === 'paused') return `operation ${op.id} is already paused (${op.pause?.why ?? 'paused'})`;
      t.op = { ...op, state: 'paused', pause: { reason: 'user', by: user, at: t.nowIso, why: `paused by ${user}` } };
      t.record('operation.paused', subject, user);
      t.messages.push({ kind: 'card' });
      t.note('info', `Paused by <@${user}> at ${pct(op.weight)} of traffic`, ['Resume or Abort from the card, or `/release resume|abort ' + op.id + '`.']);
      return undefined;
    case 'resume':
      if (op.state !== 'paused') return `operation ${op.id} is not paused`;
      if (op.pause?.reason === 'promotion') return `operation ${op.id} waits for Promote at ${pct(op.weight)}, not for Resume`;
      t.op = { ...op, state: 'running', pause: null, analysis: { ...op.analysis, inconclusiveRun: 0 } };
      // The metrics were missing: the step's evidence starts over, with its warm-up, once they are back.
      if (op.pause?.reason === 'inconclusive' && op.phase === 'hold') t.op = { ...t.op, phaseSince: t.nowIso, analysis: { ...t.op.analysis, passes: 0 } };
      t.record('operation.resumed', subject, user);
      t.messages.push({ kind: 'card' });
      t.note('info', `Resumed by <@${user}>`);
      return undefined;
    case 'promote': {
      // A watch that cannot judge (no metrics from before, say, for a new service) is ended by a person.
      if (op.state === 'paused' && op.phase === 'watch') {
        t.record('operation.promoted_step', { ...subject, weight: 100, unjudged: true }, user);
        t.note('good', `Promoted by <@${user}> without a judged watch`, [op.pause?.why ?? '']);
        t.finish('promoted', `promoted by ${user} without a judged watch`);
        return undefined;
      }
      const awaiting = op.state === 'paused' && op.pause?.reason === 'promotion';
      if (!awaiting && !(op.state === 'running' && (op.phase === 'hold' || op.phase === 'shift'))) {
        return op.state === 'paused' ? `operation ${op.id} is paused (${op.pause?.why ?? 'paused'}): Resume it first` : `operation ${op.id} has no step to promote now (${op.phase})`;
      }
      const weight = op.steps[op.step] ?? op.weight;
      t.op = { ...op, promotions: [...op.promotions, { user, weight, step: op.step, at: t.nowIso }], ...(awaiting ? { state: 'running' as const, pause: null } : {}) };
      t.record('operation.promoted_step', { ...subject, weight }, user);
      t.messages.push({ kind: 'card' });
      t.note('good', `Promoted by <@${user}> at ${pct(weight)}`);
      return undefined;
    }
    case 'abort':
      startRollback(t, { trigger: 'abort', by: user, why: `aborted by ${user}`, failing: [], breachStartedAt: null });
      return undefined;
  }
}

function verdict(t: Transition, v: VerdictEvent): void {
  const { op } = t;
  if (op.state === 'rolling-back') {
    if (v.subject === 'stable' && op.phase === 'verify' && stableJudgement(op, t.ctx.now, t.ctx.settings)) verifyVerdict(t, v);
    return;
  }
  // The canary is judged against the baseline only while both take traffic; the stable against its past while watched.
  // At 100 % (and while the stable rolls out under it) the baseline has no traffic left to compare with: only a
  // canary failing its absolute bounds is acted on there.
  const allTraffic = op.steps[op.step] === 100 || op.phase === 'promote-stable';
  const judgedNow =
    v.subject === 'stable'
      ? op.phase === 'watch'
      : op.strategy === 'canary' && (op.phase === 'shift' || op.phase === 'hold' || op.phase === 'promote-stable') && (!allTraffic || v.verdict === 'fail');
  if (!judgedNow) return;
  t.op = { ...op, analysis: { ...op.analysis, last: { verdict: v.verdict, at: v.evaluatedAt, reasons: v.reasons } } };
  if (v.verdict === 'fail') return failed(t, v);
  if (v.verdict === 'inconclusive') return inconclusive(t, v);
  // A pass counts for a step only when judged on data from the step: evaluated after it began.
  const counts = (op.phase === 'hold' || op.phase === 'watch') && Date.parse(v.evaluatedAt) >= Date.parse(op.phaseSince);
  const first = counts && op.phase === 'hold' && op.analysis.passes === 0;
  t.op = { ...t.op, analysis: { ...t.op.analysis, inconclusiveRun: 0, passes: t.op.analysis.passes + (counts ? 1 : 0) } };
  if (op.state !== 'running') return;
  t.messages.push({ kind: 'card' });
  // One note per step: the card keeps the latest verdict, the thread is not flooded every interval.
  if (first) t.note('good', `Analysis passed at ${pct(op.weight)}`, v.reasons, true);
}

function inconclusive(t: Transition, v: VerdictEvent): void {
  const judged = t.op.phase === 'hold' || t.op.phase === 'watch';
  const warmingUp = !judged || Date.parse(v.evaluatedAt) < Date.parse(t.op.phaseSince) + (t.ctx.settings.warmupMs ?? 0);
  if (warmingUp) return;
  const run = t.op.analysis.inconclusiveRun + 1;
  t.op = { ...t.op, analysis: { ...t.op.analysis, inconclusiveRun: run } };
  if (t.op.state !== 'running') return;
  t.messages.push({ kind: 'card' });
  const max = t.ctx.settings.maxInconclusive;
  if (run < max) {
    if (run === 1) t.note('warning', `Analysis inconclusive (1 of ${max} in a row before the release pauses)`, v.reasons, true);
    return;
  }
  const why = `${run} inconclusive verdicts in a row: ${v.reasons.join('; ') || 'no data'}`;
  t.op = { ...t.op, state: 'paused', pause: { reason: 'inconclusive', by: 'lifeguard', at: t.nowIso, why } };
  t.record('operation.paused', { operation: t.op.id, why, reasons: v.reasons });
  t.note('warning', `Paused: the ${t.op.phase === 'watch' ? 'stable' : 'canary'} could not be judged ${run} times in a row`, [
    ...v.reasons,
    'Nothing was promoted or rolled back. When the metrics are back, Resume; or Abort to roll back.',
  ]);
}

function failed(t: Transition, v: VerdictEvent): void {
  const { op, ctx } = t;
  if (op.pause?.reason === 'cooldown') return;
  const trigger: RollbackTrigger = v.subject === 'stable' ? 'watch' : 'verdict';
  const cause = { trigger, by: 'lifeguard', why: v.reasons.join('; '), failing: v.failing, breachStartedAt: v.breachStartedAt };
  const last = ctx.lastAutomatedRollbackAt;
  if (last && ctx.now.getTime() - last.getTime() < ctx.settings.rollbackCooldownMs) {
    // A flapping metric must not loop rollback after rollback: a person decides the second time.
    const why = `failing again within the rollback cooldown (the last automated rollback was decided at ${last.toISOString()})`;
    t.op = {
      ...op,
      state: 'paused',
      pause: { reason: 'cooldown', by: 'lifeguard', at: t.nowIso, why },
      analysis: { ...t.op.analysis, passes: 0 },
      rollback: rollbackRecord(t, { ...cause, why: `${cause.why} (escalated: ${why})` }),
    };
    t.record('operation.escalated', { operation: op.id, why, verdict: v });
    t.messages.push({ kind: 'card' }, { kind: 'incident' });
    t.note('bad', 'Failing, and paused instead of rolled back: escalated', [why, ...v.reasons, 'A person decides now: Abort to roll back, or Resume.'], true);
    return;
  }
  startRollback(t, cause, v);
}

interface RollbackCause {
  trigger: RollbackTrigger;
  by: string;
  why: string;
  failing: FailingMetric[];
  breachStartedAt: string | null;
}

function rollbackRecord(t: Transition, cause: RollbackCause): NonNullable<Operation['rollback']> {
  const { op } = t;
  // A manual rollback always takes the stable back; the canary's share is what it had when it was decided.
  const manual = cause.trigger === 'manual';
  return {
    ...cause,
    afterPromotion: manual || op.stableChangedAt !== null,
    stepReached: op.step + 1,
    // Once the stable runs the new version, the new version has all the traffic.
    weightReached: !manual && op.stableChangedAt !== null ? 100 : op.weight,
    decidedAt: t.nowIso,
    drainedAt: null,
    restoredAt: null,
    verifiedAt: null,
    stableRestoredAt: null,
  };
}

function startRollback(t: Transition, cause: RollbackCause, v?: VerdictEvent): void {
  const rollback = rollbackRecord(t, cause);
  t.op = { ...t.op, state: 'rolling-back', pause: null, rollback };
  t.enter('drain');
  t.record(isAutomated(cause.trigger) ? 'rollback.automated' : `rollback.${cause.trigger === 'manual' ? 'manual' : 'aborted'}`, {
    operation: t.op.id,
    trigger: cause.trigger,
    why: cause.why,
    weight: t.op.weight,
    step: t.op.step + 1,
    failing: cause.failing,
    ...(v ? { verdict: v } : {}),
  }, cause.by);
  if (isIncident(cause.trigger)) t.messages.push({ kind: 'incident' });
  const lines = cause.failing.map((f) => `${f.metric}: ${f.reason}`);
  t.note('bad', rollbackHeadline(t.op, cause), lines, v !== undefined);
}

function rollbackHeadline(op: Operation, cause: RollbackCause): string {
  if (isAutomated(cause.trigger)) return `Rolling back automatically: ${cause.why}`;
  if (cause.trigger === 'abort') return `Aborted by ${mention(cause.by)}: rolling back`;
  const target = op.to?.revision !== undefined ? ` to \`${op.to.version}\` (revision ${op.to.revision})` : '';
  return `Rolling back${target}, requested by ${mention(cause.by)}: ${cause.why}`;
}

function verifyVerdict(t: Transition, v: VerdictEvent): void {
  const rb = t.op.rollback!;
  if (v.verdict === 'fail') {
    t.op = { ...t.op, rollback: { ...rb, verifiedAt: null } };
    t.record('rollback.verify_failed', { operation: t.op.id, verdict: v });
    t.note('bad', 'The stable is not healthy after the rollback: escalated', [...v.reasons, 'Look at the stable Deployment now; Lifeguard has done all it can.'], true);
    t.messages.push({ kind: 'incident' });
    t.finish('failed', 'rollback done, verification failed');
    return;
  }
  const verifiedAt = t.nowIso;
  t.op = { ...t.op, rollback: { ...rb, verifiedAt } };
  const note = v.verdict === 'pass' ? 'metrics healthy' : `metrics inconclusive (${v.reasons.join('; ') || 'no data'}), pods ready`;
  t.record('rollback.verified', { operation: t.op.id, verdict: v.verdict, reasons: v.reasons });
  t.note('good', `Rolled back and verified: ${note}`);
  if (isIncident(rb.trigger)) t.messages.push({ kind: 'incident' });
  t.finish(rb.trigger === 'abort' ? 'aborted' : 'rolled-back', v.verdict === 'pass' ? 'rolled back, verified' : 'rolled back, verified by readiness');
}

/** Moves the operation towards the wanted cluster state: an action, the next phase, or a wait. */
/**
 * Whether the cluster gives the canary `want` percent. A replica ratio can give only some weights (5 % of four
 * pods is one pod, 25 %): there the split that `want` asks for must be in place, every pod of it ready.
 */
function atWeight(obs: Observation, want: number): boolean {
  if (!obs.replicaTraffic) return obs.weight === want;
  const split = replicaSplit(obs.stable.desired, obs.canary.desired, want);
  return obs.stable.desired === split.stable && obs.canary.desired === split.canary && obs.stable.ready === split.stable && obs.canary.ready === split.canary;
}

function advance(t: Transition, obs: Observation): void {
  t.op = { ...t.op, weight: obs.weight };
  if (t.op.state === 'paused') {
    // A pause holds the traffic where it was; nothing else moves.
    const want = t.op.steps[t.op.step];
    if (t.op.phase === 'hold' && want !== undefined && !atWeight(obs, want)) t.act({ type: 'set-weight', canary: want });
    t.wakeAt(null);
    return;
  }
  for (let guard = 0; guard < PHASES.length * 2; guard++) {
    const before = `${t.op.state}/${t.op.phase}/${t.op.step}`;
    step(t, obs);
    const state = t.op.state as OperationState;
    if (t.action || isFinal(state) || state === 'paused' || before === `${state}/${t.op.phase}/${t.op.step}`) return;
  }
}

function rolloutFailed(t: Transition, which: 'canary' | 'stable', obs: Observation): void {
  startRollback(t, { trigger: 'rollout-failed', by: 'lifeguard', why: `the ${which} Deployment's rollout failed (${which === 'canary' ? obs.canary.rollout : obs.stable.rollout}: progress deadline exceeded)`, failing: [], breachStartedAt: null });
}

/** One phase's check: done (enter the next), or the action that gets it there, or the time to look again. */
function step(t: Transition, obs: Observation): void {
  const { op, ctx } = t;
  const to = op.to;
  switch (op.phase) {
    case 'deploy-canary': {
      const replicas = obs.replicaTraffic ? null : (ctx.settings.canaryReplicas ?? Math.max(1, obs.stable.desired));
      if (obs.canary.image !== to!.image || (replicas !== null && obs.canary.desired !== replicas)) return t.act({ type: 'deploy-canary', image: to!.image, replicas });
      if (obs.canary.rollout === 'failed') return rolloutFailed(t, 'canary', obs);
      if (obs.canary.rollout !== 'complete') return;
      t.record('operation.canary_deployed', { operation: op.id, image: to!.image, replicas: obs.canary.desired });
      t.note('info', `Canary \`${to!.version}\` deployed (${obs.canary.ready} ready)`);
      return t.enter('shift', { step: 0 });
    }
    case 'shift': {
      const want = op.steps[op.step]!;
      if (!atWeight(obs, want)) return t.act({ type: 'set-weight', canary: want });
      t.record('operation.step', { operation: op.id, step: op.step + 1, weight: want });
      if (want === 100) {
        // At 100 % there is no baseline left to judge against: a pause here waits for Promote alone.
        if (op.pauseForApprovalAt.includes(100) && !op.promotions.some((p) => p.step === op.step)) return awaitPromotion(t, want, []);
        t.note('info', `All traffic on the canary: promoting the stable to \`${to!.version}\``);
        return t.enter('promote-stable', { stableChangedAt: t.nowIso });
      }
      t.note('info', `Step ${op.step + 1} of ${op.steps.length}: ${pct(want)} of traffic on the canary`);
      return t.enter('hold', { analysis: { ...op.analysis, passes: 0 } });
    }
    case 'hold': {
      const want = op.steps[op.step]!;
      if (!atWeight(obs, want)) return t.act({ type: 'set-weight', canary: want });
      const promoted = op.promotions.some((p) => p.step === op.step);
      const endsAt = Date.parse(op.phaseSince) + ctx.settings.stepDurationMs;
      const analysed = op.analysis.passes > 0;
      if (!analysed || (!promoted && ctx.now.getTime() < endsAt)) return t.wakeAt(new Date(Math.max(endsAt, ctx.now.getTime() + 1000)));
      if (op.pauseForApprovalAt.includes(want) && !promoted) return awaitPromotion(t, want, ['Analysis passed.']);
      return t.enter('shift', { step: op.step + 1 });
    }
    case 'promote-stable':
    case 'update-stable': {
      if (obs.stable.image !== to!.image) return t.act(op.phase === 'promote-stable' ? { type: 'promote-stable', image: to!.image } : { type: 'set-stable-image', image: to!.image });
      if (obs.stable.rollout === 'failed') return rolloutFailed(t, 'stable', obs);
      if (obs.stable.rollout !== 'complete') return;
      t.record('operation.stable_updated', { operation: op.id, image: to!.image, revision: obs.stable.revision });
      if (op.phase === 'update-stable') return enterWatch(t);
      return t.enter('finalize');
    }
    case 'finalize':
      if (!atWeight(obs, 0)) return t.act({ type: 'set-weight', canary: 0 });
      if (obs.canary.desired !== 0) return t.act({ type: 'scale-canary', replicas: 0 });
      t.note('good', `Promoted: the stable runs \`${to!.version}\`, all traffic on it, canary scaled to 0`);
      return enterWatch(t);
    case 'watch': {
      const endsAt = Date.parse(op.phaseSince) + ctx.settings.watchMs;
      if (ctx.now.getTime() < endsAt) return t.wakeAt(new Date(endsAt));
      // A watch that never judged the stable proves nothing: it goes on until a pass (or pauses, inconclusive).
      if (op.analysis.passes === 0) return t.wakeAt(new Date(ctx.now.getTime() + 1000));
      t.note('good', `Watch period over: \`${to!.version}\` stays`);
      return t.finish('promoted', 'promoted');
    }
    case 'drain':
      // Done only when observed after its own write: a reading from before Lifeguard's last forward write
      // (a watch cache behind) could show 0 % with traffic on the canary.
      if (!atWeight(obs, 0) || !t.performed({ type: 'set-weight', canary: 0 })) return t.act({ type: 'set-weight', canary: 0 });
      t.op = { ...op, rollback: { ...op.rollback!, drainedAt: t.nowIso } };
      t.record('rollback.drained', { operation: op.id });
      t.note('info', 'Traffic drained: all of it on the stable');
      if (isIncident(op.rollback!.trigger)) t.messages.push({ kind: 'incident' });
      return t.enter('restore');
    case 'restore': {
      // Level-based whatever happened before: the stable back on the image it ran, the canary empty on that image.
      const rb = op.rollback!;
      const goal = restoreGoal(op);
      // Another writer (a replica that lost the lease, a retried write of the operation this one pre-empted) may
      // have moved traffic since the drain: the drain is a level, kept until the end.
      if (!atWeight(obs, 0)) return t.act({ type: 'set-weight', canary: 0 });
      const restored = goal.template !== undefined ? obs.stable.template === goal.template : obs.stable.image === goal.image;
      if (!restored) return t.act({ type: 'undo-stable', toRevision: goal.revision, image: goal.image });
      if (obs.stable.rollout === 'failed') return rollbackStuck(t, 'the stable Deployment');
      if (obs.stable.rollout !== 'complete') return;
      if (!rb.stableRestoredAt) t.op = { ...t.op, rollback: { ...rb, stableRestoredAt: t.nowIso } };
      const restore: Action = { type: 'restore-canary', image: goal.image };
      if (obs.canary.image !== goal.image || obs.canary.desired !== 0 || !t.performed(restore)) return t.act(restore);
      if (obs.canary.rollout === 'failed') return rollbackStuck(t, 'the canary Deployment');
      if (obs.canary.rollout !== 'complete') return;
      t.op = { ...t.op, rollback: { ...t.op.rollback!, restoredAt: t.nowIso } };
      t.record('rollback.restored', { operation: op.id, stable: obs.stable.image, revision: obs.stable.revision });
      if (isIncident(rb.trigger)) t.messages.push({ kind: 'incident' });
      t.note('info', rb.afterPromotion ? `Stable rolled back to \`${goal.version}\` (the template of revision ${goal.revision}, now revision ${obs.stable.revision})` : 'Canary scaled to 0 on the stable image');
      return t.enter('verify');
    }
    case 'verify': {
      if (!atWeight(obs, 0)) return t.act({ type: 'set-weight', canary: 0 });
      const dueAt = Date.parse(op.rollback!.restoredAt!) + ctx.settings.verifyAfterMs;
      // The stable's verdict over the window arrives as a stable verdict event once it is due.
      return t.wakeAt(new Date(Math.max(dueAt, ctx.now.getTime() + 1000)));
    }
    case 'done':
      return;
  }
}

function awaitPromotion(t: Transition, weight: number, lines: string[]): void {
  const why = `waiting for Promote at ${pct(weight)}`;
  t.op = { ...t.op, state: 'paused', pause: { reason: 'promotion', by: 'lifeguard', at: t.nowIso, why } };
  t.record('operation.awaiting_promotion', { operation: t.op.id, weight });
  t.messages.push({ kind: 'card' });
  t.note('info', `At ${pct(weight)}: waiting for Promote`, [...lines, `Someone who may approve releases here clicks Promote on the card (or \`/release promote ${t.op.id}\`).`]);
  t.wakeAt(null);
}

/**
 * Where a rollback takes the stable: the revision a manual rollback chose, or the one that ran before a release.
 * A manual rollback's restore is observed by pod template, since two revisions can share an image.
 */
function restoreGoal(op: Operation): { version: string; image: string; revision: number; template?: string | undefined } {
  if (op.kind === 'rollback' && op.to?.revision !== undefined) return { version: op.to.version, image: op.to.image, revision: op.to.revision, template: op.to.template };
  return op.from;
}

/** A restore whose rollout failed: nothing more Lifeguard can do by itself, so people are told now. */
function rollbackStuck(t: Transition, what: string): void {
  endStuck(t, `${what} did not roll out (progress deadline exceeded)`, ['Traffic is on the stable. Look at the Deployment now (`kubectl rollout status`, its pods and events).']);
}


/**
 * A drain or restore that has not finished long after it began (the cluster unreachable, a write refused, a
 * Deployment deleted or paused by hand): it ends failed and people are told what to do, rather than waiting in
 * silence while the service is locked.
 */
function stuck(t: Transition): boolean {
  const doing = t.op.state === 'rolling-back' && (t.op.phase === 'drain' || t.op.phase === 'restore') ? ROLLBACK_PHASE[t.op.phase] : undefined;
  const limit = t.ctx.settings.stuckAfterMs;
  if (!doing || limit === undefined || t.ctx.now.getTime() - Date.parse(t.op.phaseSince) < limit) return false;
  const minutes = Math.round(limit / 60_000);
  endStuck(t, `${doing} did not finish within ${minutes} min`, [...remainingSteps(t.op, t.ctx.settings.workload), 'The audit log (`lifeguard audit export`) has the error of each attempt.']);
  return true;
}

/**
 * A rollback the cluster keeps failing (5xx, timeouts, unreadable) past `retryForMs`: each attempt already
 * retried and backed off; now it ends failed and people get what was done, what was not and the commands.
 */
function gaveUp(t: Transition): boolean {
  const { failing, settings, now } = t.ctx;
  const retrying = t.op.state === 'rolling-back' && (t.op.phase === 'drain' || t.op.phase === 'restore');
  if (!retrying || !failing || settings.retryForMs === undefined) return false;
  // Failures from before the rollback was decided (a release's writes) do not use up the rollback's own time.
  const since = Math.max(failing.since.getTime(), Date.parse(t.op.rollback!.decidedAt));
  if (now.getTime() - since < settings.retryForMs) return false;
  const seconds = Math.round(settings.retryForMs / 1000);
  const span = seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`;
  endStuck(t, `the cluster failed every attempt for ${span} (last error: ${failing.error})`, remainingSteps(t.op, settings.workload));
  return true;
}

function endStuck(t: Transition, why: string, next: string[]): void {
  t.op = { ...t.op, rollback: { ...t.op.rollback!, remaining: next } };
  t.record('rollback.stuck', { operation: t.op.id, why, remaining: next });
  t.note('bad', `The rollback cannot finish: ${why}`, next);
  // Loud whatever started it: an Abort that cannot finish pages people as an automated rollback does.
  t.messages.push({ kind: 'incident' });
  t.finish('failed', `rollback stuck: ${why}`);
}

/** What a stuck rollback did and did not do, and the `kubectl` commands that finish it by hand. */
export function remainingSteps(op: Operation, workload: Workload | undefined): string[] {
  const rb = op.rollback!;
  const goal = restoreGoal(op);
  const drained = rb.drainedAt !== null;
  const stableBack = Boolean(rb.stableRestoredAt);
  const done = [drained ? 'traffic moved to the stable' : undefined, stableBack ? 'stable restored' : undefined].filter((x) => x !== undefined);
  const lines = [`Done: ${done.length ? done.join(', ') : 'nothing yet'}.`];
  if (!workload) return [...lines, 'Not done: the rest of the rollback; finish it by hand.'];
  const ns = `kubectl -n ${workload.namespace}`;
  const commands: string[] = [];
  if (!drained) {
    commands.push(
      workload.traffic.kind === 'replicas'
        ? `${ns} scale deployment/${workload.canary} --replicas=0`
        : `${ns} edit ${workload.traffic.kind === 'istio' ? 'virtualservice' : 'httproute'}/${workload.traffic.name}   # canary weight 0, stable 100`,
    );
  }
  // Once undone, the revision asked for has a new number: `--to-revision` of the old one would fail.
  const undo = rb.afterPromotion && !stableBack;
  if (undo) commands.push(`${ns} rollout undo deployment/${workload.stable} --to-revision=${goal.revision}`, `${ns} rollout status deployment/${workload.stable}`);
  if (!rb.restoredAt) commands.push(`${ns} scale deployment/${workload.canary} --replicas=0`);
  const missing = [
    drained ? undefined : 'drain the canary',
    undo ? `roll the stable back to revision ${goal.revision} (\`${goal.version}\`)` : undefined,
    rb.restoredAt ? undefined : 'scale the canary to 0',
  ].filter((x) => x !== undefined);
  return [
    ...lines,
    `Not done: ${missing.join(', ') || 'verification'}.`,
    ...(commands.length ? ['To finish by hand:', ...[...new Set(commands)].map((c) => `\`${c}\``)] : []),
    'Then record it: `lifeguard audit note "finished rollback #' + op.id + ' by hand" --subject ' + `${op.service}/${op.environment}\``,
  ];
}

function enterWatch(t: Transition): void {
  if (t.ctx.settings.watchMs <= 0) return t.finish('promoted', 'promoted');
  t.enter('watch', { analysis: { ...t.op.analysis, passes: 0 } });
  t.wakeAt(new Date(t.ctx.now.getTime() + t.ctx.settings.watchMs));
}

/**
 * Whether the engine should judge the stable against its own past now, and from which moment. The past is
 * before the operation began: during a canary the stable served only part of the traffic (none at 100 %).
 */
export function stableJudgement(op: Operation, now: Date, settings: Settings): { since: string } | undefined {
  // Until a whole lookback has passed, "now" would still hold the canary period, when the stable had less traffic.
  const settled = Date.parse(op.phaseSince) + (settings.warmupMs ?? 0) <= now.getTime();
  if (op.state === 'running' && op.phase === 'watch') return settled ? { since: op.createdAt } : undefined;
  if (op.state === 'rolling-back' && op.phase === 'verify' && op.rollback?.restoredAt) {
    const due = Date.parse(op.rollback.restoredAt) + settings.verifyAfterMs <= now.getTime();
    return due ? { since: op.createdAt } : undefined;
  }
  return undefined;
}

/** What the engine knows when a granted request becomes an operation. */
export interface OperationStart {
  id: number;
  requestId: number | null;
  kind: Operation['kind'];
  strategy: Operation['strategy'];
  service: string;
  environment: string;
  from: Operation['from'];
  to: Operation['to'];
  steps: number[];
  pauseForApprovalAt: number[];
  stepDurationMs?: number | null | undefined;
  requestedBy: string;
  approvedBy: string[];
  card: Operation['card'];
}

/** A new operation at the start of its plan: a canary deploys first, a rolling release updates the stable. */
export function newOperation(start: OperationStart, now: Date): Operation {
  const at = now.toISOString();
  const rolling = start.strategy === 'rolling';
  return {
    ...start,
    stepDurationMs: start.stepDurationMs ?? null,
    state: 'running',
    phase: rolling ? 'update-stable' : 'deploy-canary',
    // A rolling release has one step, the update itself, under way from the start.
    step: rolling ? 0 : -1,
    weight: 0,
    phaseSince: at,
    stableChangedAt: rolling ? at : null,
    analysis: { passes: 0, inconclusiveRun: 0, last: null },
    promotions: [],
    pause: null,
    preemptedBy: null,
    rollback: null,
    pending: null,
    performed: null,
    outcome: null,
    wakeAt: null,
    createdAt: at,
    finishedAt: null,
    version: 0,
  };
}

/**
 * A canary serving traffic that Lifeguard did not start, judged `fail`: drained and restored as any automated
 * rollback, since nobody else will. `from` is the stable as observed, which the restore keeps.
 */
export function unmanagedDrain(start: Pick<OperationStart, 'id' | 'service' | 'environment' | 'from'>, observedWeight: number, v: VerdictEvent, ctx: Context): Decision {
  const op: Operation = {
    ...newOperation({ ...start, requestId: null, kind: 'rollback', strategy: 'canary', to: null, steps: [], pauseForApprovalAt: [], requestedBy: 'lifeguard', approvedBy: [], card: null }, ctx.now),
    phase: 'hold',
    weight: observedWeight,
  };
  const t = new Transition(op, ctx);
  t.op = { ...t.op, analysis: { ...t.op.analysis, last: { verdict: v.verdict, at: v.evaluatedAt, reasons: v.reasons } } };
  startRollback(t, { trigger: 'unmanaged', by: 'lifeguard', why: `a canary Lifeguard did not start is failing: ${v.reasons.join('; ')}`, failing: v.failing, breachStartedAt: v.breachStartedAt }, v);
  return t.decision();
}

/**
 * A rollback someone asked for (`/rollback` granted, or `lifeguard rollback`): drain, roll the stable back to
 * `start.to` (its revision and template) as `kubectl rollout undo --to-revision` does, scale the canary to 0 on
 * that image, then verify. `observedWeight` is the canary's share when it was decided.
 */
export function manualRollback(start: OperationStart, reason: string, observedWeight: number, ctx: Context): Decision {
  const op: Operation = { ...newOperation({ ...start, kind: 'rollback', strategy: 'canary', steps: [], pauseForApprovalAt: [] }, ctx.now), weight: observedWeight };
  const t = new Transition(op, ctx);
  startRollback(t, { trigger: 'manual', by: start.requestedBy, why: reason, failing: [], breachStartedAt: null });
  return t.decision();
}

/**
 * A release or hotfix stopped where it is because rollback `by.operation` of the same service and environment
 * takes over: that rollback drains the canary and restores the stable, so this one only ends and says so.
 */
export function preempt(op: Operation, by: { operation: number; user: string }, ctx: Context): Decision {
  const t = new Transition(op, ctx);
  if (isFinal(op.state)) return t.decision();
  t.op = { ...t.op, preemptedBy: { operation: by.operation, by: by.user, at: t.nowIso } };
  t.record('operation.preempted', { operation: op.id, by: by.operation, weight: op.weight, phase: op.phase }, by.user);
  t.note('warning', `Stopped at ${pct(op.weight)} of traffic: rollback #${by.operation}, requested by ${mention(by.user)}, takes over`, [
    'It drains the canary and rolls the stable back; follow it in its own thread.',
  ]);
  t.finish('aborted', `aborted by rollback #${by.operation}`);
  return t.decision();
}

/** A Slack user as a mention; an operator of the CLI (`cli:name`) or Lifeguard itself by name. */
function mention(user: string): string {
  return user.startsWith('cli:') || user === 'lifeguard' ? user : `<@${user}>`;
}

/** Which controls a person may use on the operation now: the buttons its card shows. */
export function availableControls(op: Operation): ControlVerb[] {
  if (isFinal(op.state) || op.state === 'rolling-back') return [];
  if (op.state === 'paused') return op.pause?.reason === 'promotion' ? ['promote', 'abort'] : op.phase === 'watch' ? ['resume', 'promote', 'abort'] : ['resume', 'abort'];
  const promotable = op.strategy === 'canary' && (op.phase === 'hold' || op.phase === 'shift');
  return [...(promotable ? (['promote'] as const) : []), 'pause', 'abort'];
}

const ROLLBACK_PHASE: Partial<Record<Phase, string>> = {
  drain: 'moving all traffic to the stable',
  restore: 'restoring the version that ran before',
  verify: 'checking the stable is healthy',
};

/** One line saying where the operation is, for its card. */
export function headline(op: Operation): string {
  const of = `${op.step + 1} of ${op.steps.length}`;
  switch (op.state) {
    case 'promoted':
      return `Promoted: the stable runs ${op.to?.version ?? '?'}`;
    case 'rolled-back':
      return `Rolled back: ${op.rollback?.why ?? ''}`.trim();
    case 'aborted':
      if (op.preemptedBy) return `Aborted by rollback #${op.preemptedBy.operation}`;
      return `Aborted by ${op.rollback?.by ?? '?'} and rolled back`;
    case 'failed':
      return `Failed: ${op.outcome ?? 'see the thread'}`;
    case 'paused':
      return op.pause?.reason === 'promotion' ? `Waiting for Promote at ${pct(op.weight)}` : `Paused at ${pct(op.weight)}`;
    case 'rolling-back':
      return `Rolling back: ${ROLLBACK_PHASE[op.phase] ?? op.phase}`;
    case 'running':
      switch (op.phase) {
        case 'deploy-canary':
          return `Deploying the canary ${op.to?.version ?? ''}`;
        case 'shift':
          return `Step ${of}: shifting ${pct(op.steps[op.step] ?? 0)} of traffic to the canary`;
        case 'hold':
          return `Step ${of}: ${pct(op.weight)} of traffic on the canary, under analysis`;
        case 'promote-stable':
          return `Promoting: the stable rolls out ${op.to?.version ?? ''}`;
        case 'update-stable':
          return `Rolling update of the stable to ${op.to?.version ?? ''}`;
        case 'finalize':
          return 'Promoted: moving all traffic back to the stable and scaling the canary to 0';
        case 'watch':
          return `Promoted; watching the stable against its metrics from before`;
        default:
          return op.phase;
      }
  }
}

/** Each planned step as done, current, pending or skipped (steps never reached by an operation that ended). */
export function stepStates(op: Operation): { weight: number; state: 'done' | 'current' | 'pending' | 'skipped'; pause?: boolean }[] {
  const promotedAll = op.state === 'promoted' || op.phase === 'finalize' || op.phase === 'watch' || (op.rollback?.afterPromotion ?? false);
  return op.steps.map((weight, index) => {
    const pause = op.pauseForApprovalAt.includes(weight) ? { pause: true } : {};
    const reached = index < op.step || (index === op.step && (op.phase !== 'shift' || promotedAll));
    let state: 'done' | 'current' | 'pending' | 'skipped' = 'pending';
    if (promotedAll || index < op.step) state = 'done';
    else if (index === op.step && !isFinal(op.state) && op.state !== 'rolling-back') state = 'current';
    else if (index === op.step && reached) state = 'done';
    else if (isFinal(op.state) || op.state === 'rolling-back') state = 'skipped';
    return { weight, state, ...pause };
  });
}

/** The operation once the cluster accepted `action`, which it had written ahead: the engine commits this after the call. */
export function confirmPerformed(op: Operation, action: Action): Operation | undefined {
  return JSON.stringify(op.pending) === JSON.stringify(action) ? { ...op, performed: action } : undefined;
}
