import * as z from 'zod';
import type { Config, MetricTemplate } from '../config/schema.js';
import type { Operation } from './operation.js';
import type { ValueOutcome } from './query-outcome.js';

/**
 * The health summary a channel gets on a schedule, as data read at one instant: for each service and environment
 * what runs, its key metrics now against their absolute bounds, the latest canary verdict, the last release and
 * rollback, and the freezes in force. A part that could not be read carries why instead of its data, so the post
 * still goes and says what is missing. No Block Kit here: the chat adapter renders it, and splits it to fit.
 */

/** A part of the summary that was read, or why it could not be. */
const readPart = <T extends z.ZodRawShape>(shape: T) =>
  z.discriminatedUnion('ok', [z.object({ ok: z.literal(true), ...shape }), z.object({ ok: z.literal(false), why: z.string() })]);

export const METRIC_STATES = ['within', 'high', 'low', 'nodata', 'error', 'unbounded'] as const;

/** One key metric of the stable side (the baseline's pods, serving most traffic) now. */
export const metricNowSchema = z.object({
  metric: z.string(),
  /** Null when there is none (no data, or the query failed). */
  value: z.number().nullable(),
  /** The absolute bounds in words, e.g. "≤ 0.03"; empty when the metric only has bounds relative to a canary's baseline. */
  bounds: z.string(),
  /** `unbounded`: only judged against the baseline during a canary, so shown without a verdict. */
  state: z.enum(METRIC_STATES),
  /** Prometheus's error, for `error`. */
  detail: z.string().optional(),
});
export type MetricNow = z.infer<typeof metricNowSchema>;

/** An operation as the summary mentions it: what changed, how it stands, and when (RFC 3339). */
export const changeSchema = z.object({
  operationId: z.number().int(),
  kind: z.enum(['release', 'hotfix', 'rollback']),
  /** The version before and after: for a rollback, the version undone and the one restored. */
  fromVersion: z.string().optional(),
  toVersion: z.string().optional(),
  state: z.string(),
  at: z.string(),
});
export type Change = z.infer<typeof changeSchema>;

export const environmentHealthSchema = z.object({
  environment: z.string(),
  cluster: readPart({
    version: z.string(),
    revision: z.number().int(),
    /** The canary's share of traffic now, in percent (0: no canary live). */
    canaryWeight: z.number(),
  }),
  /** What the store knows: the operation under way, its latest verdict, the last release and rollback. */
  store: readPart({
    /** The release, hotfix or rollback under way, with its step (1-based) and share of traffic. */
    active: z.object({ operationId: z.number().int(), kind: z.enum(['release', 'hotfix', 'rollback']), step: z.number().int(), steps: z.number().int(), weight: z.number() }).nullable(),
    /** The latest analysis of the operation under way; null when it has none yet. */
    verdict: z.object({ verdict: z.enum(['pass', 'fail', 'inconclusive']), at: z.string(), reasons: z.array(z.string()) }).nullable(),
    lastRelease: changeSchema.nullable(),
    lastRollback: changeSchema.nullable(),
  }),
  metrics: readPart({ rows: z.array(metricNowSchema) }),
});
export type EnvironmentHealth = z.infer<typeof environmentHealthSchema>;

export const freezeNowSchema = z.object({ environment: z.string(), reason: z.string(), until: z.string().nullable() });

export const healthSummarySchema = z.object({
  channel: z.string(),
  /** The run's scheduled time (RFC 3339): every read is as of then, and ages are counted to it. */
  at: z.string(),
  /** 1-based; a summary over one message's limits is posted as several parts, in order. */
  part: z.object({ index: z.number().int().min(1), of: z.number().int().min(1) }),
  services: z.array(z.object({ service: z.string(), environments: z.array(environmentHealthSchema) })),
  /** Freezes in force in the environments shown. */
  freezes: readPart({ list: z.array(freezeNowSchema) }),
});
export type HealthSummary = z.infer<typeof healthSummarySchema>;

/** Which services a channel's summary covers, and when it is posted (cron, UTC). */
export interface SummarySchedule {
  channel: string;
  cron: string;
  services: string[];
}

/**
 * The summaries the config asks for. Without `slack.healthSummaries`, each service channel gets one for its own
 * services on `slack.healthSummaryCron`; an entry without `services` covers every service.
 */
