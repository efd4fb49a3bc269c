import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { PrometheusClient } from '../../src/adapters/prometheus/client.js';
import { httpProbe } from '../../src/adapters/http/probe.js';
import { analyzeCanaries, canaryTarget } from '../../src/flows/canary-analysis.js';
import type { Verdict } from '../../src/domain/verdict.js';
import { FAST, SLOW, httpHistory, seeded, steady, type AppHistory } from '../support/http-history.js';
import { startPrometheus, type RunningPrometheus } from '../support/prometheus.js';

// Every canary here is judged by the example config's four metrics, as of END, against a real Prometheus
// holding 20 minutes of history written by promtool. The canary gets 25% of the traffic: 25 rps against 75.
const END = 1_700_001_200;
const MINUTE = 60;
const SHARE = 25;

const ordinary = { canary: steady(25, 0.005), baseline: steady(75, 0.005) };
const NOISY = Array.from({ length: 50 }, (_, i) => `noisy-${i}`);

const apps: AppHistory[] = [
  { app: 'healthy', ...ordinary },
  // The raw error ratio doubles 11 minutes before END, so the 5m error rate is at 2x for the last 6 minutes.
  { app: 'errors-6m', canary: { ...steady(25, 0.01), errorRatio: (ago) => (ago < 11 * MINUTE ? 0.02 : 0.01) }, baseline: steady(75, 0.01) },
  // Doubles 7 minutes before END: 2x for the last 2 minutes, over 1.5x for 4.5 minutes, under `for: 5m`.
  { app: 'errors-2m', canary: { ...steady(25, 0.01), errorRatio: (ago) => (ago < 7 * MINUTE ? 0.02 : 0.01) }, baseline: steady(75, 0.01) },
  { app: 'latency', canary: steady(25, 0.005, SLOW), baseline: steady(75, 0.005, FAST) },
  // 5 rps at a 25% share is 20 per unit of share against the baseline's 100.
  { app: 'throughput', canary: steady(5, 0.005), baseline: steady(75, 0.005) },
  // 10,000 requests per 5 minutes on each side; 3 or 40 errors on the canary, none ever on the baseline.
  { app: 'sparse-3', canary: steady(10_000 / 300, 0.0003), baseline: steady(10_000 / 300, 0) },
  { app: 'sparse-40', canary: steady(10_000 / 300, 0.004), baseline: steady(10_000 / 300, 0) },
  { app: 'no-canary', baseline: steady(75, 0.005) },
  ...NOISY.map((app, i) => ({ app, random: seeded(1000 + i), ...ordinary })),
];

let prometheus: RunningPrometheus;
let config: Config;

function configFor(services: string[]): Config {
  const example = parse(readFileSync('lifeguard.example.yaml', 'utf8')) as { services: Record<string, unknown> };
  const checkout = example.services.checkout;
  return parseConfig({ ...example, prometheus: { url: prometheus.url, timeout: '5s' }, services: Object.fromEntries(services.map((s) => [s, checkout])) });
}

async function judge(services: string[], options: { trafficShare?: number; grouped?: boolean } = {}): Promise<Map<string, Verdict>> {
  const metrics = new PrometheusClient({ url: prometheus.url, timeoutMs: 5000 });
  const targets = services.map((s) => canaryTarget(config, s, 'production', 'trafficShare' in options ? options.trafficShare : SHARE));
  const verdicts = await analyzeCanaries({ metrics, probe: httpProbe }, targets, new Date(END * 1000), { grouped: options.grouped ?? false });
  return new Map(verdicts.map((v) => [v.service, v]));
}

const metric = (verdict: Verdict | undefined, name: string) => verdict?.metrics.find((m) => m.metric === name);

beforeAll(async () => {
  prometheus = await startPrometheus(httpHistory(apps, { end: END, duration: 20 * MINUTE }));
  config = configFor(apps.map((a) => a.app));
});

afterAll(async () => {
  await prometheus?.stop();
});

