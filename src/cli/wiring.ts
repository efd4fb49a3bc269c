import type { SqliteStore } from '../adapters/sqlite/store.js';
import type { Config } from '../config/schema.js';
import type { TrafficShareSource } from '../flows/canary-analysis.js';
import type { Metrics, Probe, ReleaseHistory } from '../ports.js';

/*
 * The CLI's composition root: the adapters its commands use, built when a command runs. Each is imported on
 * demand, so `--help` and the audit commands never load client libraries they do not use.
 */

/** PromQL against the config's Prometheus. */
export async function prometheus(config: Config): Promise<Metrics> {
  const { PrometheusClient } = await import('../adapters/prometheus/client.js');
  return new PrometheusClient({ url: config.prometheus.url, timeoutMs: config.prometheus.timeout });
}

export async function probe(): Promise<Probe> {
  return (await import('../adapters/http/probe.js')).httpProbe;
}

/** The canary's share of traffic, read once by hand: give up within seconds when the cluster is away, rather than retry as the bot does. */
export const trafficShare: TrafficShareSource = async (service, environment, config) => {
  const [{ kubernetesCluster }, { clusterTrafficShare }] = await Promise.all([import('../adapters/kubernetes/cluster.js'), import('../flows/cluster-readers.js')]);
  return clusterTrafficShare(kubernetesCluster(config, { retry: { attempts: 2, requestTimeoutMs: 3_000 } }).traffic)(service, environment, config);
};

/** Releases, rollbacks and hotfixes recorded in an open database (see with-store.ts, which opens it). */
export async function releaseHistory(store: SqliteStore): Promise<ReleaseHistory & { recorded(): { service: string; environment: string }[] }> {
  const { SqliteReleaseHistory } = await import('../adapters/sqlite/releases.js');
  return new SqliteReleaseHistory(store.db);
}
