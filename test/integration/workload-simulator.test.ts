import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { httpProbe } from '../../src/adapters/http/probe.js';
import { PrometheusClient } from '../../src/adapters/prometheus/client.js';
import { parseConfig } from '../../src/config/load.js';
import type { Verdict } from '../../src/domain/verdict.js';
import { analyzeCanaries, canaryTarget } from '../../src/flows/canary-analysis.js';
import { runCli } from '../support/cli.js';
import { fastConfig, fastConfigYaml } from '../support/engine-config.js';
import { typeOfKind } from '../support/kube-standin/resources.js';
import { CHECKOUT_IMAGE, checkoutDeployment, checkoutHttpRoute, checkoutVirtualService, settled } from '../support/kube-standin/seed.js';
import { KubeStandin } from '../support/kube-standin/server.js';
import { WorkloadSimulator } from '../support/kube-standin/simulator.js';
import { startScrapingPrometheus, type ScrapingPrometheus } from '../support/prometheus.js';
import { until } from '../support/until.js';

// One cluster stand-in, its workloads, and a real Prometheus scraping them every second. Each test deploys
// checkout in a namespace of its own (stable 1.4.2 on 3 pods, a canary on 1), so the tests run side by side;
// the canaries are judged by the real judge with the fast end-to-end config.

const SEED = 20_261_110;
const DEPLOYMENTS = typeOfKind('Deployment');
const VIRTUAL_SERVICES = typeOfKind('VirtualService');

let kube: KubeStandin;
let simulator: WorkloadSimulator;
let prometheus: ScrapingPrometheus;
let metrics: PrometheusClient;

beforeAll(async () => {
  kube = await KubeStandin.start({ readyDelayMs: 0 });
  simulator = await WorkloadSimulator.start(kube, { seed: SEED });
  prometheus = await startScrapingPrometheus({ targets: [simulator.target] });
  metrics = new PrometheusClient({ url: prometheus.url, timeoutMs: 5_000 });
});

afterAll(async () => {
  await prometheus?.stop();
  await simulator?.stop();
  await kube?.stop();
});

/** checkout in `namespace`: every pod ready, the canary on `canaryTag` given `canaryWeight` % by the VirtualService. */
async function deployCheckout(namespace: string, canaryTag: string, canaryWeight: number): Promise<void> {
  kube.apply(checkoutDeployment({ namespace, name: 'checkout', track: 'stable', image: `${CHECKOUT_IMAGE}:1.4.2`, replicas: 3 }));
  kube.apply(checkoutDeployment({ namespace, name: 'checkout-canary', track: 'canary', image: `${CHECKOUT_IMAGE}:${canaryTag}`, replicas: 1 }));
  kube.apply(checkoutVirtualService(namespace, canaryWeight));
  await Promise.all([settled(kube, namespace, 'checkout'), settled(kube, namespace, 'checkout-canary')]);
  const ready = (name: string) => {
    const d = kube.store.mustGet(DEPLOYMENTS, namespace, name);
    return d.status?.readyReplicas === d.spec?.replicas;
  };
  await until(() => (ready('checkout') && ready('checkout-canary')) || undefined, 10_000);
}

/** One analysis of checkout's canary in `namespace` now, as the analysis loop runs it. */
async function judge(namespace: string, trafficShare: number): Promise<Verdict> {
  const config = parseConfig(fastConfig({ prometheusUrl: prometheus.url, namespace }));
  const [verdict] = await analyzeCanaries({ metrics, probe: httpProbe }, [canaryTarget(config, 'checkout', 'production', trafficShare)], new Date());
  return verdict!;
}

const metric = (verdict: Verdict, name: string) => verdict.metrics.find((m) => m.metric === name)!;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` every 250 ms until it gives a value; after `timeoutMs` throws, saying what was last seen. */
async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs: number, lastSeen: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms; last seen: ${lastSeen()}`);
    await sleep(250);
  }
}

/** Requests per second by `version` over the last 3 s, as Prometheus computes them from its scrapes. */
async function ratesByVersion(namespace: string): Promise<Record<string, number>> {
  const outcome = await metrics.instant(`sum by (version) (rate(http_requests_total{namespace="${namespace}",app="checkout"}[3s]))`, new Date());
  if (outcome.kind !== 'vector') return {};
  return Object.fromEntries(outcome.samples.map((s) => [s.labels.version, s.value]));
}

/**
 * Waits until Prometheus sees checkout in `namespace` serve about the given requests per second on each side
 * (within 10 %); throws with the rates last seen when it does not within 20 s.
 */
async function expectRates(namespace: string, expected: { canary: number; baseline: number }): Promise<void> {
  let rates: Record<string, number> = {};
  const near = (actual: number | undefined, wanted: number) => actual !== undefined && Math.abs(actual - wanted) <= 0.1 * wanted;
  await eventually(
    async () => {
      rates = await ratesByVersion(namespace);
      return near(rates.canary, expected.canary) && near(rates.baseline, expected.baseline) ? true : undefined;
    },
    20_000,
    () => `${JSON.stringify(rates)}, expected ${JSON.stringify(expected)}`,
  );
}

