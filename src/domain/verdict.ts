import * as z from 'zod';

/**
 * The verdict of one canary analysis with all of its evidence: what the audit log stores, what Slack and
 * `lifeguard analyze --json` show. Plain JSON: non-finite numbers never appear (a ratio against a zero
 * baseline is `null` with the reason in words).
 */

export const CLASSIFICATIONS = ['pass', 'high', 'low', 'nodata', 'error'] as const;
export const classificationSchema = z.enum(CLASSIFICATIONS);
export type Classification = z.infer<typeof classificationSchema>;

export const ruleEvidenceSchema = z.object({
  rule: z.enum(['max', 'min', 'maxRatioToBaseline', 'minRatioToBaseline', 'maxSpreadRatioToBaseline', 'status']),
  threshold: z.union([z.number(), z.string()]),
  outcome: z.enum(['pass', 'breach', 'nodata']),
  /** How long the condition has held without a break up to the evaluation time (0: only now; null: not now). */
  breachingForMs: z.number().nullable(),
  /** How long it must hold to breach (`for`); 0 when the metric has no `for`. */
  forMs: z.number(),
  /** Why, in words: the values compared and, for relative rules, the test behind them. */
  detail: z.string(),
});
export type RuleEvidence = z.infer<typeof ruleEvidenceSchema>;

export const comparisonSchema = z.discriminatedUnion('test', [
  z.object({
    test: z.literal('mann-whitney'),
    outcome: z.enum(['significant', 'not-significant', 'nodata']),
    canarySamples: z.number(),
    baselineSamples: z.number(),
    minSamples: z.number(),
    u: z.number().nullable(),
    z: z.number().nullable(),
    pValue: z.number().nullable(),
    significance: z.number(),
    /** Hodges-Lehmann estimate of canary minus baseline, in the metric's unit. */
    shift: z.number().nullable(),
    canaryMedian: z.number().nullable(),
    baselineMedian: z.number().nullable(),
    /** Shifts within tolerance × |baseline median| are no difference. */
    tolerance: z.number(),
    /** Spread comparison, when the metric has maxSpreadRatioToBaseline. */
    spread: z
      .object({
        canary: z.number().nullable(),
        baseline: z.number().nullable(),
        /** canary / baseline spread; null when the baseline does not spread at all. */
        ratio: z.number().nullable(),
        z: z.number().nullable(),
        pValue: z.number().nullable(),
      })
      .nullable(),
  }),
  z.object({
    test: z.literal('two-proportions'),
    outcome: z.enum(['significant', 'not-significant', 'nodata']),
    /** Counts over the window ending at the evaluation time. */
    canaryEvents: z.number().nullable(),
    canaryTotal: z.number().nullable(),
    baselineEvents: z.number().nullable(),
    baselineTotal: z.number().nullable(),
    minSamples: z.number(),
    z: z.number().nullable(),
    pValue: z.number().nullable(),
    significance: z.number(),
    /** Canary share minus baseline share of events. */
    difference: z.number().nullable(),
    tolerance: z.number(),
  }),
]);
export type Comparison = z.infer<typeof comparisonSchema>;

export const metricEvidenceSchema = z.object({
  metric: z.string(),
  kind: z.enum(['prometheus', 'http']),
  critical: z.boolean(),
  weight: z.number(),
  classification: classificationSchema,
  /** One line a person reads first: why this classification. */
  reason: z.string(),
  /** Values at the evaluation time, per unit of traffic share when the metric is judged that way. */
  canary: z.number().nullable(),
  baseline: z.number().nullable(),
  /** canary / baseline; null when either is missing or the baseline is 0. */
  ratio: z.number().nullable(),
  /** Traffic shares (percent) the values were divided by, when the metric is judged per unit of share. */
  trafficShare: z.object({ canary: z.number(), baseline: z.number() }).nullable(),
  rules: z.array(ruleEvidenceSchema),
  comparison: comparisonSchema.nullable(),
  /** Exactly what was asked: PromQL (and the range) or the URL probed. */
  queries: z.array(z.object({ purpose: z.string(), query: z.string() })),
  range: z.object({ start: z.string(), end: z.string(), stepSeconds: z.number() }).nullable(),
  /** Warnings Prometheus attached to its answers. */
  warnings: z.array(z.string()),
});
export type MetricEvidence = z.infer<typeof metricEvidenceSchema>;

export const verdictSchema = z.object({
  service: z.string(),
  environment: z.string(),
  /** RFC 3339: the time every query was evaluated at. */
  evaluatedAt: z.string(),
  verdict: z.enum(['pass', 'fail', 'inconclusive']),
  /** Why, one line each: the failing or missing metrics with their values, or the score. */
  reasons: z.array(z.string()),
  /** Weighted percentage of the non-critical metrics that pass; null when there are none or one lacks data. */
  score: z.number().nullable(),
  scoreThresholds: z.object({ pass: z.number(), marginal: z.number() }),
  /** The canary's traffic share in percent, when known. */
  trafficShare: z.number().nullable(),
  metrics: z.array(metricEvidenceSchema),
});
export type Verdict = z.infer<typeof verdictSchema>;

