import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { metricTemplateSchema } from '../../src/config/metric-schema.js';

const raw = () => parse(readFileSync('lifeguard.example.yaml', 'utf8')) as { metrics: Record<string, unknown> };

function errors(metrics: Record<string, unknown>): string[] {
  try {
    parseConfig({ ...raw(), metrics: { ...raw().metrics, ...metrics } });
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.errors;
    throw error;
  }
}

describe('metric templates', () => {
  it("keeps the example's four metrics valid, with the DESIGN §3 thresholds", () => {
    const { metrics } = parseConfig(raw());
    expect(metrics['error-rate']).toMatchObject({ kind: 'prometheus', max: 0.03, maxRatioToBaseline: 1.5, for: 300_000, critical: true });
    expect(metrics['latency-p99']).toMatchObject({ maxRatioToBaseline: 2, for: 300_000 });
    expect(metrics['success-rate']).toMatchObject({ min: 0.95, for: 180_000 });
    expect(metrics.throughput).toMatchObject({ minRatioToBaseline: 0.5, perTrafficShare: true, for: 600_000 });
  });

  it('defaults kind, step, minimum samples, significance and tolerance', () => {
    expect(metricTemplateSchema.parse({ query: 'x{v="{{variant}}"}', max: 1 })).toMatchObject({
      kind: 'prometheus',
      window: 300_000,
      step: 15_000,
      minSamples: 50,
      significance: 0.05,
      tolerance: 0.1,
      critical: false,
      weight: 1,
    });
  });

  it('accepts an http check and rejects a bad one with a clear message', () => {
    expect(metricTemplateSchema.parse({ kind: 'http', url: 'https://{{service}}.shop/healthz', max: 0.5 })).toMatchObject({ kind: 'http', timeout: 5_000 });
    expect(errors({ probe: { kind: 'http', url: 'ftp://x/{{service}}' } })).toEqual(['metrics.probe.url: must be an http(s) URL ({{service}} may stand for the service name)']);
    expect(errors({ probe: { kind: 'http', url: 'http://x/{{variant}}' } })[0]).toContain('unknown placeholder {{variant}}');
  });

  it('checks counts queries, for against step, and the kind', () => {
    expect(errors({ e: { query: 'x{v="{{variant}}"}', max: 1, counts: { events: 'e', total: 't{v="{{variant}}"}' } } })).toEqual([
      'metrics.e.counts.events: the query must select the side with {{variant}} so canary and baseline can be compared',
    ]);
    expect(errors({ e: { query: 'x{v="{{variant}}"}', max: 1, for: '20s' } })).toEqual(['metrics.e.for: for must be a whole number of steps (step defaults to 15s)']);
    expect(errors({ e: { kind: 'graphite', query: 'x' } })[0]).toMatch(/^metrics\.e\.kind: /);
  });
});
