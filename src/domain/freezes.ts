import { Cron } from 'croner';
import * as z from 'zod';
import type { Freeze, Urgency } from '../config/schema.js';
import type { ApprovalKind } from './approval.js';

/**
 * Freeze windows, free of I/O: the scheduled ones of `environments.<env>.freezes` (a cron start, evaluated in
 * UTC, and a duration) and the ad-hoc ones people start with `/release freeze`; which are in force at a time,
 * and what they allow. Rollbacks are always allowed: a freeze stops change, not the undoing of it.
 */

/** An ad-hoc freeze as stored; `endsAt` null: until someone unfreezes. */
export const adHocFreezeSchema = z.object({
  id: z.number().int(),
  environment: z.string(),
  reason: z.string(),
  by: z.string(),
  startedAt: z.date(),
  endsAt: z.date().nullable(),
  endedAt: z.date().nullable(),
  endedBy: z.string().nullable(),
});
export type AdHocFreeze = z.infer<typeof adHocFreezeSchema>;
export type NewAdHocFreeze = Omit<AdHocFreeze, 'id' | 'endedAt' | 'endedBy'>;

/** A freeze in force at some time, whatever its source. `end` null: until someone unfreezes. */
export interface FreezeInForce {
  environment: string;
  reason: string;
  start: Date;
  end: Date | null;
  source: { kind: 'schedule'; cron: string } | { kind: 'ad-hoc'; id: number; by: string };
}

/** What a plan records of a hotfix let through a freeze, for its card. */
export const duringFreezeSchema = z.object({ reason: z.string(), endsAt: z.string().nullable() });
export type DuringFreeze = z.infer<typeof duringFreezeSchema>;

/** How many back-to-back windows of one schedule are followed to find when a freeze really ends. */
const MAX_CHAINED_WINDOWS = 1000;

/** A schedule in UTC that only computes times: it never runs anything. */
const schedule = (expression: string): Cron => new Cron(expression, { timezone: 'UTC', paused: true });

/** Whether croner, which computes the windows, reads the expression as node-cron does (the config checks both). */
export function cronProblem(expression: string): string | undefined {
  try {
    schedule(expression);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/**
 * The window of a scheduled freeze in force at `at`, if any. Only the latest start at or before `at` matters:
 * every window of one schedule lasts the same, so an earlier one ends earlier. Windows that start before the
 * current one ends (an hourly cron with a two-hour duration) are one freeze: its end is the end of the last.
 */
export function scheduledWindow(freeze: Freeze, at: Date): { start: Date; end: Date } | undefined {
  const cron = schedule(freeze.cron);
  // The latest start at or before `at`: runs strictly before a millisecond later.
  const [start] = cron.previousRuns(1, new Date(at.getTime() + 1));
  if (!start) return undefined;
  let end = new Date(start.getTime() + freeze.duration);
  if (at.getTime() >= end.getTime()) return undefined;
  for (let i = 0; i < MAX_CHAINED_WINDOWS; i++) {
    const next = cron.nextRun(new Date(end.getTime() - freeze.duration));
    if (!next || next.getTime() > end.getTime()) break;
    end = new Date(next.getTime() + freeze.duration);
  }
  return { start, end };
}

/** Every freeze in force in `environment` at `at`: the scheduled windows, then the ad-hoc freezes not yet ended. */
export function freezesInForce(environment: string, scheduled: readonly Freeze[], adHoc: readonly AdHocFreeze[], at: Date): FreezeInForce[] {
  const windows = scheduled.flatMap((freeze): FreezeInForce[] => {
    const window = scheduledWindow(freeze, at);
    return window ? [{ environment, reason: freeze.reason, ...window, source: { kind: 'schedule', cron: freeze.cron } }] : [];
  });
  const started = adHoc
    .filter((f) => f.environment === environment && f.endedAt === null && f.startedAt.getTime() <= at.getTime() && (f.endsAt === null || at.getTime() < f.endsAt.getTime()))
    .map((f): FreezeInForce => ({ environment, reason: f.reason, start: f.startedAt, end: f.endsAt, source: { kind: 'ad-hoc', id: f.id, by: f.by } }));
  return [...windows, ...started];
}

/** The freeze that lasts longest (an open-ended one first): the one to name when saying when releases resume. */
export function longestFreeze(freezes: readonly FreezeInForce[]): FreezeInForce | undefined {
  const endOf = (f: FreezeInForce) => f.end?.getTime() ?? Number.POSITIVE_INFINITY;
  return freezes.reduce<FreezeInForce | undefined>((longest, f) => (longest === undefined || endOf(f) > endOf(longest) ? f : longest), undefined);
}

export type FreezeGate = { ok: true; duringFreeze?: DuringFreeze | undefined } | { ok: false; freeze: FreezeInForce };

/**
 * What a freeze allows: rollbacks always; critical and high hotfixes, marked as made during the freeze; nothing
 * else. With no freeze in force everything passes unmarked.
 */
export function freezeGate(kind: ApprovalKind, urgency: Urgency | undefined, inForce: readonly FreezeInForce[]): FreezeGate {
  const freeze = longestFreeze(inForce);
  if (!freeze || kind === 'rollback') return { ok: true };
  if (kind === 'hotfix' && (urgency === 'critical' || urgency === 'high')) {
    return { ok: true, duringFreeze: { reason: freeze.reason, endsAt: freeze.end?.toISOString() ?? null } };
  }
  return { ok: false, freeze };
}
