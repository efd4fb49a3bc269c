import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PrometheusClient } from '../../src/adapters/prometheus/client.js';
import { IncrementalRangeCache } from '../../src/adapters/prometheus/range-cache.js';
import { httpProbe } from '../../src/adapters/http/probe.js';
import { parseConfig } from '../../src/config/load.js';
import { singleSeries, singleValue } from '../../src/domain/query-outcome.js';
import { analyzeCanaries, canaryTarget } from '../../src/flows/canary-analysis.js';
import type { Metrics } from '../../src/ports.js';
import { httpHistory, steady } from '../support/http-history.js';
import { startFaultyProxy } from '../support/faulty-proxy.js';
import { startPrometheus, type RunningPrometheus } from '../support/prometheus.js';

const END = 1_700_001_200;
const at = new Date(END * 1000);
const history = httpHistory([{ app: 'checkout', canary: steady(25, 0.005), baseline: steady(75, 0.005) }], { end: END, duration: 20 * 60 });
const canaryRate = 'sum(rate(http_requests_total{app="checkout",version="canary"}[5m]))';

let prometheus: RunningPrometheus;

beforeAll(async () => {
  prometheus = await startPrometheus(history);
});
afterAll(async () => {
  await prometheus?.stop();
});

const client = (url: string, timeoutMs = 5000) => new PrometheusClient({ url, timeoutMs, retries: 2, backoffMs: 10 });

describe('PrometheusClient against a real Prometheus', () => {
  it('reads one value', async () => {
    const outcome = singleValue(await client(prometheus.url).instant(canaryRate, at));
    expect(outcome.kind).toBe('value');
    expect(outcome.kind === 'value' && outcome.value).toBeCloseTo(25, 6);
  });

  it('reads a range as one series at every step', async () => {
    const outcome = singleSeries(await client(prometheus.url).range(canaryRate, { start: new Date(at.getTime() - 60_000), end: at, stepMs: 15_000 }));
    expect(outcome.kind).toBe('series');
    expect(outcome.kind === 'series' && outcome.points.map(([t]) => t)).toEqual([END - 60, END - 45, END - 30, END - 15, END]);
  });

  it('tells an empty result apart as nodata', async () => {
    expect(singleValue(await client(prometheus.url).instant('sum(rate(http_requests_total{app="nobody"}[5m]))', at))).toEqual({ kind: 'nodata', warnings: [] });
  });

  it('tells NaN and +Inf apart', async () => {
    const nan = singleValue(await client(prometheus.url).instant(`0 * ${canaryRate} / 0`, at));
    const inf = singleValue(await client(prometheus.url).instant(`${canaryRate} / 0`, at));
    expect(nan).toMatchObject({ kind: 'nonfinite', value: 'NaN' });
    expect(inf).toMatchObject({ kind: 'nonfinite', value: '+Inf' });
  });

  it('reports several series where one was expected, with their labels', async () => {
    const outcome = singleValue(await client(prometheus.url).instant('sum by (version) (rate(http_requests_total{app="checkout"}[5m]))', at));
    expect(outcome.kind).toBe('multiple');
    expect(outcome.kind === 'multiple' && outcome.labels).toEqual(expect.arrayContaining([{ version: 'canary' }, { version: 'baseline' }]));
  });

  it("reports a query error with Prometheus's message, without retrying", async () => {
    const proxy = await startFaultyProxy(prometheus.url, () => ({ kind: 'forward' }));
    try {
      const outcome = await client(proxy.url).instant('rate(http_requests_total)', at);
      expect(outcome).toMatchObject({ kind: 'error', errorType: 'bad_data', message: expect.stringContaining('range vector') });
      expect(proxy.requests()).toBe(1);
    } finally {
      await proxy.close();
    }
  });

  it('retries a 5xx with backoff and then answers', async () => {
    const proxy = await startFaultyProxy(prometheus.url, (n) =>
      n <= 2 ? { kind: 'answer', status: 503, body: { status: 'error', errorType: 'unavailable', error: 'TSDB not ready' } } : { kind: 'forward' },
    );
    try {
      const outcome = singleValue(await client(proxy.url).instant(canaryRate, at));
      expect(outcome.kind).toBe('value');
      expect(proxy.requests()).toBe(3);
    } finally {
      await proxy.close();
    }
  });

  it('gives up after the bounded retries on a persistent 5xx', async () => {
    const proxy = await startFaultyProxy(prometheus.url, () => ({ kind: 'answer', status: 502, body: '<html>bad gateway</html>' }));
    try {
      const outcome = await client(proxy.url).instant(canaryRate, at);
      expect(outcome).toMatchObject({ kind: 'unreachable', message: expect.stringContaining('HTTP 502') });
      expect(proxy.requests()).toBe(3);
    } finally {
      await proxy.close();
    }
  });

  it('times out a slow answer, after retrying', async () => {
    const proxy = await startFaultyProxy(prometheus.url, () => ({ kind: 'delay', ms: 2000 }));
    try {
      const outcome = await client(proxy.url, 200).instant(canaryRate, at);
      expect(outcome).toMatchObject({ kind: 'timeout', message: expect.stringContaining('within 200 ms') });
      expect(proxy.requests()).toBe(3);
    } finally {
      await proxy.close();
    }
  });

  it('reports an unreachable server', async () => {
    const proxy = await startFaultyProxy(prometheus.url, () => ({ kind: 'forward' }));
    const url = proxy.url;
    await proxy.close();
    expect(await client(url).instant(canaryRate, at)).toMatchObject({ kind: 'unreachable', message: expect.stringContaining('cannot reach Prometheus') });
  });

  it('keeps the warnings Prometheus sends', async () => {
    const proxy = await startFaultyProxy(prometheus.url, () => ({ kind: 'rewrite', edit: (body) => ({ ...body, warnings: ['remote read of eu-1 failed'] }) }));
    try {
      expect(singleValue(await client(proxy.url).instant(canaryRate, at))).toMatchObject({ kind: 'value', warnings: ['remote read of eu-1 failed'] });
    } finally {
      await proxy.close();
    }
  });
});

