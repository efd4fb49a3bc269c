/**
 * What the flows need from the world. Adapters implement these; the domain never sees them.
 */

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
