import * as z from 'zod';
import { URGENCIES, type ServiceEnvironment } from '../config/schema.js';
import type { ServiceState } from './cluster-state.js';
import { imageVersion } from './image.js';
import { rollbackTarget, rollbackTargetSchema } from './rollback-target.js';
import { duringFreezeSchema } from './freezes.js';
import { forcedPastHoldSchema } from './holds.js';

/**
 * What a request will do, computed once when it is opened and stored with it as domain data: its card is drawn
 * from this (never from a view model), and the release engine will execute it.
 */

/** The stable Deployment as it ran when the plan was made; null when the cluster could not be read. */
const runningSchema = z.object({ version: z.string(), image: z.string(), revision: z.number().int() }).nullable();

const subject = { service: z.string(), environment: z.string(), running: runningSchema };
const steps = {
  steps: z.array(z.number().int().min(1).max(100)),
  pauseForApprovalAt: z.array(z.number().int()),
  /** A step's length when the plan shortens it (a `high` hotfix); absent: the service's `stepDuration`. */
  stepDurationMs: z.number().int().positive().optional(),
};
/** What the release rules let through and the card shows (flows/release-rules.ts); optional, so older plans still read. */
const ruleMarks = { duringFreeze: duringFreezeSchema.optional(), forcedPastHold: forcedPastHoldSchema.optional() };

export const HOTFIX_PATHS = ['direct', 'fast-canary', 'canary'] as const;

export const planSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('release'), ...subject, version: z.string(), strategy: z.enum(['canary', 'rolling']), ...steps, ...ruleMarks }),
  z.object({
    kind: z.literal('rollback'),
    ...subject,
    reason: z.string(),
    /** `to=` as the requester gave it; absent: the previous revision. */
    requestedRevision: z.number().int().optional(),
    /** Where `kubectl rollout undo` would go, from the same read as `running`; null when the cluster could not be read. */
    target: rollbackTargetSchema.nullable(),
    canaryWeightNow: z.number().nullable(),
  }),
  z.object({
    kind: z.literal('hotfix'),
    ...subject,
    version: z.string(),
    urgency: z.enum(URGENCIES),
    reason: z.string(),
    path: z.enum(HOTFIX_PATHS),
    ...steps,
    ...ruleMarks,
  }),
]);
export type Plan = z.infer<typeof planSchema>;
export type ReleasePlan = Extract<Plan, { kind: 'release' }>;
export type RollbackRequestPlan = Extract<Plan, { kind: 'rollback' }>;
export type HotfixPlan = Extract<Plan, { kind: 'hotfix' }>;

/** The cluster as read for a plan: the state, or why it could not be read. */
export type ClusterRead = { ok: true; state: ServiceState } | { ok: false; why: string };

function running(read: ClusterRead): z.infer<typeof runningSchema> {
  if (!read.ok) return null;
  const { stable } = read.state;
  return { version: imageVersion(stable.image), image: stable.image, revision: stable.revision };
}

type Rollout = Pick<ServiceEnvironment, 'steps' | 'pauseForApprovalAt' | 'stepDuration'>;

export function planRelease(
  request: { service: string; environment: string; version: string; strategy: 'canary' | 'rolling' },
  settings: Rollout,
  read: ClusterRead,
): ReleasePlan {
  const rolling = request.strategy === 'rolling';
  return {
    kind: 'release',
    ...request,
    running: running(read),
    steps: rolling ? [100] : [...settings.steps],
    pauseForApprovalAt: rolling ? [] : [...settings.pauseForApprovalAt],
  };
}

export function planRollback(
  request: { service: string; environment: string; reason: string; toRevision?: number | undefined },
  settings: Pick<ServiceEnvironment, 'container'>,
  read: ClusterRead,
): RollbackRequestPlan {
  return {
    kind: 'rollback',
    service: request.service,
    environment: request.environment,
    reason: request.reason,
    ...(request.toRevision !== undefined ? { requestedRevision: request.toRevision } : {}),
    running: running(read),
    target: read.ok ? rollbackTarget(read.state, settings.container, request.toRevision) : null,
    canaryWeightNow: read.ok ? read.state.traffic.canary : null,
  };
}

/** How much shorter a `high` hotfix's canary steps are than the service's. */
const FAST_CANARY_PACE = 5;

/**
 * How a hotfix rolls out by urgency (DESIGN §1, issue #11): critical updates the stable directly and is watched by
 * analysis; high is a fast canary, 50 % then 100 %, each step a fifth of `stepDuration`, with no promote pause;
 * medium and low follow the environment's normal canary with its pauses.
 */
export function planHotfix(
  request: { service: string; environment: string; version: string; urgency: (typeof URGENCIES)[number]; reason: string },
  settings: Rollout,
  read: ClusterRead,
): HotfixPlan {
  const base = { kind: 'hotfix' as const, ...request, running: running(read) };
  if (request.urgency === 'critical') return { ...base, path: 'direct', steps: [100], pauseForApprovalAt: [] };
  if (request.urgency === 'high') {
    return { ...base, path: 'fast-canary', steps: [50, 100], pauseForApprovalAt: [], stepDurationMs: Math.max(1, Math.round(settings.stepDuration / FAST_CANARY_PACE)) };
  }
  return { ...base, path: 'canary', steps: [...settings.steps], pauseForApprovalAt: [...settings.pauseForApprovalAt] };
}
