/**
 * What the flows need from the world. Adapters implement these; the domain never sees them.
 */
import type { MatrixOutcome, VectorOutcome } from './domain/query-outcome.js';

/** Time, injectable so that ticks, expiries and cooldowns are deterministic in tests. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** One decision or action to write to the tamper-evident audit log. */
export interface AuditEntry {
  /** Slack user id, `cli:<name>` or `lifeguard`. */
  actor: string;
  action: string;
  /** e.g. `checkout/production`. */
  subject: string;
  /** JSON-serialisable evidence: values, thresholds, verdicts behind the decision. */
  detail: Record<string, unknown>;
}

export interface AuditLog {
  append(entry: AuditEntry): AuditRecord;
}

export interface AuditRecord extends AuditEntry {
  id: number;
  at: string;
  prevHash: string;
  hash: string;
}

/** The time span and resolution of a range query. */
export interface QueryRange {
  start: Date;
  end: Date;
  /** Milliseconds between evaluation steps. */
  stepMs: number;
}

/**
 * PromQL queries against the metrics backend. Never throws for a failed query: every answer, including an
 * unreachable server or a timeout, comes back as an outcome the judge can classify.
 */
export interface Metrics {
  /** Instant query evaluated at `at`. */
  instant(query: string, at: Date): Promise<VectorOutcome>;
  /** Range query from `range.start` to `range.end` every `range.stepMs`. */
  range(query: string, range: QueryRange): Promise<MatrixOutcome>;
}
