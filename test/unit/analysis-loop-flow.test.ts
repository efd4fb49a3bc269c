import { Writable } from 'node:stream';
import { afterEach, describe, expect, test } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { ServiceState, ServiceTarget } from '../../src/domain/cluster-state.js';
import { startAnalysisLoop, type AnalysisLoop } from '../../src/flows/analysis-loop.js';
import { createLogger } from '../../src/log.js';
import { createTelemetry } from '../../src/metrics.js';
import type { AuditEntry, AuditRecord, Leadership, Metrics, Workloads } from '../../src/ports.js';
import { deploymentOf, revision } from '../support/cluster-fixtures.js';

/*
 * The canary-analysis flow against in-memory ports: which canaries it judges, what it records, and that only
 * the leader judges. The real adapters are exercised in test/integration/analysis-loop.test.ts.
 */

const config = loadConfig('lifeguard.example.yaml', {});
const AT = new Date('2026-11-20T10:00:00Z');
const RUNNING = revision(3, '1.5.0');

/** Workloads as a map from `service/environment` to the canary's replicas and share of traffic, or a failure. */
function fakeWorkloads(cluster: Record<string, { canaryReplicas: number; share: number } | Error>): Workloads {
  const refuse = () => Promise.reject(new Error('the analysis flow never writes to the cluster'));
  return {
    readState: async (target: ServiceTarget): Promise<ServiceState> => {
      const entry = cluster[`${target.service}/${target.environment}`];
      if (!entry) throw new Error(`no ${target.service}/${target.environment} in this fake cluster`);
      if (entry instanceof Error) throw entry;
      return {
        service: target.service,
        environment: target.environment,
        stable: deploymentOf(RUNNING),
        canary: deploymentOf(RUNNING, 'checkout-canary', entry.canaryReplicas),
        history: [],
        traffic: { stable: 100 - entry.share, canary: entry.share, source: 'istio' },
      };
    },
    setCanaryImage: refuse,
    scaleCanary: refuse,
    promote: refuse,
    setStableImage: refuse,
    rollback: refuse,
    waitForRollout: refuse,
    gatherEvidence: refuse,
  };
}

/** Prometheus that cannot be reached: every metric is `error`, so every verdict is inconclusive, never fail. */
const unreachable: Metrics = {
  instant: async () => ({ kind: 'unreachable', message: 'connect ECONNREFUSED 127.0.0.1:9090', warnings: [] }),
  range: async () => ({ kind: 'unreachable', message: 'connect ECONNREFUSED 127.0.0.1:9090', warnings: [] }),
};

function memoryAudit() {
  const rows: AuditEntry[] = [];
  return {
    rows,
    appendDurable: async (entry: AuditEntry): Promise<AuditRecord> => {
      rows.push(entry);
      return { ...entry, id: rows.length, at: AT.toISOString(), prevHash: '', hash: '' };
    },
  };
}

function memoryLog() {
  const lines: { msg: string; service?: string }[] = [];
  const log = createLogger({ level: 'info', destination: new Writable({ write: (chunk, _e, done) => (lines.push(JSON.parse(String(chunk)) as { msg: string }), done()) }) });
  return { log, lines };
}

/** Leadership switched by hand. */
function manualLeadership(leader: boolean): Leadership & { set(leader: boolean): void } {
  const listeners: ((leader: boolean) => void)[] = [];
  const controller = new AbortController();
  return {
    isLeader: () => leader,
    signal: controller.signal,
    onChange: (listener) => void listeners.push(listener),
    start: () => undefined,
    stop: async () => undefined,
    set(next) {
      leader = next;
      for (const listener of listeners) listener(next);
    },
  };
}

let loop: AnalysisLoop | undefined;
afterEach(async () => {
  await loop?.stop();
  loop = undefined;
});

describe('the canary-analysis flow', () => {
  test('judges only canaries that have pods and a share of traffic, records each verdict and counts it', async () => {
    const audit = memoryAudit();
    const metrics = createTelemetry({ processMetrics: false });
    const { log } = memoryLog();
    loop = startAnalysisLoop({
      config,
      workloads: fakeWorkloads({ 'checkout/production': { canaryReplicas: 1, share: 25 }, 'checkout/staging': { canaryReplicas: 1, share: 0 } }),
      prometheus: unreachable,
      probe: async () => ({ kind: 'unreachable', message: 'no network in this test' }),
      audit,
      metrics,
      log,
    });
    await loop.scheduler()!.tick('staging every 30s', AT);
    expect(audit.rows).toEqual([]);

    await loop.scheduler()!.tick('production every 30s', AT);
    expect(audit.rows).toHaveLength(1);
    expect(audit.rows[0]).toMatchObject({ actor: 'lifeguard', action: 'analysis.verdict', subject: 'checkout/production', detail: { verdict: 'inconclusive', trafficShare: 25 } });
    expect(await metrics.registry.metrics()).toContain('lifeguard_canary_verdicts_total{service="checkout",environment="production",verdict="inconclusive"} 1');
  });

  test('a service whose cluster cannot be read is logged and skipped; the tick still ends', async () => {
    const audit = memoryAudit();
    const { log, lines } = memoryLog();
    loop = startAnalysisLoop({
      config,
      workloads: fakeWorkloads({ 'checkout/production': new Error('Deployment shop/checkout-canary not found') }),
      prometheus: unreachable,
      probe: async () => ({ kind: 'unreachable', message: 'no network in this test' }),
      audit,
      metrics: createTelemetry({ processMetrics: false }),
      log,
    });
    await loop.scheduler()!.tick('production every 30s', AT);
    expect(audit.rows).toEqual([]);
    expect(lines.filter((l) => l.msg.startsWith('cannot read the canary'))).toEqual([expect.objectContaining({ service: 'checkout' })]);
  });

  test('judges nothing while another replica leads, and starts the moment this one leads', async () => {
    const leadership = manualLeadership(false);
    loop = startAnalysisLoop({
      config,
      workloads: fakeWorkloads({ 'checkout/production': { canaryReplicas: 1, share: 25 } }),
      prometheus: unreachable,
      probe: async () => ({ kind: 'unreachable', message: 'no network in this test' }),
      audit: memoryAudit(),
      metrics: createTelemetry({ processMetrics: false }),
      log: memoryLog().log,
      leadership,
    });
    expect(loop.scheduler()).toBeUndefined();
    leadership.set(true);
    expect(loop.scheduler()?.stats().map((s) => s.job).sort()).toEqual(['production every 30s', 'staging every 30s']);
    leadership.set(false);
    await new Promise((resolve) => setImmediate(resolve));
    expect(loop.scheduler()).toBeUndefined();
  });
});
