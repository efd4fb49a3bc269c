import * as z from 'zod';
import { ROLLBACK_TRIGGERS, OPERATION_STATES, type Operation } from './operation.js';

/**
 * One line of a service's history, from its operation: what `lifeguard history` and `/release history` list.
 * A release rolled back automatically is one line (the release, with its rollback), as it is one operation.
 */
export const historyEntrySchema = z.object({
  id: z.number().int(),
  kind: z.enum(['release', 'hotfix', 'rollback']),
  environment: z.string(),
  from: z.string(),
  /** The version released or rolled back to; null for the drain of a canary Lifeguard did not start. */
  to: z.string().nullable(),
  state: z.enum(OPERATION_STATES),
  /** How it ended, in words (the engine's), or where it stands while it runs. */
  outcome: z.string(),
  requestedBy: z.string(),
  approvedBy: z.array(z.string()),
  /** Why it rolled back, who decided and the canary's share then; null when it never rolled back. */
  rollback: z.object({ trigger: z.enum(ROLLBACK_TRIGGERS), by: z.string(), weightReached: z.number() }).nullable(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
  /** created → finished; null while it runs. */
  durationMs: z.number().nullable(),
});
export type HistoryEntry = z.infer<typeof historyEntrySchema>;

/** Escalations keep a rollback record while paused; only a rollback that ran (or runs) is one. */
const rolledBack = (op: Operation) => op.rollback !== null && ['rolling-back', 'rolled-back', 'aborted', 'failed'].includes(op.state) && op.preemptedBy === null;

export function historyEntry(op: Operation): HistoryEntry {
  return {
    id: op.id,
    kind: op.kind,
    environment: op.environment,
    from: op.from.version,
    to: op.to?.version ?? null,
    state: op.state,
    outcome: op.outcome ?? op.state,
    requestedBy: op.requestedBy,
    approvedBy: op.approvedBy,
    rollback: rolledBack(op) ? { trigger: op.rollback!.trigger, by: op.rollback!.by, weightReached: op.rollback!.weightReached } : null,
    createdAt: op.createdAt,
    finishedAt: op.finishedAt,
    durationMs: op.finishedAt ? Date.parse(op.finishedAt) - Date.parse(op.createdAt) : null,
  };
}