describe('IncrementalRangeCache against a real Prometheus', () => {
  it('answers consecutive ticks exactly as full queries do, asking only for the newest steps', async () => {
    const direct = client(prometheus.url);
    const asked: number[] = [];
    const counting = {
      instant: direct.instant.bind(direct),
      range: (q: string, r: { start: Date; end: Date; stepMs: number }) => {
        asked.push((r.end.getTime() - r.start.getTime()) / r.stepMs + 1);
        return direct.range(q, r);
      },
    };
    const cache = new IncrementalRangeCache(counting, { refreshMs: 30_000 });
    const query = 'sum by (version, status) (rate(http_requests_total{app="checkout"}[5m]))';
    const sorted = (o: Awaited<ReturnType<typeof direct.range>>) => (o.kind === 'matrix' ? [...o.series].sort((a, b) => JSON.stringify(a.labels).localeCompare(JSON.stringify(b.labels))) : o);
    for (let tick = 4; tick >= 0; tick--) {
      const end = new Date((END - tick * 30) * 1000);
      const range = { start: new Date(end.getTime() - 600_000), end, stepMs: 15_000 };
      expect(sorted(await cache.range(query, range))).toEqual(sorted(await direct.range(query, range)));
    }
    // The first tick asks for all 41 steps; each later one for the 2 new steps and the 2 refreshed.
    expect(asked).toEqual([41, 5, 5, 5, 5]);
  });

  it('forgets a query that failed and asks for the whole range again', async () => {
    let failing = false;
    const proxy = await startFaultyProxy(prometheus.url, () =>
      failing ? { kind: 'answer', status: 422, body: { status: 'error', errorType: 'execution', error: 'query processing would load too many samples' } } : { kind: 'forward' },
    );
    try {
      const real = client(proxy.url);
      const asked: number[] = [];
      const counting: Metrics = {
        instant: (q, at) => real.instant(q, at),
        range: (q, r) => {
          asked.push((r.end.getTime() - r.start.getTime()) / r.stepMs + 1);
          return real.range(q, r);
        },
      };
      const cache = new IncrementalRangeCache(counting);
      const range = (ago: number) => ({ start: new Date((END - ago - 300) * 1000), end: new Date((END - ago) * 1000), stepMs: 15_000 });
      await cache.range(canaryRate, range(60));
      failing = true;
      expect(await cache.range(canaryRate, range(30))).toMatchObject({ kind: 'error', errorType: 'execution' });
      failing = false;
      expect((await cache.range(canaryRate, range(0))).kind).toBe('matrix');
      expect(asked).toEqual([21, 7, 21]);
    } finally {
      await proxy.close();
    }
  });
});

