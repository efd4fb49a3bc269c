import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { PrometheusClient } from '../../src/adapters/prometheus/client.js';
import { httpProbe } from '../../src/adapters/http/probe.js';
import { analyzeAgainstPast, selfAnalysisTarget } from '../../src/flows/self-analysis.js';
import type { Verdict } from '../../src/domain/verdict.js';
import { FAST, SLOW, httpHistory, seeded, steady, type AppHistory } from '../support/http-history.js';
import { freePort, startPrometheus, type RunningPrometheus } from '../support/prometheus.js';

// Each service's stable Deployment (version="baseline", all of the traffic) is judged by the example config's
// four metrics as of AT against itself before SINCE, from a real Prometheus holding 45 minutes of history
// written by promtool. Twenty minutes after the change, the range judged now (12.25m at most, plus a 5m rate
// window) lies wholly after it.
const AT = 1_700_004_000;
const MINUTE = 60;
const SINCE = AT - 20 * MINUTE;
const iso = (unix: number) => new Date(unix * 1000).toISOString();

const changed = (before: number, after: number) => (ago: number) => (ago < 20 * MINUTE ? after : before);
const NOISY = Array.from({ length: 5 }, (_, i) => `noisy-${i}`);

const apps: AppHistory[] = [
  { app: 'errors', baseline: { ...steady(100, 0.005), errorRatio: changed(0.005, 0.08) } },
  { app: 'latency', baseline: { ...steady(100, 0.005), latency: (ago) => (ago < 20 * MINUTE ? SLOW : FAST) } },
  ...NOISY.map((app, i) => ({ app, random: seeded(2000 + i), baseline: steady(100, 0.005) })),
];
// A brand-new service: its first scrape is at SINCE, so there is nothing before the change to compare with.
const brandNew: AppHistory = { app: 'brand-new', baseline: steady(100, 0.005) };

let prometheus: RunningPrometheus;
let config: Config;

function configFor(url: string, services: string[]): Config {
  const example = parse(readFileSync('lifeguard.example.yaml', 'utf8')) as { services: Record<string, unknown> };
  const checkout = example.services.checkout;
  return parseConfig({ ...example, prometheus: { url, timeout: '5s' }, services: Object.fromEntries(services.map((s) => [s, checkout])) });
}

async function judge(services: string[], url = prometheus.url): Promise<Map<string, Verdict>> {
  const metrics = new PrometheusClient({ url, timeoutMs: 5000, retries: 0, backoffMs: 10 });
  const targets = services.map((s) => selfAnalysisTarget(config, s, 'production', new Date(SINCE * 1000)));
  const verdicts = await analyzeAgainstPast({ metrics, probe: httpProbe }, targets, new Date(AT * 1000));
  return new Map(verdicts.map((v) => [v.service, v]));
}

const metric = (verdict: Verdict | undefined, name: string) => verdict?.metrics.find((m) => m.metric === name);


