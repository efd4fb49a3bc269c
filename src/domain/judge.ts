import type { HttpMetric, PrometheusMetric } from '../config/metric-schema.js';
import { formatDuration } from '../config/duration.js';
import { isFailure, type QueryFailure, type SeriesOutcome } from './query-outcome.js';
import { hodgesLehmann, mannWhitneyU, sampleMedian, spreadTest, twoProportions } from './stats.js';
import type { Classification, Comparison, MetricEvidence, RuleEvidence } from './verdict.js';

/** What was fetched for one Prometheus metric of one canary, every series over the same range. */
export interface PrometheusMetricData {
  range: { start: Date; end: Date; stepMs: number };
  canary: SeriesOutcome;
  baseline: SeriesOutcome;
  /** Present when the template has `counts`. */
  counts?: { canaryEvents: SeriesOutcome; canaryTotal: SeriesOutcome; baselineEvents: SeriesOutcome; baselineTotal: SeriesOutcome };
  queries: { purpose: string; query: string }[];
}

export interface JudgeContext {
  /** The canary's traffic share in percent; undefined when unknown. */
  trafficShare: number | undefined;
}

type Direction = 'high' | 'low';
type Gate = 'significant' | 'not-significant' | 'nodata';

const round = (value: number, digits = 6): number => Number(value.toPrecision(digits));
const finiteOrNull = (value: number | undefined): number | null => (value !== undefined && Number.isFinite(value) ? round(value) : null);
const show = (value: number): string => (Number.isFinite(value) ? String(round(value, 4)) : String(value));

function describeFailure(side: string, failure: QueryFailure): string {
  const what = failure.kind === 'error' ? `query error (${failure.errorType})` : failure.kind;
  return `${side}: ${what}: ${failure.message}`;
}

function toMap(outcome: SeriesOutcome, factor: number): Map<number, number> {
  const map = new Map<number, number>();
  if (outcome.kind === 'series') for (const [t, v] of outcome.points) map.set(Math.round(t * 1000), v * factor);
  return map;
}

// Counts are read at every step of `for`; each series is indexed by time once.
const countMaps = new WeakMap<SeriesOutcome, Map<number, number>>();
function countMap(outcome: SeriesOutcome): Map<number, number> {
  let map = countMaps.get(outcome);
  if (!map) countMaps.set(outcome, (map = toMap(outcome, 1)));
  return map;
}

function base(name: string, template: PrometheusMetric | HttpMetric, data: { queries: { purpose: string; query: string }[] }) {
  return {
    metric: name,
    kind: template.kind,
    critical: template.critical,
    weight: template.weight,
    canary: null,
    baseline: null,
    ratio: null,
    trafficShare: null,
    rules: [],
    comparison: null,
    queries: data.queries,
    range: null,
    warnings: [],
  } satisfies Omit<MetricEvidence, 'classification' | 'reason'>;
}

