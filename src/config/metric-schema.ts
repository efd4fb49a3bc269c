import * as z from 'zod';
import { durationSchema } from './duration-schema.js';

const PLACEHOLDERS = ['service', 'variant', 'window'] as const;

const placeholders = (allowed: readonly string[]) => (text: string, ctx: z.RefinementCtx) => {
  for (const match of text.matchAll(/\{\{\s*([^}]*?)\s*\}\}/g)) {
    if (!allowed.includes(match[1] ?? '')) {
      ctx.addIssue({ code: 'custom', message: `unknown placeholder {{${match[1]}}} (known: ${allowed.map((p) => `{{${p}}}`).join(', ')})` });
    }
  }
};

const promql = z
  .string()
  .min(1)
  .superRefine(placeholders(PLACEHOLDERS))
  .superRefine((query, ctx) => {
    if (!query.includes('{{variant}}')) {
      ctx.addIssue({ code: 'custom', message: 'the query must select the side with {{variant}} so canary and baseline can be compared' });
    }
  });

function isHttpUrl(template: string): boolean {
  try {
    return /^https?:$/.test(new URL(template.replaceAll(/\{\{\s*service\s*\}\}/g, 'service')).protocol);
  } catch {
    return false;
  }
}

const bounds = {
  max: z.number().optional(),
  min: z.number().optional(),
  critical: z.boolean().default(false),
  /** Share of this metric in the score of the non-critical metrics. */
  weight: z.number().positive().default(1),
};

/** A metric read from Prometheus, compared between canary and baseline. */
const prometheusMetricSchema = z
  .object({
    kind: z.literal('prometheus'),
    query: promql,
    window: durationSchema.prefault('5m'),
    ...bounds,
    maxRatioToBaseline: z.number().positive().optional(),
    minRatioToBaseline: z.number().positive().optional(),
    /**
     * Fails a canary whose samples spread more than this many times as wide as the baseline's (median absolute
     * deviation, significant by a rank test), even when its median did not move. A canary on a small traffic
     * share is naturally noisier: leave room for that.
     */
    maxSpreadRatioToBaseline: z.number().gt(1).optional(),
    for: durationSchema.optional(),
    /** Judge the value per unit of the traffic share each side is given (throughput). */
    perTrafficShare: z.boolean().default(false),
    /**
     * Resolution of the range queries: how often `for` is evaluated and how far apart compared samples are.
     * The usual scrape interval: finer steps only repeat the same scrapes and cost Prometheus time.
     */
    step: durationSchema.prefault('15s'),
    /**
     * Event counts behind a ratio metric (errors out of requests over {{window}}). When given, a bound relative
     * to the baseline breaches only when a two-proportion test on these counts finds the difference significant.
     */
    counts: z.object({ events: promql, total: promql }).strict().optional(),
    /**
     * Fewer samples than this leaves the comparison without data: steps compared by Mann-Whitney (the range is
     * lengthened to hold this many), or requests on each side for `counts`.
     */
    minSamples: z.number().int().min(2).default(50),
    /** A relative bound breaches only when the canary and baseline differ at this significance level. */
    significance: z.number().gt(0).lt(1).default(0.05),
    /** A shift (Hodges-Lehmann) within this fraction of the baseline's median is no difference. */
    tolerance: z.number().min(0).default(0.1),
  })
  .strict()
  .refine((m) => m.max === undefined || m.min === undefined || m.min <= m.max, { message: 'min must not be above max', path: ['min'] })
  .refine((m) => [m.max, m.min, m.maxRatioToBaseline, m.minRatioToBaseline, m.maxSpreadRatioToBaseline].some((bound) => bound !== undefined), {
    message: 'a metric needs at least one bound: max, min, maxRatioToBaseline, minRatioToBaseline or maxSpreadRatioToBaseline',
  })
  .refine((m) => m.maxSpreadRatioToBaseline === undefined || m.counts === undefined, {
    message: 'maxSpreadRatioToBaseline compares samples; it does not apply to a metric judged on counts',
    path: ['maxSpreadRatioToBaseline'],
  })
  .refine((m) => m.for === undefined || m.for % m.step === 0, { message: 'for must be a whole number of steps (step defaults to 15s)', path: ['for'] });

/** A synthetic or dependency check: GET a URL, judge its status and latency (seconds, against `max`). */
const httpMetricSchema = z
  .object({
    kind: z.literal('http'),
    url: z
      .string()
      .superRefine(placeholders(['service']))
      .refine(isHttpUrl, {
        message: 'must be an http(s) URL ({{service}} may stand for the service name)',
      }),
    /** Statuses that count as healthy; any 2xx when omitted. */
    expectStatus: z.array(z.number().int().min(100).max(599)).min(1).optional(),
    timeout: durationSchema.prefault('5s'),
    ...bounds,
  })
  .strict()
  .refine((m) => m.max === undefined || m.min === undefined || m.min <= m.max, { message: 'min must not be above max', path: ['min'] });

/** A reusable metric: how to measure it and the rules a canary is judged by. `kind` defaults to prometheus. */
export const metricTemplateSchema = z.preprocess(
  (raw) => (raw !== null && typeof raw === 'object' && !('kind' in raw) ? { ...raw, kind: 'prometheus' } : raw),
  z.discriminatedUnion('kind', [prometheusMetricSchema, httpMetricSchema]),
);

export type PrometheusMetric = z.infer<typeof prometheusMetricSchema>;
export type HttpMetric = z.infer<typeof httpMetricSchema>;
