import { describe, expect, it } from 'vitest';
import { metricTemplateSchema } from '../../src/config/metric-schema.js';
import { analyzeAgainstPast, type SelfAnalysisTarget } from '../../src/flows/self-analysis.js';
import type { MatrixOutcome } from '../../src/domain/query-outcome.js';
import type { Metrics, Probe, QueryRange } from '../../src/ports.js';

const AT = Date.parse('2023-11-14T23:00:00.000Z');
const SINCE = AT - 30 * 60_000;
const STEP_S = 15;

/** A Metrics that records every range asked for and answers a flat series over it, the value by query. */
function recording(value: (query: string) => number) {
  const asked: { query: string; range: QueryRange }[] = [];
  let inFlight = 0;
  let most = 0;
  const metrics: Metrics = {
    instant: () => Promise.reject(new Error('no instant query expected')),
    range: async (query, range): Promise<MatrixOutcome> => {
      asked.push({ query, range });
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      const points: [number, number][] = [];
      for (let t = range.start.getTime() / 1000; t <= range.end.getTime() / 1000; t += STEP_S) points.push([t, value(query)]);
      return { kind: 'matrix', series: [{ labels: {}, points }], warnings: [] };
    },
  };
  return { metrics, asked, most: () => most };
}

function target(service: string, fields: Record<string, unknown>): SelfAnalysisTarget {
  const template = metricTemplateSchema.parse({ query: 'up{app="{{service}}",version="{{variant}}"}', window: '1m', ...fields });
  return { service, environment: 'production', metrics: [{ name: 'm', template }], score: { pass: 80, marginal: 60 }, variant: 'baseline', since: new Date(SINCE) };
}

const probe: Probe = async () => ({ kind: 'response', status: 200, seconds: 0.01 });

describe('analyzeAgainstPast', () => {
  it('asks the same query now and over as long a range ending at since, and pairs the past with now step by step', async () => {
    const { metrics, asked } = recording(() => 1);
    const [verdict] = await analyzeAgainstPast({ metrics, probe }, [target('a', { maxRatioToBaseline: 2, minSamples: 5 })], new Date(AT + 400));
    const ranges = asked.map(({ query, range }) => [query, range.start.toISOString(), range.end.toISOString(), range.stepMs]);
    expect(ranges).toEqual([
      ['up{app="a",version="baseline"}', '2023-11-14T22:59:00.000Z', '2023-11-14T23:00:00.000Z', 15_000],
      ['up{app="a",version="baseline"}', '2023-11-14T22:29:00.000Z', '2023-11-14T22:30:00.000Z', 15_000],
    ]);
    expect(verdict!.metrics[0]).toMatchObject({ classification: 'pass', canary: 1, baseline: 1, ratio: 1 });
    expect(verdict!.metrics[0]!.comparison).toMatchObject({ canarySamples: 5, baselineSamples: 5 });
  });

  it('keeps at most `concurrency` queries in flight, and probes http checks now', async () => {
    const { metrics, most } = recording(() => 1);
    const probed: string[] = [];
    const recordingProbe: Probe = async (url) => (probed.push(url), { kind: 'response', status: 200, seconds: 0.01 });
    const targets = ['a', 'b', 'c', 'd'].map((s) => target(s, { max: 2 }));
    const check = metricTemplateSchema.parse({ kind: 'http', url: 'http://{{service}}.shop/healthz', critical: true });
    targets[0]!.metrics.push({ name: 'synthetic', template: check });
    const verdicts = await analyzeAgainstPast({ metrics, probe: recordingProbe }, targets, new Date(AT), { concurrency: 3 });
    expect(most()).toBe(3);
    expect(probed).toEqual(['http://a.shop/healthz']);
    expect(verdicts.map((v) => [v.service, v.verdict])).toEqual([
      ['a', 'pass'],
      ['b', 'pass'],
      ['c', 'pass'],
      ['d', 'pass'],
    ]);
  });
});
