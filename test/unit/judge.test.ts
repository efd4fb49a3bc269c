import { describe, expect, it } from 'vitest';
import { metricTemplateSchema, type PrometheusMetric } from '../../src/config/metric-schema.js';
import { judgeHttpMetric, judgePrometheusMetric, type PrometheusMetricData } from '../../src/domain/judge.js';
import type { SeriesOutcome } from '../../src/domain/query-outcome.js';
import { seeded } from '../support/http-history.js';

const END = 1_700_000_000;
const STEP = 15;

function template(fields: Record<string, unknown>): PrometheusMetric {
  const parsed = metricTemplateSchema.parse({ query: 'x{app="{{service}}",version="{{variant}}"}', ...fields });
  if (parsed.kind !== 'prometheus') throw new Error('expected a prometheus metric');
  return parsed;
}

/** A series of `count` steps ending at END, values from `value(i)` where i = 0 is the oldest. */
function series(count: number, value: (i: number) => number): SeriesOutcome {
  return { kind: 'series', points: Array.from({ length: count }, (_, i) => [END - (count - 1 - i) * STEP, value(i)] as [number, number]), warnings: [] };
}

function data(canary: SeriesOutcome, baseline: SeriesOutcome, steps: number, counts?: PrometheusMetricData['counts']): PrometheusMetricData {
  return {
    range: { start: new Date((END - (steps - 1) * STEP) * 1000), end: new Date(END * 1000), stepMs: STEP * 1000 },
    canary,
    baseline,
    ...(counts && { counts }),
    queries: [],
  };
}

const share = { trafficShare: 25 };

describe('judgePrometheusMetric: absolute bounds and for', () => {
  const max = template({ max: 0.03, for: '5m' });

  it('breaches only when every step over `for` is over the bound', () => {
    const held = judgePrometheusMetric('e', max, data(series(21, () => 0.05), series(21, () => 0.01), 21), share);
    expect(held).toMatchObject({ classification: 'high', canary: 0.05 });
    expect(held.rules[0]).toMatchObject({ rule: 'max', outcome: 'breach', breachingForMs: 300_000, forMs: 300_000 });

    const short = judgePrometheusMetric('e', max, data(series(21, (i) => (i >= 2 ? 0.05 : 0.01)), series(21, () => 0.01), 21), share);
    expect(short.classification).toBe('pass');
    expect(short.rules[0]).toMatchObject({ outcome: 'pass', breachingForMs: 270_000 });
    expect(short.reason).toContain('breaching for 270s only, under for: 5m');
  });

  it('lets a missing step break the streak, as an absent sample resets an alert', () => {
    const points = series(21, () => 0.05);
    if (points.kind !== 'series') throw new Error('unreachable');
    const gap: SeriesOutcome = { ...points, points: points.points.filter((_, i) => i !== 10) };
    expect(judgePrometheusMetric('e', max, data(gap, series(21, () => 0.01), 21), share).classification).toBe('pass');
  });

  it('classifies a value under `min` as low', () => {
    const min = template({ min: 0.95 });
    expect(judgePrometheusMetric('s', min, data(series(5, () => 0.9), series(5, () => 0.99), 5), share).classification).toBe('low');
  });
});

describe('judgePrometheusMetric: bounds relative to the baseline', () => {
  const latency = template({ maxRatioToBaseline: 2, for: '5m', window: '5m' });

  it('breaches a ratio only when Mann-Whitney finds the shift significant', () => {
    const random = seeded(7);
    const slow = judgePrometheusMetric('l', latency, data(series(50, () => 1 + random() * 0.2), series(50, () => 0.4 + random() * 0.1), 50), share);
    expect(slow.classification).toBe('high');
    expect(slow.comparison).toMatchObject({ test: 'mann-whitney', outcome: 'significant', canarySamples: 50, baselineSamples: 50 });

    // 2.5x at the last step only: the ratio is over its bound now, but one sample is no significant shift.
    const spike = judgePrometheusMetric('l', latency, data(series(50, (i) => (i === 49 ? 1 : 0.4)), series(50, () => 0.4), 50), share);
    expect(spike.classification).toBe('pass');
  });

  it('is nodata, never pass, with fewer samples than minSamples', () => {
    const few = judgePrometheusMetric('l', latency, data(series(30, () => 0.4), series(30, () => 0.4), 30), share);
    expect(few.classification).toBe('nodata');
    expect(few.comparison).toMatchObject({ outcome: 'nodata', canarySamples: 30, minSamples: 50 });
  });

  it('never divides by a zero baseline: the counts decide', () => {
    const errors = template({ maxRatioToBaseline: 1.5, counts: { events: 'e{v="{{variant}}"}', total: 't{v="{{variant}}"}' } });
    const counts = (canaryEvents: number) => ({
      canaryEvents: series(1, () => canaryEvents),
      canaryTotal: series(1, () => 10_000),
      baselineEvents: { kind: 'nodata', warnings: [] } as SeriesOutcome,
      baselineTotal: series(1, () => 10_000),
    });
    const few = judgePrometheusMetric('e', errors, data(series(1, () => 0.0003), series(1, () => 0), 1, counts(3)), share);
    expect(few).toMatchObject({ classification: 'pass', ratio: null, baseline: 0 });
    expect(few.comparison).toMatchObject({ test: 'two-proportions', canaryEvents: 3, baselineEvents: 0, outcome: 'not-significant' });
    const many = judgePrometheusMetric('e', errors, data(series(1, () => 0.004), series(1, () => 0), 1, counts(40)), share);
    expect(many).toMatchObject({ classification: 'high', ratio: null });
    expect(many.rules[0]!.detail).toContain('above a zero baseline');
  });

  it('judges throughput per unit of traffic share, and needs the share', () => {
    const throughput = template({ minRatioToBaseline: 0.5, perTrafficShare: true, minSamples: 5 });
    const equalPerShare = data(series(5, (i) => 25 + (i % 2)), series(5, (i) => 75 + (i % 3)), 5);
    expect(judgePrometheusMetric('t', throughput, equalPerShare, { trafficShare: 25 })).toMatchObject({ classification: 'pass', trafficShare: { canary: 25, baseline: 75 } });
    expect(judgePrometheusMetric('t', throughput, equalPerShare, { trafficShare: 50 }).classification).toBe('low');
    expect(judgePrometheusMetric('t', throughput, equalPerShare, { trafficShare: undefined })).toMatchObject({
      classification: 'nodata',
      reason: expect.stringContaining('traffic share is unknown'),
    });
    expect(judgePrometheusMetric('t', throughput, equalPerShare, { trafficShare: 100 }).reason).toContain('leaves the baseline without traffic');
  });

  it('never fails a canary drawn from the same distribution as its baseline (200 seeds)', () => {
    const noisy = template({ maxRatioToBaseline: 1.5, minRatioToBaseline: 0.5, for: '5m' });
    const failed: number[] = [];
    for (let seed = 0; seed < 200; seed++) {
      const random = seeded(seed);
      const draw = () => 0.3 + random() * random() * 0.5;
      const verdict = judgePrometheusMetric('n', noisy, data(series(50, draw), series(50, draw), 50), share);
      if (verdict.classification === 'high' || verdict.classification === 'low') failed.push(seed);
    }
    expect(failed).toEqual([]);
  });
});

