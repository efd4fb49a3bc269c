import * as z from 'zod';
import type { Operation } from './operation.js';

/**
 * Holds on known-bad versions, free of I/O: a version that was rolled back is held for its service and
 * environment, so that nobody releases it again without saying so (`force=true`) or lifting the hold.
 */

export const versionHoldSchema = z.object({
  service: z.string(),
  environment: z.string(),
  version: z.string(),
  /** The operation whose rollback put the hold. */
  operationId: z.number().int(),
  /** The rollback's why. */
  reason: z.string(),
  createdAt: z.date(),
  liftedAt: z.date().nullable(),
  liftedBy: z.string().nullable(),
});
export type VersionHold = z.infer<typeof versionHoldSchema>;
export type NewVersionHold = Omit<VersionHold, 'liftedAt' | 'liftedBy'>;

/** What a plan records of a release let past a hold, for its card and the audit log. */
export const forcedPastHoldSchema = z.object({ operationId: z.number().int(), reason: z.string(), by: z.string() });
export type ForcedPastHold = z.infer<typeof forcedPastHoldSchema>;

/**
 * The hold to record when an operation starts rolling back (`before` undefined: it was recorded rolling back,
 * as a requested rollback is), if any. An abort is a person stopping a release,
 * not a verdict on the version, so it holds nothing. A release or hotfix holds the version it brought; a
 * requested rollback holds the version it takes away; a drain of a canary Lifeguard did not start knows no
 * version of its own, so it holds nothing.
 */
export function holdFor(before: Operation | undefined, after: Operation): NewVersionHold | undefined {
  if (before?.state === 'rolling-back' || after.state !== 'rolling-back' || !after.rollback) return undefined;
  if (after.rollback.trigger === 'abort') return undefined;
  const version = after.kind === 'rollback' ? (after.rollback.trigger === 'manual' ? after.from.version : undefined) : after.to?.version;
  // A rollback that keeps the version (only the rest of the pod template changes) must not hold what now runs.
  if (version === undefined || (after.kind === 'rollback' && after.to?.version === version)) return undefined;
  return {
    service: after.service,
    environment: after.environment,
    version,
    operationId: after.id,
    reason: after.rollback.why,
    createdAt: new Date(after.rollback.decidedAt),
  };
}