/** Judges one Prometheus metric of one canary at the end of `data.range` (the evaluation time). */
export function judgePrometheusMetric(name: string, template: PrometheusMetric, data: PrometheusMetricData, context: JudgeContext): MetricEvidence {
  const { range } = data;
  const evidence = {
    ...base(name, template, data),
    range: { start: range.start.toISOString(), end: range.end.toISOString(), stepSeconds: range.stepMs / 1000 },
    warnings: [...new Set(allOutcomes(data).flatMap((o) => o.warnings))],
  };
  const relative = [template.maxRatioToBaseline, template.minRatioToBaseline, template.maxSpreadRatioToBaseline].some((b) => b !== undefined);
  const needsBaseline = relative || template.perTrafficShare;

  const problem = dataProblem(template, data, needsBaseline, context);
  if (problem) return { ...evidence, rules: unjudged(template, problem.reason), classification: problem.classification, reason: problem.reason };

  const share = template.perTrafficShare ? (context.trafficShare as number) : undefined;
  const canary = toMap(data.canary, share === undefined ? 1 : 100 / share);
  const baseline = toMap(data.baseline, share === undefined ? 1 : 100 / (100 - share));
  const end = range.end.getTime();
  const canaryNow = canary.get(end);
  const baselineNow = baseline.get(end);
  const shown = {
    ...evidence,
    canary: finiteOrNull(canaryNow),
    baseline: finiteOrNull(baselineNow),
    ratio: canaryNow !== undefined && baselineNow !== undefined && baselineNow !== 0 && Number.isFinite(canaryNow / baselineNow) ? round(canaryNow / baselineNow) : null,
    trafficShare: share === undefined ? null : { canary: share, baseline: 100 - share },
  };
  if (canaryNow === undefined || !Number.isFinite(canaryNow)) {
    const what = canaryNow === undefined ? 'no canary sample' : `the canary value is ${canaryNow}`;
    const reason = `${what} at ${range.end.toISOString()} (no traffic, or a 0/0 ratio)`;
    return { ...shown, rules: unjudged(template, reason), classification: 'nodata', reason };
  }
  if (needsBaseline && (baselineNow === undefined || !Number.isFinite(baselineNow))) {
    const what = baselineNow === undefined ? 'no baseline sample' : `the baseline value is ${baselineNow}`;
    const reason = `${what} at ${range.end.toISOString()}, needed for the bounds relative to it`;
    return { ...shown, rules: unjudged(template, reason), classification: 'nodata', reason };
  }

  const forMs = template.for ?? 0;
  // Every step of the range, newest first: a breach is held from its first step, reported even beyond `for`.
  const steps = [...canary.keys()].filter((t) => t <= end).sort((a, b) => b - a);
  const comparison = relative ? compare(template, data, canary, baseline, end) : null;
  const rules: RuleEvidence[] = [];

  const rule = (kind: RuleEvidence['rule'], threshold: number, breachAt: (t: number) => boolean, describe: () => string, gateNow?: Gate) => {
    let held: number | null = null;
    for (const t of steps) {
      if (!breachAt(t)) break;
      held = end - t;
    }
    // Steps missing from the range break the streak, as an absent sample resets a Prometheus alert.
    const contiguous = held !== null && steps.filter((t) => t >= end - held!).length === Math.round(held / range.stepMs) + 1;
    const breach = held !== null && contiguous && held >= forMs;
    const outcome = breach ? 'breach' : gateNow === 'nodata' ? 'nodata' : 'pass';
    rules.push({ rule: kind, threshold, outcome, breachingForMs: held, forMs, detail: describe() });
  };

  if (template.max !== undefined) {
    const max = template.max;
    rule('max', max, (t) => (canary.get(t) ?? NaN) > max, () => `canary ${show(canaryNow)} ${canaryNow > max ? '>' : '<='} max ${max}`);
  }
  if (template.min !== undefined) {
    const min = template.min;
    rule('min', min, (t) => (canary.get(t) ?? NaN) < min, () => `canary ${show(canaryNow)} ${canaryNow < min ? '<' : '>='} min ${min}`);
  }
  const ratioDetail = (bound: number, direction: Direction) => () => {
    const ratio = baselineNow === 0 ? (canaryNow > 0 ? 'above a zero baseline' : 'equal to a zero baseline') : `${show(canaryNow / baselineNow!)}× baseline`;
    const limit = `${direction === 'high' ? 'max' : 'min'} ${bound}×`;
    return `canary ${show(canaryNow)} is ${ratio} (${show(baselineNow!)}), ${limit}; difference ${comparison?.outcome ?? 'not tested'}`;
  };
  if (template.maxRatioToBaseline !== undefined) {
    const bound = template.maxRatioToBaseline;
    const over = (t: number) => exceeds(canary.get(t), baseline.get(t), bound, 'high') && gateAt(template, data, t, 'high', comparison) === 'significant';
    rule('maxRatioToBaseline', bound, over, ratioDetail(bound, 'high'), gateAt(template, data, end, 'high', comparison));
  }
  if (template.minRatioToBaseline !== undefined) {
    const bound = template.minRatioToBaseline;
    const under = (t: number) => exceeds(canary.get(t), baseline.get(t), bound, 'low') && gateAt(template, data, t, 'low', comparison) === 'significant';
    rule('minRatioToBaseline', bound, under, ratioDetail(bound, 'low'), gateAt(template, data, end, 'low', comparison));
  }

  const spreadBound = template.maxSpreadRatioToBaseline;
  if (spreadBound !== undefined && comparison?.test === 'mann-whitney') {
    const spread = comparison.spread;
    const wider = spread !== null && spread.canary !== null && (spread.ratio === null ? spread.canary > 0 : spread.ratio > spreadBound);
    const breach = wider && spread.pValue !== null && spread.pValue < template.significance && (spread.z ?? 0) > 0;
    rules.push({
      rule: 'maxSpreadRatioToBaseline',
      threshold: spreadBound,
      outcome: breach ? 'breach' : spread === null ? 'nodata' : 'pass',
      breachingForMs: breach ? end - range.start.getTime() : null,
      forMs,
      detail:
        spread === null
          ? `too few samples to compare spread (${comparison.canarySamples} and ${comparison.baselineSamples}, need ${template.minSamples})`
          : `canary spread ${show(spread.canary ?? NaN)} is ${spread.ratio === null ? 'above a baseline without spread' : `${show(spread.ratio)}× the baseline's (${show(spread.baseline ?? NaN)})`}, max ${spreadBound}×; p = ${show(spread.pValue ?? NaN)}`,
    });
  }

  return { ...shown, rules, comparison, ...classify(rules, forMs) };
}

