import * as z from 'zod';
import type { Evidence } from './cluster-state.js';
import { failingMetricSchema, ROLLBACK_TRIGGERS, type Operation } from './operation.js';

/**
 * What Lifeguard keeps of the cluster at a rollback decision (issue #12, "Evidence kept"): the operation and the
 * verdict's failing metrics, both Deployments as they were, the Events of the Deployments and their pods, and the
 * canary's pod logs. Stored once per operation; `evidence-bound.ts` cuts it to the configured size first.
 */

export const podLogSchema = z.object({
  pod: z.string(),
  container: z.string(),
  /** The most recent lines, oldest first. */
  lines: z.array(z.string()),
  /** Why the log could not be read, when it could not. */
  error: z.string().optional(),
  /** Bytes of older log text cut to keep the evidence within its bound. */
  cutBytes: z.number().int().nonnegative().default(0),
});
export type KeptPodLog = z.infer<typeof podLogSchema>;

export const clusterEventSchema = z.object({
  at: z.string(),
  type: z.string(),
  reason: z.string(),
  message: z.string(),
  object: z.string(),
  count: z.number(),
});

export const keptEvidenceSchema = z.object({
  operationId: z.number().int(),
  kind: z.enum(['release', 'hotfix', 'rollback']),
  service: z.string(),
  environment: z.string(),
  from: z.object({ version: z.string(), image: z.string() }),
  to: z.object({ version: z.string(), image: z.string() }).nullable(),
  trigger: z.enum(ROLLBACK_TRIGGERS),
  by: z.string(),
  why: z.string(),
  decidedAt: z.string(),
  /** The canary's traffic share when the rollback was decided. */
  weightReached: z.number(),
  failing: z.array(failingMetricSchema),
  collectedAt: z.string(),
  /** The Deployment objects as the API server returned them (without managedFields and kubectl's last-applied copy). */
  deployments: z.object({ stable: z.record(z.string(), z.unknown()), canary: z.record(z.string(), z.unknown()) }),
  events: z.array(clusterEventSchema),
  logs: z.array(podLogSchema),
  bound: z.object({
    maxBytes: z.number().int().positive(),
    /** Bytes of log text cut, over all logs. */
    cutBytes: z.number().int().nonnegative(),
    /** The oldest Events cut once no log text was left to cut. */
    eventsCut: z.number().int().nonnegative(),
    /** The Deployments were kept as their summaries only (the last resort of the bound). */
    deploymentsSummarised: z.boolean(),
  }),
});
export type KeptEvidence = z.infer<typeof keptEvidenceSchema>;

/** Env names whose literal values are credentials more often than not: kept by name only. */
const SECRET_NAME = /(token|secret|pass(word|wd)?|pwd|key|credential|auth|dsn|cert)/i;
const REDACTED = '[redacted]';

/**
 * A Deployment as it is worth keeping: a plain copy without managedFields (noise, as `kubectl get` hides it),
 * without the last-applied annotation (a second copy of the spec, literal env values included), and with the
 * literal values of secret-named env variables replaced, since the evidence is read long after by anyone with
 * the database.
 */
function keptDeployment(raw: unknown): Record<string, unknown> {
  return JSON.parse(JSON.stringify(raw ?? {}), (key, value: unknown) => {
    if (key === 'managedFields') return undefined;
    if (key === 'kubectl.kubernetes.io/last-applied-configuration') return undefined;
    if (isSecretEnv(value)) return { ...value, value: REDACTED };
    return value;
  }) as Record<string, unknown>;
}

function isSecretEnv(value: unknown): value is { name: string; value: string } {
  if (typeof value !== 'object' || value === null) return false;
  const env = value as { name?: unknown; value?: unknown };
  return typeof env.name === 'string' && typeof env.value === 'string' && SECRET_NAME.test(env.name);
}

/** The evidence record of a rollback decision, before the bound: `op` must be rolling back (it has `rollback`). */
export function keptEvidence(op: Operation, gathered: Evidence, maxBytes: number): KeptEvidence {
  const rollback = op.rollback;
  if (!rollback) throw new Error(`operation ${op.id} has no rollback decision to keep evidence of`);
  return {
    operationId: op.id,
    kind: op.kind,
    service: op.service,
    environment: op.environment,
    from: { version: op.from.version, image: op.from.image },
    to: op.to && { version: op.to.version, image: op.to.image },
    trigger: rollback.trigger,
    by: rollback.by,
    why: rollback.why,
    decidedAt: rollback.decidedAt,
    weightReached: rollback.weightReached,
    failing: rollback.failing,
    collectedAt: gathered.collectedAt,
    deployments: { stable: keptDeployment(gathered.deployments.stable), canary: keptDeployment(gathered.deployments.canary) },
    events: gathered.events,
    logs: gathered.logs.map((log) => ({ ...log, cutBytes: 0 })),
    bound: { maxBytes, cutBytes: 0, eventsCut: 0, deploymentsSummarised: false },
  };
}

