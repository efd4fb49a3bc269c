// By name, so that the CLI's bundle (scripts/build-cli-front.ts) keeps the validator alone, not node-cron's scheduler.
import { validate as isCronExpression } from 'node-cron';
import * as z from 'zod';
import { byteSizeSchema } from './byte-size-schema.js';
import { durationSchema } from './duration-schema.js';
import { metricTemplateSchema } from './metric-schema.js';
import { checkCrossReferences } from './cross-references.js';
import { cronProblem } from '../domain/freezes.js';

const name = z.string().regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'must be lower-case letters, digits and dashes');
const channel = z.string().regex(/^(#[a-z0-9_-]+|[CG][A-Z0-9]+)$/, 'must be a #channel-name or a channel id such as C0123ABCD');
const roleMember = z
  .string()
  .regex(/^([UW][A-Z0-9]{2,}|@[A-Za-z0-9._-]+)$/, 'must be a Slack user id (U…) or an @usergroup handle');

const approvalRuleSchema = z
  .object({
    roles: z.array(name).default([]),
    count: z.number().int().min(0),
  })
  .strict()
  .refine((rule) => rule.count === 0 || rule.roles.length > 0, {
    message: 'an approval count above 0 needs at least one role that may approve',
    path: ['roles'],
  });
export type ApprovalRule = z.infer<typeof approvalRuleSchema>;

const cronExpression = z.string().superRefine((text, ctx) => {
  if (!isCronExpression(text)) {
    ctx.addIssue({ code: 'custom', message: `not a cron expression: "${text}" (five fields: minute hour day-of-month month day-of-week, e.g. "0 18 * * 5")` });
  }
});

const freezeSchema = z
  .object({
    // Freeze windows are computed with croner (in UTC): it must read the expression too.
    cron: cronExpression.superRefine((text, ctx) => {
      const problem = isCronExpression(text) ? cronProblem(text) : undefined;
      if (problem) ctx.addIssue({ code: 'custom', message: `cannot compute freeze windows from "${text}": ${problem}` });
    }),
    duration: durationSchema,
    reason: z.string().min(1),
  })
  .strict();
export type Freeze = z.infer<typeof freezeSchema>;

const environmentSchema = z
  .object({
    cluster: name,
    approvals: z
      .object({
        release: approvalRuleSchema.default({ roles: [], count: 0 }),
        rollback: approvalRuleSchema.default({ roles: [], count: 0 }),
      })
      .strict()
      .default({ release: { roles: [], count: 0 }, rollback: { roles: [], count: 0 } }),
    freezes: z.array(freezeSchema).default([]),
    rollbackCooldown: durationSchema.prefault('10m'),
    /** How long a rollback retries a cluster that answers 5xx, times out or cannot be read before it ends failed and escalates. */
    rollbackRetryTimeout: durationSchema.prefault('2m'),
  })
  .strict();
export type Environment = z.infer<typeof environmentSchema>;

const trafficSchema = z.union([
  z.object({ istio: z.object({ virtualService: name, route: z.string().optional() }).strict() }).strict(),
  z.object({ gatewayApi: z.object({ httpRoute: name }).strict() }).strict(),
  z.object({ replicas: z.object({}).strict() }).strict(),
], { error: 'must be one of { istio: { virtualService } }, { gatewayApi: { httpRoute } } or { replicas: {} }' });
export type Traffic = z.infer<typeof trafficSchema>;

const analysisSchema = z
  .object({
    interval: durationSchema,
    metrics: z.array(name).min(1, 'name at least one metric'),
    score: z
      .object({ pass: z.number().min(0).max(100), marginal: z.number().min(0).max(100) })
      .strict()
      .refine((s) => s.marginal <= s.pass, { message: 'marginal must not be above pass' })
      .default({ pass: 80, marginal: 60 }),
    maxInconclusive: z.number().int().min(1).default(3),
  })
  .strict();

const serviceEnvironmentSchema = z
  .object({
    namespace: name,
    stable: name,
    canary: name,
    container: name,
    traffic: trafficSchema,
    steps: z.array(z.number().int().min(1).max(100)).min(1),
    stepDuration: durationSchema,
    pauseForApprovalAt: z.array(z.number().int().min(1).max(100)).default([]),
    /** How long a promoted release (or a rolling update) is judged against its own past; default the sum of step durations. */
    watch: durationSchema.optional(),
    /** Replicas of the canary during its steps; default the stable's count. */
    canaryReplicas: z.number().int().min(1).optional(),
    analysis: analysisSchema,
  })
  .strict();
export type ServiceEnvironment = z.infer<typeof serviceEnvironmentSchema>;

const serviceSchema = z
  .object({
    channel,
    environments: z.record(name, serviceEnvironmentSchema),
  })
  .strict();
export type Service = z.infer<typeof serviceSchema>;

export const URGENCIES = ['critical', 'high', 'medium', 'low'] as const;
export type Urgency = (typeof URGENCIES)[number];

export const configSchema = z
  .object({
    slack: z
      .object({
        releaseChannel: channel,
        incidentChannel: channel,
        approvalTtl: durationSchema.prefault('4h'),
        /** The cron (UTC) of the default health summaries: used when `healthSummaries` is absent. */
        healthSummaryCron: cronExpression.default('0 9 * * *'),
        /** Health summaries: each a channel, a cron (UTC) and the services it covers (default every service). */
        healthSummaries: z
          .array(z.object({ channel, cron: cronExpression, services: z.array(name).min(1, 'list at least one service, or leave services out for all').optional() }).strict())
          .optional(),
      })
      .strict(),
    prometheus: z
      .object({
        url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
        timeout: durationSchema.prefault('5s'),
        /** Queries in flight at once; a tick of a thousand services waits its turn instead of opening a thousand connections. */
        concurrency: z.int().min(1).max(256).default(16),
      })
      .strict(),
    clusters: z.record(
      name,
      z
        .object({
          context: z.string().min(1).optional(),
          /**
           * `lifeguard start` keeps watched copies of what it reads; false reads the API server at every tick instead,
           * for a proxy in front of the API server that cuts long-lived watch connections.
           */
          watch: z.boolean().default(true),
          /** Requests in flight at once to this API server. */
          concurrency: z.int().min(1).max(256).default(16),
          /** Sustained requests per second and the burst allowed after a quiet spell, as client-go's QPS and Burst. */
          qps: z.number().positive().max(10_000).default(20),
          burst: z.int().min(1).max(10_000).default(40),
        })
        .strict(),
    ),
    roles: z.record(name, z.array(roleMember).min(1, 'list at least one member')),
    environments: z.record(name, environmentSchema),
    hotfix: z
      .object({
        approvers: z.object(Object.fromEntries(URGENCIES.map((u) => [u, z.array(name)])) as Record<Urgency, z.ZodArray<typeof name>>).strict(),
      })
      .strict(),
    metrics: z.record(name, metricTemplateSchema),
    services: z.record(name, serviceSchema),
    /** A failing canary serving traffic that Lifeguard did not start: drained and rolled back, or only reported. */
    unmanagedCanaries: z.enum(['rollback', 'notify']).default('rollback'),
    /**
     * What a rollback decision keeps (pod logs, Events, Deployments) is cut to this size per operation. At least
     * 64 KiB, so that the operation, its failing metrics and the Deployments' summaries always fit.
     */
    evidence: z
      .object({ maxBytes: byteSizeSchema({ min: 64 * 1024, max: 64 * 1024 ** 2 }).prefault('1MiB') })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine(checkCrossReferences);

export type Config = z.infer<typeof configSchema>;
export type MetricTemplate = Config['metrics'][string];
