import { formatDuration } from '../config/duration.js';
import type { PrometheusMetric } from '../config/metric-schema.js';
import type { Config } from '../config/schema.js';
import type { Metrics, Probe, QueryRange } from '../ports.js';
import { judgePrometheusMetric, type PrometheusMetricData } from '../domain/judge.js';
import { singleSeries, type SeriesOutcome } from '../domain/query-outcome.js';
import { renderQuery, type Variant } from '../domain/promql-template.js';
import { rollUp } from '../domain/rollup.js';
import type { MetricEvidence, Verdict } from '../domain/verdict.js';
import { canaryTarget, metricEvaluationTime, metricRange, pool, probeHttpMetric, queryKeys, queryOf, type CanaryTarget, type QueryKey } from './canary-analysis.js';

/**
 * A Deployment judged against its own past rather than against a canary: a rolling update, the watch after a
 * promotion, the check after a rollback. The judge's "canary" side is the variant now and its "baseline" side
 * the same queries for the same variant before the change.
 */
export interface SelfAnalysisTarget extends Omit<CanaryTarget, 'trafficShare'> {
  /** The side judged, as `{{variant}}` spells it: `baseline` for the stable Deployment's pods. */
  variant: Variant;
  /**
   * When the change began; the past side ends here so it never includes the change. For the watch after a
   * promotion that is when the canary first took traffic, the last time the stable served all of it as before.
   */
  since: Date;
}

export interface SelfAnalysisOptions {
  /** Queries and probes in flight at once (default 8). */
  concurrency?: number;
}

/** Builds the target of `service` in `environment` from the config; throws a clear Error when unknown. */
export function selfAnalysisTarget(config: Config, service: string, environment: string, since: Date, variant: Variant = 'baseline'): SelfAnalysisTarget {
  const { metrics, score } = canaryTarget(config, service, environment, undefined);
  return { service, environment, metrics, score, variant, since };
}

/** The ranges one metric is compared over: the usual one ending now, and as long a one ending at `since`. */
interface Ranges {
  now: QueryRange;
  before: QueryRange;
  offsetMs: number;
}

function ranges(template: PrometheusMetric, at: Date, since: Date): Ranges {
  const now = metricRange(template, at);
  const offsetMs = now.end.getTime() - metricEvaluationTime(since);
  const back = (time: Date) => new Date(time.getTime() - offsetMs);
  return { now, before: { start: back(now.start), end: back(now.end), stepMs: now.stepMs }, offsetMs };
}

/** The past series moved forward by `offsetMs`: the judge pairs the two sides by timestamp, step by step. */
function shifted(outcome: SeriesOutcome, offsetMs: number): SeriesOutcome {
  if (outcome.kind !== 'series') return outcome;
  return { ...outcome, points: outcome.points.map(([t, v]): [number, number] => [t + offsetMs / 1000, v]) };
}

type Side = 'now' | 'before';
const SIDES: readonly Side[] = ['now', 'before'];

interface MetricJob {
  index: number;
  name: string;
  template: PrometheusMetric;
  ranges: Ranges;
  /** `${key}:${side}` → outcome, the past already shifted. */
  fetched: Map<string, SeriesOutcome>;
}

const span = (range: QueryRange) => `${range.start.toISOString()} to ${range.end.toISOString()}`;

function describedQueries(target: SelfAnalysisTarget, job: MetricJob) {
  const { template, ranges } = job;
  return queryKeys(template).flatMap((key) => {
    const query = renderQuery(queryOf(template, key), { service: target.service, variant: target.variant, windowMs: template.window });
    const count = key === 'value' ? '' : `${key} count, `;
    return [
      { purpose: `${count}canary: ${target.variant} now, ${span(ranges.now)}`, query },
      {
        purpose: `${count}baseline: same series before ${target.since.toISOString()}, ${span(ranges.before)}, moved ${formatDuration(ranges.offsetMs)} forward to line up with now`,
        query,
      },
    ];
  });
}

