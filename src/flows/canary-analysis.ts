import type { Config, MetricTemplate } from '../config/schema.js';
import type { HttpMetric, PrometheusMetric } from '../config/metric-schema.js';
import type { Metrics, Probe, QueryRange } from '../ports.js';
import { judgeHttpMetric, judgePrometheusMetric, type PrometheusMetricData } from '../domain/judge.js';
import { singleSeries, type MatrixOutcome, type Series, type SeriesOutcome } from '../domain/query-outcome.js';
import { grouping, renderGroupedQuery, renderQuery, VARIANTS, type Variant } from '../domain/promql-template.js';
import { rollUp } from '../domain/rollup.js';
import type { MetricEvidence, Verdict } from '../domain/verdict.js';

/** One canary to judge: its service and environment, the metrics it is judged by, and its traffic share. */
export interface CanaryTarget {
  service: string;
  environment: string;
  metrics: { name: string; template: MetricTemplate }[];
  score: { pass: number; marginal: number };
  /** Percent of traffic the canary receives; undefined when unknown (metrics judged per share are then nodata). */
  trafficShare: number | undefined;
}

/**
 * Where the canary's traffic share comes from when not given: (service, environment) → percent, or undefined
 * when unknown. The loaded config is passed along for readers that need the service's traffic settings.
 */
export type TrafficShareSource = (service: string, environment: string, config: Config) => Promise<number | undefined>;

export interface AnalysisOptions {
  /** Fetch a template shared by several canaries in one query grouped by service and side (default true). */
  grouped?: boolean;
  /** Queries and probes in flight at once (default 8). */
  concurrency?: number;
  /**
   * Most services in one grouped query (default 250). Prometheus evaluates one query on one core: several
   * smaller groups in flight at once use every core and keep each query's text bounded.
   */
  groupSize?: number;
}

/** Builds the analysis target of `service` in `environment` from the config; throws a clear Error when unknown. */
export function canaryTarget(config: Config, service: string, environment: string, trafficShare: number | undefined): CanaryTarget {
  const svc = config.services[service];
  if (!svc) throw new Error(`unknown service "${service}" (known: ${Object.keys(config.services).join(', ') || 'none'})`);
  const plan = svc.environments[environment];
  if (!plan) throw new Error(`service "${service}" has no environment "${environment}" (known: ${Object.keys(svc.environments).join(', ') || 'none'})`);
  return {
    service,
    environment,
    // Config validation guarantees every listed metric exists.
    metrics: plan.analysis.metrics.map((name) => ({ name, template: config.metrics[name]! })),
    score: plan.analysis.score,
    trafficShare,
  };
}

/**
 * The range a Prometheus metric is fetched over at `at`, at its step: its `for` or its window, whichever is
 * longer, and for a Mann-Whitney comparison long enough to hold `minSamples` steps.
 */
export function metricRange(template: PrometheusMetric, at: Date): QueryRange {
  const stepMs = template.step;
  const sampled = [template.maxRatioToBaseline, template.minRatioToBaseline, template.maxSpreadRatioToBaseline].some((b) => b !== undefined);
  const comparison = sampled && !template.counts ? (template.minSamples - 1) * stepMs : 0;
  const lookback = Math.ceil(Math.max(template.for ?? 0, template.window, comparison) / stepMs) * stepMs;
  const end = Math.floor(at.getTime() / 1000) * 1000;
  return { start: new Date(end - lookback), end: new Date(end), stepMs };
}

/** Runs `work` on every item with at most `limit` in flight; results in the items' order. */
export async function pool<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** The queries one metric is fetched with: its value, and with `counts` the event and total counts behind it. */
export type QueryKey = 'value' | 'events' | 'total';
export const queryKeys = (template: PrometheusMetric): QueryKey[] => (template.counts ? ['value', 'events', 'total'] : ['value']);
export const queryOf = (template: PrometheusMetric, key: QueryKey): string =>
  key === 'value' ? template.query : key === 'events' ? template.counts!.events : template.counts!.total;

/** Every series a metric needs, per canary: `${key}:${variant}` → outcome. */
type Fetched = Map<string, SeriesOutcome>;

/**
 * Fetches one query of a template for many canaries: one grouped query when the template allows it and more
 * than one canary shares it, else one query per canary and side with bounded concurrency.
 */