/** The metric's rules, none judged: the thresholds stay in the evidence even when the data is missing. */
function unjudged(template: PrometheusMetric, reason: string): RuleEvidence[] {
  const rules: RuleEvidence[] = [];
  for (const rule of ['max', 'min', 'maxRatioToBaseline', 'minRatioToBaseline', 'maxSpreadRatioToBaseline'] as const) {
    const threshold = template[rule];
    if (threshold !== undefined) rules.push({ rule, threshold, outcome: 'nodata', breachingForMs: null, forMs: template.for ?? 0, detail: reason });
  }
  return rules;
}

function allOutcomes(data: PrometheusMetricData): SeriesOutcome[] {
  const counts = data.counts ? [data.counts.canaryEvents, data.counts.canaryTotal, data.counts.baselineEvents, data.counts.baselineTotal] : [];
  return [data.canary, data.baseline, ...counts];
}

/** A reason the metric cannot be judged at all: a failed query, no series, several series, unknown share. */
function dataProblem(
  template: PrometheusMetric,
  data: PrometheusMetricData,
  needsBaseline: boolean,
  context: JudgeContext,
): { classification: Classification; reason: string } | undefined {
  const sides: [string, SeriesOutcome, boolean][] = [
    ['canary', data.canary, true],
    ['baseline', data.baseline, needsBaseline],
  ];
  if (data.counts && needsBaseline) {
    sides.push(
      ['canary event count', data.counts.canaryEvents, true],
      ['canary total count', data.counts.canaryTotal, true],
      ['baseline event count', data.counts.baselineEvents, true],
      ['baseline total count', data.counts.baselineTotal, true],
    );
  }
  for (const [side, outcome, needed] of sides) {
    if (needed && isFailure(outcome)) return { classification: 'error', reason: describeFailure(side, outcome) };
    if (needed && outcome.kind === 'multiple') {
      const labels = outcome.labels.slice(0, 3).map((l) => JSON.stringify(l)).join(', ');
      return {
        classification: 'error',
        reason: `${side}: the query returned ${outcome.labels.length} series where one was expected (${labels}); aggregate it, e.g. with sum()`,
      };
    }
  }
  if (data.canary.kind === 'nodata') return { classification: 'nodata', reason: 'no canary series: the query returned an empty result' };
  if (needsBaseline && data.baseline.kind === 'nodata') return { classification: 'nodata', reason: 'no baseline series: the query returned an empty result' };
  if (template.perTrafficShare) {
    const share = context.trafficShare;
    if (share === undefined) return { classification: 'nodata', reason: "the canary's traffic share is unknown (give --weight, or let Lifeguard read it from the cluster)" };
    if (!(share > 0 && share < 100)) {
      return { classification: 'nodata', reason: `a traffic share of ${share}% leaves ${share <= 0 ? 'the canary' : 'the baseline'} without traffic to compare per unit of share` };
    }
  }
  return undefined;
}

