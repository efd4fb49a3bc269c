import * as z from 'zod';
import { isAutomated, isFinal, type Operation } from './operation.js';
import type { Verdict } from './verdict.js';

/**
 * Delivery figures of a service over a period, computed from its recorded operations alone (no I/O). Each figure
 * is defined here once; README "Delivery figures" says the same in words. An operation belongs to the period when
 * it was created in it.
 */

const DAY_MS = 86_400_000;

/**
 * The canary's own counts at the rollback decision, for the "canary saved" figure: the failing metric's events and
 * requests (a `counts` metric's two-proportion test) over its window. Read from the decision's audit row.
 */
export const canaryCountsSchema = z.object({
  metric: z.string(),
  /** Requests that failed in the window: the metric's events when too high (errors), total − events when too low (successes). */
  failed: z.number().nonnegative(),
  total: z.number().nonnegative(),
  windowMs: z.number().positive(),
});
export type CanaryCounts = z.infer<typeof canaryCountsSchema>;

export const canarySavedSchema = z.object({
  operation: z.number().int(),
  version: z.string().nullable(),
  /** The canary's share of traffic when it was caught, percent. */
  weightReached: z.number(),
  /** From the breach's start (the decision when unknown) to the drain that took the canary's traffic away. */
  exposedMs: z.number().nullable(),
  /** The failing metric whose counts gave the figures; null: no failing metric had counts, the figures are unknown. */
  metric: z.string().nullable(),
  /** The canary's failed ÷ total requests over that metric's window before the decision. */
  errorRate: z.number().nullable(),
  /** Failed requests the canary served while exposed: its failed requests per second at the decision × `exposedMs`. */
  failedServed: z.number().nullable(),
  /** What the same error rate would have failed with all the traffic over the same time: `failedServed` × 100 ÷ `weightReached`. */
  failedAtFullTraffic: z.number().nullable(),
});
export type CanarySaved = z.infer<typeof canarySavedSchema>;

export const deliveryFiguresSchema = z.object({
  since: z.string(),
  until: z.string(),
  days: z.number(),
  /** Releases and hotfixes created in the period that ended promoted. */
  deployments: z.number().int(),
  /** `deployments` ÷ `days`. */
  deploymentsPerDay: z.number(),
  /** Releases and hotfixes created in the period that have ended (promoted, rolled back, aborted or failed). */
  changes: z.number().int(),
  /** Of `changes`: ended rolled back, aborted or failed, or promoted and then undone by the next operation of the service there (a manual rollback or a hotfix). */
  failedChanges: z.number().int(),
  /** `failedChanges` ÷ `changes`; null without changes. */
  changeFailureRate: z.number().nullable(),
  /** Rollbacks created in the period (of every trigger) that were verified. */
  recoveries: z.number().int(),
  /** Mean of rollback decision → verified over `recoveries`, in ms; null without any. */
  meanTimeToRecoveryMs: z.number().nullable(),
  /** Median of created → finished over the `deployments`, in ms; null without any. */
  medianReleaseDurationMs: z.number().nullable(),
  /** Rollbacks Lifeguard decided (a failing verdict or watch, a failed rollout, an unmanaged canary) that ran. */
  automatedRollbacks: z.number().int(),
  /** One per bad canary caught (an automated rollback of a canary before promotion), oldest first. */
  canarySaved: z.array(canarySavedSchema),
});
export type DeliveryFigures = z.infer<typeof deliveryFiguresSchema>;

const ms = (iso: string) => Date.parse(iso);
const isChange = (op: Operation) => op.kind === 'release' || op.kind === 'hotfix';
/** Escalations (paused instead of rolled back) keep a rollback record without running one. */
const rollbackRan = (op: Operation) => op.state === 'rolling-back' || op.state === 'rolled-back' || op.state === 'failed';
const subject = (op: Operation) => `${op.service}/${op.environment}`;

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const mean = (values: number[]): number | null => (values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length);

/** The operation created next for the same service and environment, among `ops`. */
function nextOf(op: Operation, ops: readonly Operation[]): Operation | undefined {
  return ops
    .filter((o) => subject(o) === subject(op) && (ms(o.createdAt) > ms(op.createdAt) || (o.createdAt === op.createdAt && o.id > op.id)))
    .sort((a, b) => ms(a.createdAt) - ms(b.createdAt) || a.id - b.id)[0];
}