const deploymentSummarySchema = z.looseObject({
  metadata: z.looseObject({ name: z.string().optional(), namespace: z.string().optional(), annotations: z.record(z.string(), z.string()).optional() }).optional(),
  spec: z
    .looseObject({
      replicas: z.number().optional(),
      template: z.looseObject({ spec: z.looseObject({ containers: z.array(z.looseObject({ name: z.string(), image: z.string().optional() })).optional() }).optional() }).optional(),
    })
    .optional(),
  status: z
    .looseObject({
      replicas: z.number().optional(),
      updatedReplicas: z.number().optional(),
      readyReplicas: z.number().optional(),
      availableReplicas: z.number().optional(),
      conditions: z.array(z.looseObject({ type: z.string(), status: z.string(), reason: z.string().optional(), message: z.string().optional() })).optional(),
    })
    .optional(),
});

/** What a person reads first of a Deployment: images, replicas, revision and conditions. */
export interface DeploymentSummary {
  name: string;
  revision: string | undefined;
  images: Record<string, string>;
  replicas: { desired: number; current: number; updated: number; ready: number; available: number };
  conditions: { type: string; status: string; reason?: string | undefined; message?: string | undefined }[];
}

/** The summary of a kept Deployment; a shape it does not recognise gives an empty summary rather than an error. */
export function summariseDeployment(raw: Record<string, unknown>): DeploymentSummary {
  const parsed = deploymentSummarySchema.safeParse(raw);
  const d = parsed.success ? parsed.data : {};
  const status = d.status ?? {};
  return {
    name: d.metadata?.name ?? '?',
    revision: d.metadata?.annotations?.['deployment.kubernetes.io/revision'],
    images: Object.fromEntries((d.spec?.template?.spec?.containers ?? []).map((c) => [c.name, c.image ?? '?'])),
    replicas: {
      desired: d.spec?.replicas ?? 1,
      current: status.replicas ?? 0,
      updated: status.updatedReplicas ?? 0,
      ready: status.readyReplicas ?? 0,
      available: status.availableReplicas ?? 0,
    },
    conditions: (status.conditions ?? []).map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message })),
  };
}

/** A Deployment cut to what its summary reads (the bound's last resort): still a Deployment in shape. */
export function trimmedDeployment(raw: Record<string, unknown>): Record<string, unknown> {
  const s = summariseDeployment(raw);
  return {
    metadata: { name: s.name, ...(s.revision !== undefined ? { annotations: { 'deployment.kubernetes.io/revision': s.revision } } : {}) },
    spec: { replicas: s.replicas.desired, template: { spec: { containers: Object.entries(s.images).map(([name, image]) => ({ name, image })) } } },
    status: {
      replicas: s.replicas.current,
      updatedReplicas: s.replicas.updated,
      readyReplicas: s.replicas.ready,
      availableReplicas: s.replicas.available,
      conditions: s.conditions,
    },
  };
}

/** How the text says that the bound cut something. */
export function cutNote(what: string, maxBytes: number): string {
  return `… ${what} cut (evidence bound ${maxBytes} bytes)`;
}

/** The evidence in a few lines, for a post-mortem draft: what was kept, the warnings among the Events, the cuts. */
export function evidenceSummary(kept: KeptEvidence): string[] {
  const warnings = kept.events.filter((e) => e.type === 'Warning');
  const reasons = [...new Set(warnings.map((e) => `${e.reason} (${e.object})`))].slice(0, 5);
  const logLines = kept.logs.reduce((n, log) => n + log.lines.length, 0);
  const unread = kept.logs.filter((log) => log.error !== undefined).length;
  return [
    `Gathered at ${kept.collectedAt} (decision at ${kept.decidedAt}); \`lifeguard evidence ${kept.operationId}\` prints it all.`,
    `${kept.logs.length} canary container log(s), ${logLines} line(s)${unread ? `, ${unread} unreadable` : ''}.`,
    `${kept.events.length} Event(s), ${warnings.length} of them warnings${reasons.length ? `: ${reasons.join(', ')}` : ''}.`,
    ...(kept.bound.cutBytes > 0 ? [`Cut to the evidence bound of ${kept.bound.maxBytes} bytes (${kept.bound.cutBytes} bytes left out).`] : []),
  ];
}
