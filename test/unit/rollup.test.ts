import { describe, expect, it } from 'vitest';
import { rollUp } from '../../src/domain/rollup.js';
import type { Classification, MetricEvidence } from '../../src/domain/verdict.js';
import { verdictSchema } from '../../src/domain/verdict.js';

function metric(name: string, classification: Classification, critical: boolean, weight = 1): MetricEvidence {
  return {
    metric: name,
    kind: 'prometheus',
    critical,
    weight,
    classification,
    reason: `${name} is ${classification}`,
    canary: 1,
    baseline: 1,
    ratio: 1,
    trafficShare: null,
    rules: [],
    comparison: null,
    queries: [],
    range: null,
    warnings: [],
  };
}

const roll = (metrics: MetricEvidence[]) =>
  rollUp({ service: 'checkout', environment: 'production', evaluatedAt: new Date('2024-05-01T12:00:00Z'), metrics, score: { pass: 80, marginal: 60 }, trafficShare: 10 });

describe('rollUp', () => {
  it('fails on a critical metric alone, even when another lacks data', () => {
    const verdict = roll([metric('errors', 'high', true), metric('latency', 'nodata', true), metric('a', 'pass', false)]);
    expect(verdict.verdict).toBe('fail');
    expect(verdict.reasons).toEqual(['critical errors high (canary 1, baseline 1): errors is high']);
  });

  it('is inconclusive, never fail, on missing data or a failed query', () => {
    expect(roll([metric('errors', 'pass', true), metric('a', 'error', false)]).verdict).toBe('inconclusive');
    expect(roll([metric('errors', 'nodata', true)]).verdict).toBe('inconclusive');
  });

  it('scores the non-critical metrics by weight: pass, marginal (inconclusive) or fail', () => {
    const scored = (a: Classification, b: Classification, c: Classification) => roll([metric('a', a, false, 3), metric('b', b, false, 1), metric('c', c, false, 1)]);
    expect(scored('pass', 'pass', 'high')).toMatchObject({ verdict: 'pass', score: 80 });
    expect(scored('pass', 'low', 'high')).toMatchObject({ verdict: 'inconclusive', score: 60 });
    expect(scored('high', 'pass', 'pass')).toMatchObject({ verdict: 'fail', score: 40 });
  });

  it('passes with no score when every metric is critical and passes', () => {
    expect(roll([metric('errors', 'pass', true)])).toMatchObject({ verdict: 'pass', score: null });
  });

  it('produces an object the verdict schema accepts, with the evaluation time', () => {
    const verdict = roll([metric('errors', 'pass', true)]);
    expect(verdictSchema.parse(verdict)).toEqual(verdict);
    expect(verdict.evaluatedAt).toBe('2024-05-01T12:00:00.000Z');
  });
});