/** A change that did not stay out. Promoted, it failed when a person rolled it back or hotfixed it next. */
function failedChange(op: Operation, ops: readonly Operation[]): boolean {
  if (op.state !== 'promoted') return true;
  const next = nextOf(op, ops);
  return next !== undefined && (next.kind === 'hotfix' || (next.kind === 'rollback' && next.rollback?.trigger === 'manual'));
}

function canarySaved(op: Operation, counts: CanaryCounts | undefined): CanarySaved {
  const rb = op.rollback!;
  const exposedMs = rb.drainedAt ? Math.max(0, ms(rb.drainedAt) - ms(rb.breachStartedAt ?? rb.decidedAt)) : null;
  const known = counts && counts.total > 0 ? counts : undefined;
  const failedServed = known && exposedMs !== null ? (known.failed / known.windowMs) * exposedMs : null;
  return {
    operation: op.id,
    version: op.to?.version ?? null,
    weightReached: rb.weightReached,
    exposedMs,
    metric: known?.metric ?? null,
    errorRate: known ? known.failed / known.total : null,
    failedServed,
    // The canary's requests were its share of all requests, so all of them were 100 ÷ share times as many.
    failedAtFullTraffic: failedServed !== null && rb.weightReached > 0 ? (failedServed * 100) / rb.weightReached : null,
  };
}

/** A bad canary caught: Lifeguard rolled a canary back on its verdict before it was promoted. */
const caughtCanary = (op: Operation) => rollbackRan(op) && op.rollback?.trigger === 'verdict' && !op.rollback.afterPromotion;

/**
 * The figures over [since, until] from the operations of one service (one environment or several), in any order.
 * `ops` may include operations created outside the period: only those created in it count, and later ones still
 * tell whether a promoted change was undone. `counts` holds the canary's counts per caught operation id, when known.
 */
export function deliveryFigures(ops: readonly Operation[], period: { since: Date; until: Date }, counts: ReadonlyMap<number, CanaryCounts> = new Map()): DeliveryFigures {
  const from = period.since.getTime();
  const to = period.until.getTime();
  const inPeriod = ops.filter((op) => ms(op.createdAt) >= from && ms(op.createdAt) <= to);
  const days = (to - from) / DAY_MS;
  const ended = inPeriod.filter((op) => isChange(op) && isFinal(op.state));
  const deployed = ended.filter((op) => op.state === 'promoted');
  const failed = ended.filter((op) => failedChange(op, ops));
  const recoveries = inPeriod.filter((op) => op.rollback?.verifiedAt);
  return {
    since: period.since.toISOString(),
    until: period.until.toISOString(),
    days,
    deployments: deployed.length,
    deploymentsPerDay: days > 0 ? deployed.length / days : 0,
    changes: ended.length,
    failedChanges: failed.length,
    changeFailureRate: ended.length > 0 ? failed.length / ended.length : null,
    recoveries: recoveries.length,
    meanTimeToRecoveryMs: mean(recoveries.map((op) => ms(op.rollback!.verifiedAt!) - ms(op.rollback!.decidedAt))),
    medianReleaseDurationMs: median(deployed.map((op) => ms(op.finishedAt!) - ms(op.createdAt))),
    automatedRollbacks: inPeriod.filter((op) => op.rollback && isAutomated(op.rollback.trigger) && rollbackRan(op)).length,
    canarySaved: inPeriod
      .filter(caughtCanary)
      .sort((a, b) => ms(a.createdAt) - ms(b.createdAt) || a.id - b.id)
      .map((op) => canarySaved(op, counts.get(op.id))),
  };
}

/**
 * The canary's failed and total requests behind a rollback decision's verdict: the first failing metric of the
 * operation judged on counts. A metric too high counts failures as its events (errors); one too low, as the
 * requests that were not events (successes). `windows` gives each metric's window (from the config).
 */
export function canaryCountsAtDecision(op: Operation, verdict: Verdict, windows: Readonly<Record<string, number | undefined>>): CanaryCounts | undefined {
  const failing = new Set(op.rollback?.failing.map((f) => f.metric));
  for (const m of verdict.metrics) {
    const c = m.comparison;
    const windowMs = windows[m.metric];
    if (!failing.has(m.metric) || c?.test !== 'two-proportions' || c.canaryEvents === null || c.canaryTotal === null || !windowMs) continue;
    if (m.classification !== 'high' && m.classification !== 'low') continue;
    const events = Math.min(c.canaryEvents, c.canaryTotal);
    return { metric: m.metric, failed: m.classification === 'high' ? events : c.canaryTotal - events, total: c.canaryTotal, windowMs };
  }
  return undefined;
}