describe('judgePrometheusMetric: spread', () => {
  const spread = template({ maxSpreadRatioToBaseline: 3, for: '5m' });

  it('fails a canary whose variance blew up while its median stayed put', () => {
    const random = seeded(11);
    const wild = judgePrometheusMetric('l', spread, data(series(50, (i) => 0.4 + (i % 2 ? 1 : -1) * random() * 0.3), series(50, () => 0.4 + (random() - 0.5) * 0.02), 50), share);
    expect(wild.classification).toBe('high');
    expect(wild.rules[0]).toMatchObject({ rule: 'maxSpreadRatioToBaseline', outcome: 'breach' });
    expect(wild.comparison).toMatchObject({ test: 'mann-whitney', outcome: 'not-significant' });
    expect(wild.comparison?.test === 'mann-whitney' && wild.comparison.spread?.ratio).toBeGreaterThan(3);
  });

  it('passes a canary spread like its baseline', () => {
    const random = seeded(12);
    const calm = judgePrometheusMetric('l', spread, data(series(50, () => 0.4 + (random() - 0.5) * 0.1), series(50, () => 0.4 + (random() - 0.5) * 0.1), 50), share);
    expect(calm.classification).toBe('pass');
  });
});

describe('judgePrometheusMetric: data problems', () => {
  const any = template({ max: 1, maxRatioToBaseline: 2 });

  it('reports a failed query as error, with which side and why', () => {
    const failed = judgePrometheusMetric('m', any, data({ kind: 'timeout', message: 'no answer within 5000 ms', warnings: [] }, series(1, () => 1), 1), share);
    expect(failed).toMatchObject({ classification: 'error', reason: 'canary: timeout: no answer within 5000 ms' });
    expect(failed.rules.map((r) => [r.rule, r.threshold, r.outcome])).toEqual([['max', 1, 'nodata'], ['maxRatioToBaseline', 2, 'nodata']]);
  });

  it('reports several series as error, telling how to fix the query', () => {
    const several = judgePrometheusMetric('m', any, data({ kind: 'multiple', labels: [{ pod: 'a' }, { pod: 'b' }], warnings: [] }, series(1, () => 1), 1), share);
    expect(several.classification).toBe('error');
    expect(several.reason).toContain('returned 2 series where one was expected ({"pod":"a"}, {"pod":"b"}); aggregate it');
  });

  it('treats NaN at the evaluation time as no data', () => {
    expect(judgePrometheusMetric('m', any, data(series(1, () => NaN), series(1, () => 1), 1), share)).toMatchObject({ classification: 'nodata', canary: null });
  });

  it('keeps the warnings of every answer', () => {
    const warned: SeriesOutcome = { kind: 'series', points: [[END, 0.5]], warnings: ['partial data'] };
    expect(judgePrometheusMetric('m', template({ max: 1 }), data(warned, series(1, () => 1), 1), share).warnings).toEqual(['partial data']);
  });
});

describe('judgeHttpMetric', () => {
  const check = metricTemplateSchema.parse({ kind: 'http', url: 'http://{{service}}.shop/healthz', max: 0.5, critical: true });
  if (check.kind !== 'http') throw new Error('expected an http check');

  it('passes a healthy, fast answer', () => {
    expect(judgeHttpMetric('h', check, 'http://checkout.shop/healthz', { kind: 'response', status: 200, seconds: 0.1 })).toMatchObject({ classification: 'pass', canary: 0.1 });
  });
  it('fails an unhealthy status or a slow answer', () => {
    expect(judgeHttpMetric('h', check, 'u', { kind: 'response', status: 503, seconds: 0.1 })).toMatchObject({ classification: 'high', reason: expect.stringContaining('answered 503, expected 2xx') });
    expect(judgeHttpMetric('h', check, 'u', { kind: 'response', status: 200, seconds: 0.9 }).classification).toBe('high');
  });
  it('calls an unreachable URL an error, not a failure', () => {
    expect(judgeHttpMetric('h', check, 'u', { kind: 'unreachable', message: 'ECONNREFUSED' })).toMatchObject({ classification: 'error', reason: 'GET u: unreachable: ECONNREFUSED' });
  });
});