function exceeds(canary: number | undefined, baseline: number | undefined, bound: number, direction: Direction): boolean {
  if (canary === undefined || baseline === undefined || !Number.isFinite(canary) || !Number.isFinite(baseline)) return false;
  // A zero baseline is never divided by: any canary above it is above every ratio, none is below one.
  if (baseline === 0) return direction === 'high' && canary > 0;
  return direction === 'high' ? canary / baseline > bound : canary / baseline < bound;
}

/** Counts at step t, rounded: increase() extrapolates to fractions of an event. */
function countsAt(data: PrometheusMetricData, t: number) {
  const c = data.counts!;
  const at = (o: SeriesOutcome) => {
    const v = countMap(o).get(t);
    return v === undefined || !Number.isFinite(v) ? undefined : Math.round(v);
  };
  // An event counter with no series while requests flow means no events yet.
  const events = (o: SeriesOutcome, total: number | undefined) => (o.kind === 'nodata' && total !== undefined ? 0 : at(o));
  const canaryTotal = at(c.canaryTotal);
  const baselineTotal = at(c.baselineTotal);
  return { canaryEvents: events(c.canaryEvents, canaryTotal), canaryTotal, baselineEvents: events(c.baselineEvents, baselineTotal), baselineTotal };
}

function proportionsAt(template: PrometheusMetric, data: PrometheusMetricData, t: number) {
  const counts = countsAt(data, t);
  const { canaryEvents, canaryTotal, baselineEvents, baselineTotal } = counts;
  if (canaryEvents === undefined || canaryTotal === undefined || baselineEvents === undefined || baselineTotal === undefined) return { counts, result: undefined };
  if (canaryTotal < template.minSamples || baselineTotal < template.minSamples) return { counts, result: undefined };
  return { counts, result: twoProportions(Math.min(canaryEvents, canaryTotal), canaryTotal, Math.min(baselineEvents, baselineTotal), baselineTotal) };
}

function gateAt(template: PrometheusMetric, data: PrometheusMetricData, t: number, direction: Direction, comparison: Comparison | null): Gate {
  if (!comparison) return 'nodata';
  if (comparison.test === 'mann-whitney') {
    if (comparison.outcome !== 'significant' || comparison.shift === null) return comparison.outcome;
    return (direction === 'high') === comparison.shift > 0 ? 'significant' : 'not-significant';
  }
  const { result } = proportionsAt(template, data, t);
  if (!result) return 'nodata';
  const difference = result.p1 - result.p2;
  const large = Math.abs(difference) > template.tolerance * result.p2;
  const pointed = direction === 'high' ? difference > 0 : difference < 0;
  return result.pValue < template.significance && large && pointed ? 'significant' : 'not-significant';
}

/** The statistical comparison at the evaluation time: on the counts when the template has them, else on samples. */
function compare(template: PrometheusMetric, data: PrometheusMetricData, canary: Map<number, number>, baseline: Map<number, number>, end: number): Comparison {
  const { significance, minSamples, tolerance } = template;
  if (data.counts) {
    const { counts, result } = proportionsAt(template, data, end);
    const difference = result ? result.p1 - result.p2 : null;
    const significant = result !== undefined && difference !== null && result.pValue < significance && Math.abs(difference) > tolerance * result.p2;
    return {
      test: 'two-proportions',
      outcome: result ? (significant ? 'significant' : 'not-significant') : 'nodata',
      canaryEvents: counts.canaryEvents ?? null,
      canaryTotal: counts.canaryTotal ?? null,
      baselineEvents: counts.baselineEvents ?? null,
      baselineTotal: counts.baselineTotal ?? null,
      minSamples,
      z: result ? round(result.z) : null,
      pValue: result ? round(result.pValue) : null,
      significance,
      difference: difference === null ? null : round(difference),
      tolerance,
    };
  }
  const finite = (map: Map<number, number>) => [...map].filter(([t, v]) => t <= end && Number.isFinite(v)).map(([, v]) => v);
  const a = finite(canary);
  const b = finite(baseline);
  const enough = a.length >= minSamples && b.length >= minSamples;
  const test = enough ? mannWhitneyU(a, b) : undefined;
  const shift = enough ? hodgesLehmann(a, b) : NaN;
  const baselineMedian = sampleMedian(b);
  const significant = test !== undefined && test.pValue < significance && Math.abs(shift) > tolerance * Math.abs(baselineMedian);
  return {
    test: 'mann-whitney',
    outcome: test ? (significant ? 'significant' : 'not-significant') : 'nodata',
    canarySamples: a.length,
    baselineSamples: b.length,
    minSamples,
    u: test ? test.u : null,
    z: test ? round(test.z) : null,
    pValue: test ? round(test.pValue) : null,
    significance,
    shift: finiteOrNull(shift),
    canaryMedian: finiteOrNull(sampleMedian(a)),
    baselineMedian: finiteOrNull(baselineMedian),
    tolerance,
    spread: template.maxSpreadRatioToBaseline === undefined || !enough ? null : spreadEvidence(a, b),
  };
}