describe('judging canaries from a real Prometheus', () => {
  it('passes a healthy canary, with its evidence', async () => {
    const verdict = (await judge(['healthy'])).get('healthy')!;
    expect(verdict.verdict).toBe('pass');
    expect(verdict.evaluatedAt).toBe('2023-11-14T22:33:20.000Z');
    expect(verdict.metrics.map((m) => [m.metric, m.classification])).toEqual([
      ['error-rate', 'pass'],
      ['latency-p99', 'pass'],
      ['success-rate', 'pass'],
      ['throughput', 'pass'],
    ]);
    const errors = metric(verdict, 'error-rate')!;
    expect(errors.canary).toBeCloseTo(0.005, 3);
    expect(errors.baseline).toBeCloseTo(0.005, 3);
    expect(errors.comparison).toMatchObject({ test: 'two-proportions', outcome: 'not-significant' });
    expect(errors.queries[0]).toEqual({
      purpose: 'canary',
      query: expect.stringContaining('http_requests_total{app="healthy",version="canary",status=~"5.."}[5m]'),
    });
    const throughput = metric(verdict, 'throughput')!;
    expect(throughput.trafficShare).toEqual({ canary: 25, baseline: 75 });
    expect(throughput.canary).toBeCloseTo(100, 0);
    expect(throughput.baseline).toBeCloseTo(100, 0);
    expect(metric(verdict, 'latency-p99')!.comparison).toMatchObject({ test: 'mann-whitney', canarySamples: 50, baselineSamples: 50 });
    expect(JSON.parse(JSON.stringify(verdict))).toEqual(verdict);
  });

  it('fails a canary whose error rate has been 2x the baseline for 6 minutes, naming error-rate with its values', async () => {
    const verdict = (await judge(['errors-6m'])).get('errors-6m')!;
    expect(verdict.verdict).toBe('fail');
    const errors = metric(verdict, 'error-rate')!;
    expect(errors.classification).toBe('high');
    expect(errors.canary).toBeCloseTo(0.02, 3);
    expect(errors.baseline).toBeCloseTo(0.01, 3);
    expect(errors.ratio).toBeCloseTo(2, 1);
    const rule = errors.rules.find((r) => r.rule === 'maxRatioToBaseline')!;
    expect(rule.outcome).toBe('breach');
    expect(rule.breachingForMs).toBeGreaterThanOrEqual(5 * 60_000);
    expect(verdict.reasons.join('\n')).toMatch(/error-rate high \(canary 0\.02\d*, baseline 0\.01\d*\)/);
  });

  it('does not fail the same breach held for only 2 minutes', async () => {
    const verdict = (await judge(['errors-2m'])).get('errors-2m')!;
    expect(verdict.verdict).not.toBe('fail');
    const rule = metric(verdict, 'error-rate')!.rules.find((r) => r.rule === 'maxRatioToBaseline')!;
    expect(rule.outcome).toBe('pass');
    expect(rule.breachingForMs).toBeGreaterThan(0);
    expect(rule.breachingForMs).toBeLessThan(5 * 60_000);
  });

  it('fails a p99 latency regression', async () => {
    const verdict = (await judge(['latency'])).get('latency')!;
    expect(verdict.verdict).toBe('fail');
    const latency = metric(verdict, 'latency-p99')!;
    expect(latency.classification).toBe('high');
    expect(latency.canary).toBeCloseTo(2.125, 2);
    expect(latency.baseline).toBeCloseTo(0.417, 2);
    expect(latency.comparison).toMatchObject({ test: 'mann-whitney', outcome: 'significant' });
  });

  it('fails a throughput collapse, judged per unit of traffic share', async () => {
    const verdict = (await judge(['throughput'])).get('throughput')!;
    expect(verdict.verdict).toBe('fail');
    const throughput = metric(verdict, 'throughput')!;
    expect(throughput.classification).toBe('low');
    expect(throughput.ratio).toBeCloseTo(0.2, 2);
  });

  it('passes 3 errors in 10,000 against none in 10,000: not a significant shift', async () => {
    const verdict = (await judge(['sparse-3'])).get('sparse-3')!;
    const errors = metric(verdict, 'error-rate')!;
    expect(errors.comparison).toMatchObject({ test: 'two-proportions', outcome: 'not-significant', canaryEvents: 3, baselineEvents: 0 });
    expect(errors.comparison).toMatchObject({ canaryTotal: 10_000, baselineTotal: 10_000 });
    expect(errors.baseline).toBe(0);
    expect(errors.ratio).toBeNull();
    expect(errors.classification).toBe('pass');
    expect(verdict.verdict).toBe('pass');
  });

  it('fails 40 errors in 10,000 against none, far under the 3% limit', async () => {
    const verdict = (await judge(['sparse-40'])).get('sparse-40')!;
    const errors = metric(verdict, 'error-rate')!;
    expect(errors.canary).toBeLessThan(0.03);
    expect(errors.rules.find((r) => r.rule === 'max')!.outcome).toBe('pass');
    expect(errors.comparison).toMatchObject({ test: 'two-proportions', outcome: 'significant', canaryEvents: 40, baselineEvents: 0 });
    expect(errors.classification).toBe('high');
    expect(verdict.verdict).toBe('fail');
  });

  it('is inconclusive without a canary series, saying so', async () => {
    const verdict = (await judge(['no-canary'])).get('no-canary')!;
    expect(verdict.verdict).toBe('inconclusive');
    expect(metric(verdict, 'error-rate')).toMatchObject({ classification: 'nodata', reason: expect.stringContaining('no canary series') });
  });

  it('makes throughput nodata, and the verdict inconclusive, when the traffic share is unknown', async () => {
    const verdict = (await judge(['healthy'], { trafficShare: undefined })).get('healthy')!;
    expect(metric(verdict, 'throughput')).toMatchObject({ classification: 'nodata', reason: expect.stringContaining('traffic share is unknown') });
    expect(verdict.verdict).toBe('inconclusive');
  });

  it('never fails a noisy but equal canary: 50 seeded random histories', async () => {
    const verdicts = await judge(NOISY, { grouped: true });
    const fails = [...verdicts.values()].filter((v) => v.verdict === 'fail');
    expect(fails.map((v) => `${v.service}: ${v.reasons.join('; ')}`)).toEqual([]);
    expect([...verdicts.values()].filter((v) => v.verdict === 'pass').length).toBeGreaterThanOrEqual(45);
  });

  it('judges the same way with grouped queries as with one query per canary', async () => {
    const services = ['healthy', 'errors-6m', 'errors-2m', 'latency', 'throughput', 'sparse-3', 'sparse-40', 'no-canary'];
    const [grouped, single] = await Promise.all([judge(services, { grouped: true }), judge(services, { grouped: false })]);
    const summary = (m: Map<string, Verdict>) =>
      services.map((s) => [s, m.get(s)!.verdict, m.get(s)!.metrics.map((x) => [x.classification, x.canary, x.baseline])]);
    expect(summary(grouped)).toEqual(summary(single));
    expect(metric(grouped.get('healthy'), 'error-rate')!.queries[0]!.purpose).toContain('grouped by service and side for 8 canaries');
  });
});