function judgeAgainstPast(target: SelfAnalysisTarget, job: MetricJob): MetricEvidence {
  const { name, template } = job;
  const get = (key: QueryKey, side: Side) => job.fetched.get(`${key}:${side}`)!;
  const data: PrometheusMetricData = {
    range: job.ranges.now,
    canary: get('value', 'now'),
    baseline: get('value', 'before'),
    ...(template.counts && {
      counts: { canaryEvents: get('events', 'now'), canaryTotal: get('total', 'now'), baselineEvents: get('events', 'before'), baselineTotal: get('total', 'before') },
    }),
    queries: describedQueries(target, job),
  };
  // Both sides are the whole service, so a metric judged per unit of traffic share compares the totals.
  const evidence = judgePrometheusMetric(name, { ...template, perTrafficShare: false }, data, { trafficShare: undefined });
  return template.perTrafficShare ? { ...evidence, trafficShare: { canary: 100, baseline: 100 } } : evidence;
}

function assertChangeBefore(target: SelfAnalysisTarget, at: Date): void {
  if (metricEvaluationTime(target.since) < metricEvaluationTime(at)) return;
  throw new RangeError(
    `${target.service}/${target.environment}: the change began at ${target.since.toISOString()}, not before the evaluation time ${at.toISOString()}; there is no past to compare with`,
  );
}

/**
 * Judges each target's variant as of `at` against the same variant before its change: every Prometheus metric
 * over its usual range ending at `at`, against the same queries over as long a range ending at `since`, and
 * every `http` check probed now. One verdict per target, in the order given, read like a canary's. Throws a
 * RangeError, before any query, when a target's `since` is not before `at`.
 */
export async function analyzeAgainstPast(
  deps: { metrics: Metrics; probe: Probe },
  targets: readonly SelfAnalysisTarget[],
  at: Date,
  options: SelfAnalysisOptions = {},
): Promise<Verdict[]> {
  for (const target of targets) assertChangeBefore(target, at);
  const concurrency = options.concurrency ?? 8;
  const evidence = targets.map(() => new Map<string, MetricEvidence>());

  const jobs: MetricJob[] = targets.flatMap((target, index) =>
    target.metrics.flatMap(({ name, template }) =>
      template.kind === 'prometheus' ? [{ index, name, template, ranges: ranges(template, at, target.since), fetched: new Map() }] : [],
    ),
  );
  const fetches = jobs.flatMap((job) => queryKeys(job.template).flatMap((key) => SIDES.map((side) => ({ job, key, side }))));
  const queries = pool(fetches, concurrency, async ({ job, key, side }) => {
    const { service, variant } = targets[job.index]!;
    const query = renderQuery(queryOf(job.template, key), { service, variant, windowMs: job.template.window });
    const outcome = singleSeries(await deps.metrics.range(query, job.ranges[side]));
    job.fetched.set(`${key}:${side}`, side === 'before' ? shifted(outcome, job.ranges.offsetMs) : outcome);
  });

  const httpChecks = targets.flatMap((target, index) =>
    target.metrics.flatMap(({ name, template }) => (template.kind === 'http' ? [{ index, name, template }] : [])),
  );
  const probes = pool(httpChecks, concurrency, async ({ index, name, template }) => {
    evidence[index]!.set(name, await probeHttpMetric(deps.probe, targets[index]!.service, name, template));
  });

  await Promise.all([queries, probes]);
  for (const job of jobs) evidence[job.index]!.set(job.name, judgeAgainstPast(targets[job.index]!, job));

  return targets.map((target, index) =>
    rollUp({
      service: target.service,
      environment: target.environment,
      evaluatedAt: new Date(metricEvaluationTime(at)),
      metrics: target.metrics.map(({ name }) => evidence[index]!.get(name)!),
      score: target.score,
      // The variant judged serves all of the service's traffic, now as before.
      trafficShare: 100,
    }),
  );
}

/** Judges a service's stable now against its own metrics from before `since` (the watch, and the check after a rollback). */
export function stableJudge(config: Config, metrics: Metrics, probe: Probe) {
  return async (service: string, environment: string, since: Date, at: Date): Promise<Verdict> => {
    const [verdict] = await analyzeAgainstPast({ metrics, probe }, [selfAnalysisTarget(config, service, environment, since)], at);
    return verdict!;
  };
}