function spreadEvidence(a: number[], b: number[]) {
  const result = spreadTest(a, b);
  return {
    canary: finiteOrNull(result.spreadA),
    baseline: finiteOrNull(result.spreadB),
    ratio: result.spreadB > 0 ? round(result.spreadA / result.spreadB) : null,
    z: round(result.z),
    pValue: round(result.pValue),
  };
}

function classify(rules: RuleEvidence[], forMs: number): { classification: Classification; reason: string } {
  const breached = rules.find((r) => r.outcome === 'breach');
  if (breached) {
    const classification = breached.rule === 'min' || breached.rule === 'minRatioToBaseline' ? 'low' : 'high';
    const held = forMs > 0 ? ` for ${formatDuration(breached.breachingForMs ?? 0)} (for: ${formatDuration(forMs)})` : '';
    return { classification, reason: `${breached.rule} breached${held}: ${breached.detail}` };
  }
  const missing = rules.find((r) => r.outcome === 'nodata');
  if (missing) return { classification: 'nodata', reason: `${missing.rule} cannot be judged: too few samples to compare canary and baseline (${missing.detail})` };
  const pending = rules.find((r) => r.breachingForMs !== null);
  if (pending) {
    return { classification: 'pass', reason: `${pending.rule} breaching for ${formatDuration(pending.breachingForMs!)} only, under for: ${formatDuration(forMs)}` };
  }
  return { classification: 'pass', reason: 'within every bound' };
}

/** What a probe of an `http` check returned. */
export type ProbeOutcome =
  | { kind: 'response'; status: number; seconds: number }
  | { kind: 'unreachable'; message: string }
  | { kind: 'timeout'; message: string };

/** Judges a synthetic or dependency check from one probe: its status, then its latency against min/max. */
export function judgeHttpMetric(name: string, template: HttpMetric, url: string, probe: ProbeOutcome): MetricEvidence {
  const evidence = base(name, template, { queries: [{ purpose: 'GET', query: url }] });
  if (probe.kind !== 'response') return { ...evidence, classification: 'error', reason: `GET ${url}: ${probe.kind}: ${probe.message}` };
  const expected = template.expectStatus;
  const healthy = expected ? expected.includes(probe.status) : probe.status >= 200 && probe.status < 300;
  const rules: RuleEvidence[] = [
    {
      rule: 'status',
      threshold: expected ? expected.join('|') : '2xx',
      outcome: healthy ? 'pass' : 'breach',
      breachingForMs: healthy ? null : 0,
      forMs: 0,
      detail: `GET ${url} answered ${probe.status}`,
    },
  ];
  const bound = (rule: 'max' | 'min', threshold: number | undefined, breach: (t: number) => boolean) => {
    if (threshold === undefined) return;
    const breached = breach(threshold);
    rules.push({ rule, threshold, outcome: breached ? 'breach' : 'pass', breachingForMs: breached ? 0 : null, forMs: 0, detail: `answered in ${show(probe.seconds)} s` });
  };
  bound('max', template.max, (t) => probe.seconds > t);
  bound('min', template.min, (t) => probe.seconds < t);
  const judged = { ...evidence, canary: round(probe.seconds), rules };
  if (!healthy) return { ...judged, classification: 'high', reason: `unhealthy status: GET ${url} answered ${probe.status}, expected ${rules[0]!.threshold}` };
  return { ...judged, ...classify(rules, 0) };
}
