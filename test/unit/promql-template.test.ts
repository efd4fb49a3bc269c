import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { grouping, renderGroupedQuery, renderQuery } from '../../src/domain/promql-template.js';

const example = (parse(readFileSync('lifeguard.example.yaml', 'utf8')) as { metrics: Record<string, { query: string }> }).metrics;

describe('renderQuery', () => {
  it('fills service, side and window', () => {
    expect(renderQuery(example.throughput!.query, { service: 'checkout', variant: 'canary', windowMs: 60_000 })).toBe(
      'sum(rate(http_requests_total{app="checkout",version="canary"}[1m]))',
    );
  });
});

describe('grouped queries', () => {
  it('groups every example metric by app and version', () => {
    for (const { query } of Object.values(example)) expect(grouping(query)).toEqual({ serviceLabel: 'app', variantLabel: 'version' });
  });

  it('keeps the grouping labels through every aggregation', () => {
    const query = renderGroupedQuery(example['latency-p99']!.query, { serviceLabel: 'app', variantLabel: 'version' }, ['a', 'b'], 300_000);
    expect(query).toBe(
      'histogram_quantile(0.99, sum by (le, app, version) (rate(http_request_duration_seconds_bucket{app=~"a|b",version=~"canary|baseline"}[5m])))',
    );
    const errors = renderGroupedQuery(example['error-rate']!.query, { serviceLabel: 'app', variantLabel: 'version' }, ['a'], 300_000);
    expect(errors.match(/sum by \(app, version\) \(/g)).toHaveLength(3);
  });

  it('declines queries whose meaning grouping would change', () => {
    expect(grouping('topk(1, x{app="{{service}}",version="{{variant}}"})')).toBeUndefined();
    expect(grouping('sum without (pod) (x{app="{{service}}",version="{{variant}}"})')).toBeUndefined();
    expect(grouping('sum(x{app="{{service}}",version="{{variant}}"}) or vector(0)')).toBeUndefined();
    expect(grouping('sum(x{job=~"{{service}}-.*",version="{{variant}}"})')).toBeUndefined();
    expect(grouping('sum(x{app="{{service}}",version="{{variant}}"}) / sum(y{service="{{service}}",version="{{variant}}"})')).toBeUndefined();
  });
});