describe('a verdict when Prometheus misbehaves', () => {
  const config = () => {
    const example = parse(readFileSync('lifeguard.example.yaml', 'utf8')) as Record<string, unknown>;
    return parseConfig(example);
  };
  const analyze = (metrics: Metrics, cfg = config()) =>
    analyzeCanaries({ metrics, probe: httpProbe }, [canaryTarget(cfg, 'checkout', 'production', 25)], at).then((v) => v[0]!);

  it('passes when Prometheus answers', async () => {
    expect((await analyze(client(prometheus.url))).verdict).toBe('pass');
  });

  it('is inconclusive with the reason when Prometheus stops mid-run', async () => {
    const doomed = await startPrometheus(history);
    const real = client(doomed.url);
    let first = true;
    let stopped!: () => void;
    const afterStop = new Promise<void>((resolve) => (stopped = resolve));
    // The first query is answered, then the real server stops; every later query finds nobody listening.
    const stopping: Metrics = {
      instant: (query, time) => real.instant(query, time),
      range: async (query, range) => {
        if (!first) return afterStop.then(() => real.range(query, range));
        first = false;
        const outcome = await real.range(query, range);
        await doomed.stop();
        stopped();
        return outcome;
      },
    };
    const verdict = await analyze(stopping, config());
    await doomed.stop();
    expect(verdict.verdict).toBe('inconclusive');
    expect(verdict.metrics.some((m) => m.classification === 'error' && /unreachable: cannot reach Prometheus/.test(m.reason))).toBe(true);
    expect(verdict.reasons.join('\n')).toContain('cannot reach Prometheus');
  });

  it('is inconclusive with the reason when Prometheus is slower than the timeout', async () => {
    const proxy = await startFaultyProxy(prometheus.url, () => ({ kind: 'delay', ms: 1500 }));
    try {
      const verdict = await analyze(new PrometheusClient({ url: proxy.url, timeoutMs: 150, retries: 1, backoffMs: 10 }));
      expect(verdict.verdict).toBe('inconclusive');
      expect(verdict.metrics.every((m) => m.classification === 'error' && m.reason.includes('timeout'))).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it('is inconclusive with the reason when Prometheus answers a query error', async () => {
    const example = parse(readFileSync('lifeguard.example.yaml', 'utf8')) as { metrics: Record<string, Record<string, unknown>> };
    example.metrics['latency-p99']!.query = 'histogram_quantile(0.99, rate(http_request_duration_seconds_bucket{app="{{service}}",version="{{variant}}"}))';
    const verdict = await analyze(client(prometheus.url), parseConfig(example));
    expect(verdict.verdict).toBe('inconclusive');
    const latency = verdict.metrics.find((m) => m.metric === 'latency-p99')!;
    expect(latency.classification).toBe('error');
    expect(latency.reason).toMatch(/canary: query error \(bad_data\): .*range vector/);
  });
});