beforeAll(async () => {
  const history = httpHistory(apps, { end: AT, duration: 45 * MINUTE }).replace(/# EOF\n$/, '');
  prometheus = await startPrometheus(history + httpHistory([brandNew], { end: AT, duration: 20 * MINUTE }));
  config = configFor(prometheus.url, [...apps, brandNew].map((a) => a.app));
});

afterAll(async () => {
  await prometheus?.stop();
});

describe('judging a Deployment against its own past, from a real Prometheus', () => {
  it('fails a stable whose error rate went from 0.5% to 8% after the change, with both values and both ranges', async () => {
    const verdict = (await judge(['errors'])).get('errors')!;
    expect(verdict.verdict).toBe('fail');
    expect(verdict.evaluatedAt).toBe(iso(AT));
    expect(verdict.trafficShare).toBe(100);
    const errors = metric(verdict, 'error-rate')!;
    expect(errors.classification).toBe('high');
    expect(errors.canary).toBeCloseTo(0.08, 3);
    expect(errors.baseline).toBeCloseTo(0.005, 3);
    expect(errors.rules.find((r) => r.rule === 'maxRatioToBaseline')).toMatchObject({ outcome: 'breach' });
    expect(errors.comparison).toMatchObject({ test: 'two-proportions', outcome: 'significant' });
    expect(errors.range).toEqual({ start: iso(AT - 5 * MINUTE), end: iso(AT), stepSeconds: 15 });
    const query = 'http_requests_total{app="errors",version="baseline",status=~"5.."}[5m]';
    expect(errors.queries.slice(0, 2)).toEqual([
      { purpose: `canary: baseline now, ${iso(AT - 5 * MINUTE)} to ${iso(AT)}`, query: expect.stringContaining(query) },
      {
        purpose: `baseline: same series before ${iso(SINCE)}, ${iso(SINCE - 5 * MINUTE)} to ${iso(SINCE)}, moved 20m forward to line up with now`,
        query: expect.stringContaining(query),
      },
    ]);
    expect(errors.queries.map((q) => q.purpose.split(':')[0])).toEqual(['canary', 'baseline', 'events count, canary', 'events count, baseline', 'total count, canary', 'total count, baseline']);
    expect(verdict.reasons.join('\n')).toMatch(/error-rate high \(canary 0\.0[78]\d*, baseline 0\.005\d*\)/);
  });

  it('passes unchanged, noisy behaviour before and after: five seeded histories', async () => {
    const verdicts = await judge(NOISY);
    expect([...verdicts.values()].map((v) => [v.service, v.verdict, v.reasons])).toEqual(NOISY.map((s) => [s, 'pass', expect.any(Array)]));
    const noisy = verdicts.get('noisy-0')!;
    expect(noisy.metrics.map((m) => [m.metric, m.classification])).toEqual([
      ['error-rate', 'pass'],
      ['latency-p99', 'pass'],
      ['success-rate', 'pass'],
      ['throughput', 'pass'],
    ]);
    // Per-share throughput compares the totals: the whole service both times.
    const throughput = metric(noisy, 'throughput')!;
    expect(throughput.trafficShare).toEqual({ canary: 100, baseline: 100 });
    expect(throughput.canary).toBeGreaterThan(80);
    expect(throughput.canary).toBeLessThan(120);
    expect(throughput.ratio).toBeCloseTo(1, 1);
    expect(metric(noisy, 'latency-p99')!.comparison).toMatchObject({ test: 'mann-whitney', canarySamples: 50, baselineSamples: 50 });
  });

  it('fails a p99 latency that went up after the change', async () => {
    const verdict = (await judge(['latency'])).get('latency')!;
    expect(verdict.verdict).toBe('fail');
    const latency = metric(verdict, 'latency-p99')!;
    expect(latency.classification).toBe('high');
    expect(latency.canary).toBeCloseTo(2.125, 2);
    expect(latency.baseline).toBeCloseTo(0.417, 2);
    expect(latency.comparison).toMatchObject({ test: 'mann-whitney', outcome: 'significant' });
    expect(latency.rules.find((r) => r.rule === 'maxRatioToBaseline')!.breachingForMs).toBeGreaterThanOrEqual(5 * 60_000);
    expect(metric(verdict, 'error-rate')!.classification).toBe('pass');
  });

  it('is inconclusive, never failing, for a brand-new service with nothing before the change', async () => {
    const verdict = (await judge(['brand-new'])).get('brand-new')!;
    expect(verdict.verdict).toBe('inconclusive');
    expect(metric(verdict, 'error-rate')).toMatchObject({ classification: 'nodata', reason: expect.stringContaining('no baseline series') });
    expect(metric(verdict, 'throughput')!.classification).toBe('nodata');
    // The bound that needs no past is still judged on the data now.
    expect(metric(verdict, 'success-rate')).toMatchObject({ classification: 'pass', canary: expect.closeTo(0.995, 3) });
  });

  it('is inconclusive, naming the cause, when Prometheus is unreachable', async () => {
    const verdict = (await judge(['errors'], `http://127.0.0.1:${await freePort()}`)).get('errors')!;
    expect(verdict.verdict).toBe('inconclusive');
    expect(verdict.metrics.every((m) => m.classification === 'error' && m.reason.includes('unreachable'))).toBe(true);
  });

  it('refuses a change that has not begun before the evaluation time, before asking Prometheus anything', async () => {
    const target = selfAnalysisTarget(config, 'errors', 'production', new Date(AT * 1000));
    const metrics = {
      instant: () => Promise.reject(new Error('no query expected')),
      range: () => Promise.reject(new Error('no query expected')),
    };
    await expect(analyzeAgainstPast({ metrics, probe: httpProbe }, [target], new Date(AT * 1000 + 500))).rejects.toThrow(/no past to compare with/);
  });
});