export function summarySchedules(config: Pick<Config, 'slack' | 'services'>): SummarySchedule[] {
  const all = Object.keys(config.services);
  if (config.slack.healthSummaries) {
    return config.slack.healthSummaries.map((entry) => ({ channel: entry.channel, cron: entry.cron, services: entry.services ?? all }));
  }
  const byChannel = new Map<string, string[]>();
  for (const service of all) {
    const channel = config.services[service]!.channel;
    byChannel.set(channel, [...(byChannel.get(channel) ?? []), service]);
  }
  return [...byChannel].map(([channel, services]) => ({ channel, cron: config.slack.healthSummaryCron, services }));
}

/** The absolute bounds of a metric in words; relative bounds need a canary and are left to its analysis. */
export function boundsText(template: MetricTemplate): string {
  return [template.min !== undefined ? `≥ ${template.min}` : undefined, template.max !== undefined ? `≤ ${template.max}` : undefined].filter(Boolean).join(', ');
}

/** A metric's value now, classified against its absolute bounds. */
export function metricNow(metric: string, template: MetricTemplate, outcome: ValueOutcome): MetricNow {
  const bounds = boundsText(template);
  const row = (state: MetricNow['state'], value: number | null, detail?: string): MetricNow => ({ metric, value, bounds, state, ...(detail ? { detail } : {}) });
  switch (outcome.kind) {
    case 'value': {
      const { value } = outcome;
      if (template.max !== undefined && value > template.max) return row('high', value);
      if (template.min !== undefined && value < template.min) return row('low', value);
      return row(bounds ? 'within' : 'unbounded', value);
    }
    case 'nodata':
    case 'nonfinite':
      return row('nodata', null);
    case 'multiple':
      return row('error', null, `the query returned ${outcome.labels.length} series, not one`);
    case 'error':
    case 'unreachable':
    case 'timeout':
      return row('error', null, outcome.message);
  }
}

/** A release or hotfix as the summary mentions it: dated when it ended, or when it began while under way. */
export function releaseChange(op: Operation): Change {
  return { operationId: op.id, kind: op.kind, fromVersion: op.from.version, ...(op.to ? { toVersion: op.to.version } : {}), state: op.state, at: op.finishedAt ?? op.createdAt };
}

/** A rollback, dated when it was decided: a release rolled back undid its new version and restored the one before. */
export function rollbackChange(op: Operation): Change {
  const at = op.rollback?.decidedAt ?? op.createdAt;
  if (op.kind === 'rollback') return { operationId: op.id, kind: op.kind, fromVersion: op.from.version, ...(op.to ? { toVersion: op.to.version } : {}), state: op.state, at };
  return { operationId: op.id, kind: op.kind, ...(op.to ? { fromVersion: op.to.version } : {}), toVersion: op.from.version, state: op.state, at };
}

/** The operation under way, as far as the summary says: its step (1-based, 0 before the first) and share of traffic. */
export function activeOperation(op: Operation): NonNullable<Extract<EnvironmentHealth['store'], { ok: true }>['active']> {
  return { operationId: op.id, kind: op.kind, step: Math.max(0, op.step + 1), steps: op.steps.length, weight: op.weight };
}

/** A part missing from some environments of a summary, with why; the same reason is said once. */
export interface MissingPart {
  part: 'cluster' | 'store' | 'metrics';
  why: string;
  /** `service/environment` of each one it is missing from. */
  where: string[];
}

/** What could not be read, grouped by part and reason, in the order first met. */
export function missingParts(summary: Pick<HealthSummary, 'services' | 'freezes'>): MissingPart[] {
  const found = new Map<string, MissingPart>();
  const add = (part: MissingPart['part'], why: string, where: string) => {
    const key = `${part}\u0000${why}`;
    const entry = found.get(key) ?? { part, why, where: [] };
    entry.where.push(where);
    found.set(key, entry);
  };
  for (const { service, environments } of summary.services) {
    for (const env of environments) {
      for (const part of ['cluster', 'store', 'metrics'] as const) {
        const read = env[part];
        if (!read.ok) add(part, read.why, `${service}/${env.environment}`);
      }
    }
  }
  if (!summary.freezes.ok) add('store', summary.freezes.why, 'freezes');
  return [...found.values()];
}