async function fetchQuery(
  metrics: Metrics,
  template: PrometheusMetric,
  key: QueryKey,
  services: string[],
  range: QueryRange,
  options: Required<AnalysisOptions>,
): Promise<{ perService: Map<string, Fetched>; grouped: boolean }> {
  const query = queryOf(template, key);
  const perService = new Map<string, Fetched>(services.map((s) => [s, new Map()]));
  const group = options.grouped && services.length > 1 ? grouping(query) : undefined;
  if (group) {
    const chunks: string[][] = [];
    for (let i = 0; i < services.length; i += options.groupSize) chunks.push(services.slice(i, i + options.groupSize));
    await pool(chunks, options.concurrency, async (chunk) => {
      const outcome = await metrics.range(renderGroupedQuery(query, group, chunk, template.window), range);
      const bySide = new Map<string, Series[]>();
      if (outcome.kind === 'matrix') {
        for (const series of outcome.series) {
          const side = `${series.labels[group.serviceLabel]}\n${series.labels[group.variantLabel]}`;
          bySide.set(side, [...(bySide.get(side) ?? []), series]);
        }
      }
      for (const service of chunk) {
        for (const variant of VARIANTS) {
          const part: MatrixOutcome = outcome.kind === 'matrix' ? { ...outcome, series: bySide.get(`${service}\n${variant}`) ?? [] } : outcome;
          perService.get(service)!.set(`${key}:${variant}`, singleSeries(part));
        }
      }
    });
    return { perService, grouped: true };
  }
  const jobs = services.flatMap((service) => VARIANTS.map((variant) => ({ service, variant })));
  await pool(jobs, options.concurrency, async ({ service, variant }) => {
    const outcome = await metrics.range(renderQuery(query, { service, variant, windowMs: template.window }), range);
    perService.get(service)!.set(`${key}:${variant}`, singleSeries(outcome));
  });
  return { perService, grouped: false };
}

function describedQueries(template: PrometheusMetric, service: string, grouped: Set<QueryKey>, count: number) {
  return queryKeys(template).flatMap((key) =>
    VARIANTS.map((variant: Variant) => ({
      purpose: `${key === 'value' ? '' : `${key} count, `}${variant}${grouped.has(key) ? ` (sent as one query grouped by service and side for ${count} canaries)` : ''}`,
      query: renderQuery(queryOf(template, key), { service, variant, windowMs: template.window }),
    })),
  );
}

/**
 * Judges every canary as of `at`: fetches what each metric needs (grouping shared templates), judges each
 * metric, and rolls the metrics up into one verdict per canary, in the order given.
 */
export async function analyzeCanaries(
  deps: { metrics: Metrics; probe: Probe },
  canaries: readonly CanaryTarget[],
  at: Date,
  options: AnalysisOptions = {},
): Promise<Verdict[]> {
  const opts: Required<AnalysisOptions> = { grouped: options.grouped ?? true, concurrency: options.concurrency ?? 8, groupSize: options.groupSize ?? 250 };
  const evidence = canaries.map(() => new Map<string, MetricEvidence>());

  const byMetric = new Map<string, { template: PrometheusMetric; indexes: number[] }>();
  const httpChecks: { index: number; name: string; template: HttpMetric }[] = [];
  canaries.forEach((canary, index) => {
    for (const { name, template } of canary.metrics) {
      if (template.kind === 'http') httpChecks.push({ index, name, template });
      else {
        const entry = byMetric.get(name) ?? { template, indexes: [] };
        entry.indexes.push(index);
        byMetric.set(name, entry);
      }
    }
  });

  const metricJobs = [...byMetric].map(async ([name, { template, indexes }]) => {
    const range = metricRange(template, at);
    const services = [...new Set(indexes.map((i) => canaries[i]!.service))];
    const keys = queryKeys(template);
    const results = await Promise.all(keys.map((key) => fetchQuery(deps.metrics, template, key, services, range, opts)));
    const grouped = new Set(keys.filter((_, i) => results[i]!.grouped));
    for (const index of indexes) {
      const canary = canaries[index]!;
      const fetched = new Map<string, SeriesOutcome>();
      for (const result of results) for (const [k, v] of result.perService.get(canary.service)!) fetched.set(k, v);
      const get = (k: string) => fetched.get(k)!;
      const data: PrometheusMetricData = {
        range,
        canary: get('value:canary'),
        baseline: get('value:baseline'),
        ...(template.counts && {
          counts: { canaryEvents: get('events:canary'), canaryTotal: get('total:canary'), baselineEvents: get('events:baseline'), baselineTotal: get('total:baseline') },
        }),
        queries: describedQueries(template, canary.service, grouped, services.length),
      };
      evidence[index]!.set(name, judgePrometheusMetric(name, template, data, { trafficShare: canary.trafficShare }));
    }
  });

  const probes = pool(httpChecks, opts.concurrency, async ({ index, name, template }) => {
    evidence[index]!.set(name, await probeHttpMetric(deps.probe, canaries[index]!.service, name, template));
  });

  await Promise.all([...metricJobs, probes]);

  return canaries.map((canary, index) =>
    rollUp({
      service: canary.service,
      environment: canary.environment,
      evaluatedAt: new Date(metricEvaluationTime(at)),
      metrics: canary.metrics.map(({ name }) => evidence[index]!.get(name)!),
      score: canary.score,
      trafficShare: canary.trafficShare,
    }),
  );
}

/** Probes an `http` check of `service` now and judges the answer. */
export async function probeHttpMetric(probe: Probe, service: string, name: string, template: HttpMetric): Promise<MetricEvidence> {
  const url = template.url.replaceAll(/\{\{\s*service\s*\}\}/g, service);
  return judgeHttpMetric(name, template, url, await probe(url, template.timeout));
}

/** Queries are evaluated on whole seconds, as Prometheus's API takes them. */
export function metricEvaluationTime(at: Date): number {
  return Math.floor(at.getTime() / 1000) * 1000;
}
