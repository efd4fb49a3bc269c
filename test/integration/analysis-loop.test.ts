import { KubeConfig } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startAnalysisLoop, type AnalysisLoopDeps } from '../../src/flows/analysis-loop.js';
import { httpProbe } from '../../src/adapters/http/probe.js';
import { PrometheusClient } from '../../src/adapters/prometheus/client.js';
import { LeaseLeaderElection } from '../../src/adapters/kubernetes/leader-election.js';
import { openStore, type SqliteStore } from '../../src/adapters/sqlite/store.js';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { createLogger } from '../../src/log.js';
import { createTelemetry } from '../../src/metrics.js';
import { httpHistory, steady } from '../support/http-history.js';
import { startPrometheus, type RunningPrometheus } from '../support/prometheus.js';
import { useTempDirs } from '../support/tmp.js';
import { startFixture, type Fixture } from './kubernetes/fixture.js';

// checkout's canary serves 25% of production traffic with 4x the baseline's error ratio for the last 15 minutes.
const END = 1_700_001_200;
const history = httpHistory([{ app: 'checkout', canary: steady(25, 0.04), baseline: steady(75, 0.01) }], { end: END, duration: 20 * 60 });

const tempDir = useTempDirs();
const silent = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, done) => done() }) });

describe('the analysis loop', () => {
  let prometheus: RunningPrometheus;
  let kube: Fixture;
  let config: Config;
  let ports: () => Pick<AnalysisLoopDeps, 'workloads' | 'prometheus' | 'probe'>;

  beforeAll(async () => {
    [prometheus, kube] = await Promise.all([startPrometheus(history), startFixture()]);
    const example = parse(readFileSync('lifeguard.example.yaml', 'utf8')) as Record<string, unknown>;
    config = parseConfig({ ...example, prometheus: { url: prometheus.url, timeout: '5s' } });
    ports = () => ({ workloads: kube.cluster.workloads, prometheus: new PrometheusClient({ url: config.prometheus.url, timeoutMs: config.prometheus.timeout }), probe: httpProbe });
    // A canary goes live in production only; staging's canary keeps no pods and no traffic.
    await kube.cluster.workloads.scaleCanary(kube.production, 1);
    await kube.cluster.traffic.set(kube.production, 25);
  });
  afterAll(async () => {
    await kube?.standin.stop();
    await prometheus?.stop();
  });

  function verdictRows(store: SqliteStore) {
    return store.db
      .prepare<[], { actor: string; subject: string; detail: string }>("SELECT actor, subject, detail FROM audit_log WHERE action = 'analysis.verdict' ORDER BY id")
      .all()
      .map((r) => ({ ...r, detail: JSON.parse(r.detail) as { verdict: string; trafficShare: number; reasons: string[]; metrics: { metric: string; classification: string }[] } }));
  }

  it('judges every canary serving traffic at the tick and audits each verdict with its evidence', async () => {
    const store = openStore(join(tempDir(), 'lifeguard.db'));
    const metrics = createTelemetry({ processMetrics: false });
    const loop = startAnalysisLoop({ config, ...ports(), audit: store.audit, metrics, log: silent });
    try {
      const scheduler = loop.scheduler()!;
      expect(scheduler.stats().map((s) => s.job).sort()).toEqual(['production every 30s', 'staging every 30s']);
      await scheduler.tick('staging every 30s', new Date(END * 1000));
      expect(verdictRows(store)).toEqual([]);

      await scheduler.tick('production every 30s', new Date(END * 1000));
      const rows = verdictRows(store);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ actor: 'lifeguard', subject: 'checkout/production', detail: { verdict: 'fail', trafficShare: 25 } });
      expect(rows[0]!.detail.metrics.find((m) => m.metric === 'error-rate')?.classification).toBe('high');
      expect(store.audit.verify()).toMatchObject({ ok: true, rows: 1 });

      const scrape = await metrics.registry.metrics();
      expect(scrape).toContain('lifeguard_canary_verdicts_total{service="checkout",environment="production",verdict="fail"} 1');
      expect(scrape).toMatch(/lifeguard_analysis_duration_seconds_count\{service="checkout",environment="production"\} 1/);
    } finally {
      await loop.stop();
      store.close();
    }
  });

  it('runs only on the replica holding the lease, and hands over when it stops', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(kube.kubeconfig);
    const timing = { leaseDurationMs: 1_000, renewDeadlineMs: 600, retryPeriodMs: 100 };
    const elect = (identity: string) => new LeaseLeaderElection(kc, { namespace: 'lifeguard', name: 'lifeguard-leader', identity, ...timing });
    const [a, b] = [elect('lifeguard-a'), elect('lifeguard-b')];
    const store = openStore(join(tempDir(), 'lifeguard.db'));
    const loops = [a, b].map((leadership) =>
      startAnalysisLoop({ config, ...ports(), audit: store.audit, metrics: createTelemetry({ processMetrics: false }), log: silent, leadership }),
    );
    const waitFor = async (check: () => boolean) => {
      for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
      expect(check()).toBe(true);
    };
    try {
      expect(loops.map((l) => l.scheduler() !== undefined)).toEqual([false, false]);
      a.start();
      await waitFor(() => loops[0]!.scheduler() !== undefined);
      b.start();
      await new Promise((r) => setTimeout(r, 300));
      expect(loops.map((l) => l.scheduler() !== undefined)).toEqual([true, false]);

      await a.stop({ release: true });
      await waitFor(() => loops[1]!.scheduler() !== undefined);
      await waitFor(() => loops[0]!.scheduler() === undefined);
    } finally {
      await Promise.all(loops.map((l) => l.stop()));
      await b.stop({ release: true });
      store.close();
    }
  });
});