async function exposition(): Promise<string> {
  const response = await fetch(`${simulator.url}/metrics`);
  return response.text();
}

const seriesOf = (text: string, namespace: string, version: string) =>
  text.split('\n').filter((line) => line.includes(`{namespace="${namespace}",app="checkout",version="${version}"`));

describe.concurrent('the workload simulator, scraped by Prometheus and judged by the real judge', () => {
  it('gets a -bad canary at 25 % failed on its error rate within 20 s, canary and baseline values in the evidence', { timeout: 60_000 }, async ({ expect }) => {
    await deployCheckout('shop-bad', '1.5.0-bad', 25);
    let last: Verdict | undefined;
    const verdict = await eventually(
      async () => {
        last = await judge('shop-bad', 25);
        return last.verdict === 'fail' ? last : undefined;
      },
      20_000,
      () => JSON.stringify(last?.reasons),
    );
    const errors = metric(verdict, 'error-rate');
    expect(errors.classification).toBe('high');
    expect(errors.canary).toBeGreaterThan(0.04);
    expect(errors.canary).toBeLessThan(0.14);
    expect(errors.baseline).toBeLessThan(0.015);
    expect(errors.rules.find((r) => r.rule === 'max')!.outcome).toBe('breach');
    expect(verdict.reasons.join('\n')).toMatch(/critical error-rate high \(canary 0\.\d+, baseline 0\.\d+\)/);

    // Its twice the latency is judged once the ten samples Mann-Whitney needs are in.
    const slow = await eventually(
      async () => {
        last = await judge('shop-bad', 25);
        return metric(last, 'latency-p99').classification === 'high' ? metric(last, 'latency-p99') : undefined;
      },
      20_000,
      () => metric(last!, 'latency-p99').reason,
    );
    expect(slow.comparison).toMatchObject({ test: 'mann-whitney', outcome: 'significant' });
    expect(slow.canary).toBeGreaterThan(0.25);
    expect(slow.baseline).toBeLessThan(0.25);
  });

  it('passes a healthy canary at 25 % on every one of ten verdicts, a second apart, once the data is in', { timeout: 90_000 }, async ({ expect }) => {
    await deployCheckout('shop-good', '1.5.0', 25);
    let last: Verdict | undefined;
    await eventually(
      async () => {
        last = await judge('shop-good', 25);
        return last.verdict === 'inconclusive' ? undefined : last;
      },
      40_000,
      () => JSON.stringify(last?.reasons),
    );
    const verdicts = [last!];
    while (verdicts.length < 10) {
      await sleep(1_000);
      verdicts.push(await judge('shop-good', 25));
    }
    const judged = verdicts.map((v) => `${v.verdict}: ${v.reasons.join('; ')}`);
    expect(judged.filter((line) => !line.startsWith('pass'))).toEqual([]);
    const errors = metric(verdicts.at(-1)!, 'error-rate');
    expect(errors.canary).toBeLessThan(0.02);
    expect(metric(verdicts.at(-1)!, 'latency-p99').ratio).toBeLessThan(1.3);
  });

  it('sends each side the share of requests the VirtualService gives it, and follows a change of weights', { timeout: 60_000 }, async () => {
    await deployCheckout('shop-weights', '1.5.0', 25);
    await expectRates('shop-weights', { canary: 50, baseline: 150 });
    const vs = kube.store.mustGet(VIRTUAL_SERVICES, 'shop-weights', 'checkout');
    kube.store.update(VIRTUAL_SERVICES, { ...vs, spec: checkoutVirtualService('shop-weights', 50).spec });
    await expectRates('shop-weights', { canary: 100, baseline: 100 });
  });

  it("splits requests by an HTTPRoute's backendRefs, and without any route by ready pods", { timeout: 60_000 }, async () => {
    await deployCheckout('shop-gateway', '1.5.0', 0);
    kube.store.delete(VIRTUAL_SERVICES, 'shop-gateway', 'checkout');
    kube.apply(checkoutHttpRoute('shop-gateway', 10));
    await deployCheckout('shop-replicas', '1.5.0', 0);
    kube.store.delete(VIRTUAL_SERVICES, 'shop-replicas', 'checkout');
    // 10 % by weight; 1 canary pod of 4 without a route.
    await Promise.all([expectRates('shop-gateway', { canary: 20, baseline: 180 }), expectRates('shop-replicas', { canary: 50, baseline: 150 })]);
  });

  it('serves the request rate its options give a service, on counters that only go up', { timeout: 30_000 }, async ({ expect }) => {
    await deployCheckout('shop-rate', '1.5.0', 0);
    const busy = await WorkloadSimulator.start(kube, { seed: SEED, requestsPerSecond: { checkout: 1_000 } });
    try {
      const served = async () => {
        const text = await (await fetch(`${busy.url}/metrics`)).text();
        const line = seriesOf(text, 'shop-rate', 'baseline').find((l) => l.startsWith('http_request_duration_seconds_count'));
        return { at: performance.now(), count: Number(line?.split(' ').at(-1)) };
      };
      const first = await served();
      await sleep(1_000);
      const second = await served();
      const third = await served();
      const rate = (second.count - first.count) / ((second.at - first.at) / 1000);
      expect(rate).toBeGreaterThan(900);
      expect(rate).toBeLessThan(1_100);
      expect(third.count).toBeGreaterThanOrEqual(second.count);
    } finally {
      await busy.stop();
    }
  });

  it('exports a ready canary at 0 % traffic with counters at rest, and nothing once it has no ready pods', { timeout: 60_000 }, async ({ expect }) => {
    await deployCheckout('shop-scaled', '1.5.0', 0);
    const served = await eventually(
      async () => {
        const text = await exposition();
        const baseline = seriesOf(text, 'shop-scaled', 'baseline').find((line) => line.includes('status="200"'));
        return Number(baseline?.split(' ').at(-1)) > 100 ? text : undefined;
      },
      10_000,
      () => 'baseline requests',
    );
    const canary = seriesOf(served, 'shop-scaled', 'canary');
    expect(canary).toContain('http_requests_total{namespace="shop-scaled",app="checkout",version="canary",status="200"} 0');
    expect(canary).toContain('http_request_duration_seconds_count{namespace="shop-scaled",app="checkout",version="canary"} 0');

    const deployment = kube.store.mustGet(DEPLOYMENTS, 'shop-scaled', 'checkout-canary');
    kube.store.update(DEPLOYMENTS, { ...deployment, spec: { ...deployment.spec, replicas: 0 } });
    let text = '';
    await eventually(
      async () => {
        text = await exposition();
        return seriesOf(text, 'shop-scaled', 'canary').length === 0 ? true : undefined;
      },
      10_000,
      () => seriesOf(text, 'shop-scaled', 'canary').join('\n'),
    );
    expect(seriesOf(text, 'shop-scaled', 'baseline').length).toBeGreaterThan(0);
  });

  it('serves metrics that promtool accepts', async ({ expect }) => {
    await deployCheckout('shop-lint', '1.5.0-slow', 10);
    const text = await exposition();
    expect(seriesOf(text, 'shop-lint', 'canary').map((line) => line.replace(/ [\d.e+-]+$/, ''))).toEqual([
      'http_requests_total{namespace="shop-lint",app="checkout",version="canary",status="200"}',
      'http_requests_total{namespace="shop-lint",app="checkout",version="canary",status="500"}',
      ...['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf'].map(
        (le) => `http_request_duration_seconds_bucket{namespace="shop-lint",app="checkout",version="canary",le="${le}"}`,
      ),
      'http_request_duration_seconds_sum{namespace="shop-lint",app="checkout",version="canary"}',
      'http_request_duration_seconds_count{namespace="shop-lint",app="checkout",version="canary"}',
    ]);
    const lint = await new Promise<{ code: number; output: string }>((resolve) => {
      const child = execFile('promtool', ['check', 'metrics'], (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, output: stdout + stderr }));
      child.stdin!.end(text);
    });
    expect(lint).toEqual({ code: 0, output: '' });
  });

  it('keeps what Prometheus scraped, and its port, across a pause and a resume', { timeout: 60_000 }, async ({ expect }) => {
    await deployCheckout('shop-outage', '1.5.0', 25);
    const own = await startScrapingPrometheus({ targets: [simulator.target] });
    try {
      const client = new PrometheusClient({ url: own.url, timeoutMs: 2_000, retries: 0 });
      const query = 'sum(http_requests_total{namespace="shop-outage"})';
      let count = 0;
      const scraped = async () => {
        const outcome = await client.instant(query, new Date());
        count = outcome.kind === 'vector' ? (outcome.samples[0]?.value ?? 0) : 0;
        return count > 0 ? count : undefined;
      };
      const before = await eventually(scraped, 15_000, () => `${count} requests`);
      const pausedAt = new Date();
      await own.pause();
      expect((await client.instant(query, new Date())).kind).toBe('unreachable');
      await own.resume();
      const kept = await client.instant(query, pausedAt);
      expect(kept.kind === 'vector' && kept.samples[0]!.value).toBeGreaterThanOrEqual(before);
      const resumed = await eventually(async () => ((await scraped()) ?? 0) > before ? count : undefined, 15_000, () => `${count} requests`);
      expect(resumed).toBeGreaterThan(before);
    } finally {
      await own.stop();
    }
  });

  it('writes a config that `lifeguard config check` accepts', async ({ expect }) => {
    const dir = await mkdtemp(join(tmpdir(), 'lifeguard-fast-config-'));
    try {
      const file = join(dir, 'lifeguard.yaml');
      await writeFile(file, fastConfigYaml({ prometheusUrl: 'http://127.0.0.1:9090' }));
      const result = await runCli(['config', 'check', '--config', file]);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
