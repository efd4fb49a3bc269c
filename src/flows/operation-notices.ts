import type { Message, Operation, VerdictEvent } from '../domain/operation.js';
import type { Verdict } from '../domain/verdict.js';

/**
 * What people are told when an operation moves: its card redrawn, notes in its thread, the incident post.
 * Called inside the transition's transaction, so a message commits with the state that caused it.
 */
export interface OperationNotices {
  write(op: Operation, messages: readonly Message[], verdict?: VerdictEvent): void;
  /** A failing canary Lifeguard did not start, reported only (`unmanagedCanaries: notify`). */
  unmanaged(verdict: Verdict, weight: number): void;
}
