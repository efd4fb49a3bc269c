import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { kubernetesCluster } from '../../src/adapters/kubernetes/cluster.js';
import { httpProbe } from '../../src/adapters/http/probe.js';
import { PrometheusClient } from '../../src/adapters/prometheus/client.js';
import { openStore } from '../../src/adapters/sqlite/store.js';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { startAnalysisLoop } from '../../src/flows/analysis-loop.js';
import { createLogger } from '../../src/log.js';
import { createTelemetry } from '../../src/metrics.js';
import type { Cluster } from '../../src/ports.js';
import { typeOfKind } from '../support/kube-standin/resources.js';
import { useTempDirs } from '../support/tmp.js';
import { kubeConfigOf, startFixture, type Fixture } from './kubernetes/fixture.js';

const SERVICES = 1_000;
const tempDir = useTempDirs();

/** The example config with a thousand more services in production, none of which exists in the cluster. */
function configWithMissingServices(): Config {
  const example = parse(readFileSync('lifeguard.example.yaml', 'utf8')) as { services: Record<string, { environments: Record<string, Record<string, unknown>> }> };
  const checkout = example.services.checkout!;
  const services = { ...example.services };
  for (let i = 1; i <= SERVICES; i++) {
    const name = `svc-${String(i).padStart(4, '0')}`;
    services[name] = { ...checkout, environments: { production: { ...checkout.environments.production!, stable: name, canary: `${name}-canary`, traffic: { replicas: {} } } } };
  }
  // Prometheus is never asked: no canary of these serves traffic.
  return parseConfig({ ...example, services, prometheus: { url: 'http://127.0.0.1:9', timeout: '1s' } });
}

describe('services missing from the cluster', () => {
  let kube: Fixture;
  let cluster: Cluster;
  let config: Config;
  beforeAll(async () => {
    kube = await startFixture();
    config = configWithMissingServices();
    cluster = kubernetesCluster(config, { reads: 'watch', kubeConfig: () => kubeConfigOf(kube.kubeconfig) });
  });
  afterAll(async () => {
    await cluster?.stop?.();
    await kube?.standin.stop();
  });

  it('are logged once each when they start failing and once when they end, not at every tick, and counted on /metrics', async () => {
    const lines: { level: number; msg: string; service?: string }[] = [];
    const log = createLogger({ level: 'info', destination: new Writable({ write: (chunk, _e, done) => (lines.push(JSON.parse(String(chunk)) as (typeof lines)[number]), done()) }) });
    const store = openStore(join(tempDir(), 'lifeguard.db'));
    const metrics = createTelemetry({ processMetrics: false });
    const loop = startAnalysisLoop({ config, workloads: cluster.workloads, prometheus: new PrometheusClient({ url: config.prometheus.url, timeoutMs: 1_000 }), probe: httpProbe, audit: store.audit, metrics, log });
    try {
      const tick = (at: number) => loop.scheduler()!.tick('production every 30s', new Date(1_700_000_000_000 + at * 30_000));
      for (let i = 0; i < 3; i++) await tick(i);
      const failing = lines.filter((l) => l.msg.startsWith('cannot read the canary of a service from its cluster'));
      expect(failing).toHaveLength(SERVICES);
      expect(new Set(failing.map((l) => l.service)).size).toBe(SERVICES);
      expect(failing[0]).toMatchObject({ level: 40, msg: 'cannot read the canary of a service from its cluster; it is not judged until it can be (said again when it can)' });
      const scrape = await metrics.registry.metrics();
      expect(scrape).toContain(`lifeguard_cluster_read_failures_total{environment="production"} ${3 * SERVICES}`);
      expect(scrape).toContain(`lifeguard_services_unreadable{environment="production"} ${SERVICES}`);

      // svc-0001 appears in the cluster (a copy of checkout's Deployments): its streak ends, said once.
      const deployment = typeOfKind('Deployment');
      for (const [from, to] of [['checkout', 'svc-0001'], ['checkout-canary', 'svc-0001-canary']] as const) {
        const source = kube.standin.store.mustGet(deployment, 'shop', from);
        kube.standin.apply({ apiVersion: source.apiVersion, kind: source.kind, metadata: { name: to, namespace: 'shop', labels: source.metadata.labels }, spec: source.spec });
      }
      await new Promise((r) => setTimeout(r, 200));
      await tick(3);
      await tick(4);
      expect(lines.filter((l) => l.msg === 'the canary of a service can be read from its cluster again').map((l) => l.service)).toEqual(['svc-0001']);
      expect(lines.filter((l) => l.msg.startsWith('cannot read the canary'))).toHaveLength(SERVICES);
      expect(await metrics.registry.metrics()).toContain(`lifeguard_services_unreadable{environment="production"} ${SERVICES - 1}`);
    } finally {
      await loop.stop();
      store.close();
    }
  });
});
