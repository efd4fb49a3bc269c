import type { SqliteStore } from '../adapters/sqlite/store.js';
import type { Config } from '../config/schema.js';
import type { TrafficShareSource } from '../flows/canary-analysis.js';
import type { ReleaseEngine } from '../flows/operations.js';
import type { Cluster, Metrics, OperationHistory, OperationRepository, Probe } from '../ports.js';

/*
 * The CLI's composition root: the adapters its commands use, built when a command runs. Each is imported on
 * demand, so `--help` and the audit commands never load client libraries they do not use.
 */

/** PromQL against the config's Prometheus. */
export async function prometheus(config: Config): Promise<Metrics> {
  const { PrometheusClient } = await import('../adapters/prometheus/client.js');
  return new PrometheusClient({ url: config.prometheus.url, timeoutMs: config.prometheus.timeout, concurrency: config.prometheus.concurrency });
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
export async function operationHistory(store: SqliteStore): Promise<OperationHistory> {
  const { SqliteOperationHistory } = await import('../adapters/sqlite/operation-history.js');
  return new SqliteOperationHistory(store.db);
}

/**
 * The release engine as `lifeguard rollback` runs it: the bot's store, cluster and Prometheus, no Slack. Its
 * messages go to the outbox, which a running `lifeguard start` delivers (at once, or once Slack is back).
 */
export async function breakGlassEngine(config: Config, store: SqliteStore, env: NodeJS.ProcessEnv): Promise<{ engine: ReleaseEngine; cluster: Cluster; operations: OperationRepository }> {
  const [{ pino }, { sqliteRepositories }, { kubernetesCluster }, { kubeConfigFor }, { ReleaseEngine }, { outboxNotices }, { stableJudge }, { recordVerdicts }, { createTelemetry }, { createLogger }] =
    await Promise.all([
      import('pino'),
      import('../adapters/sqlite/repositories.js'),
      import('../adapters/kubernetes/cluster.js'),
      import('../adapters/kubernetes/kubeconfig.js'),
      import('../flows/operations.js'),
      import('../flows/operation-notices.js'),
      import('../flows/self-analysis.js'),
      import('../flows/record-verdicts.js'),
      import('../metrics.js'),
      import('../log.js'),
    ]);
  const repositories = sqliteRepositories(store);
  const metrics = createTelemetry({ processMetrics: false });
  const cluster = kubernetesCluster(config, { kubeConfig: (name) => kubeConfigFor(config, name, env) });
  const engine = new ReleaseEngine({
    config,
    store: repositories,
    cluster,
    clock: { now: () => new Date() },
    // Nobody clicks in a terminal: the CLI uses no control that needs a role.
    roles: { rolesOf: async () => [] },
    notices: outboxNotices({ config, outbox: repositories.outbox, waiters: repositories.waiters, clock: { now: () => new Date() }, kick: () => undefined }),
    judgeStable: stableJudge(config, await prometheus(config), await probe()),
    recordVerdict: async (verdict) => void (await recordVerdicts(store.audit, metrics, [verdict])),
    // The terminal shows progress and each cluster error; JSON logs on stderr only when LOG_LEVEL asks.
    log: createLogger({ level: env.LOG_LEVEL ?? 'silent', secrets: [env.LIFEGUARD_AUDIT_KEY], destination: pino.destination(2) }),
    metrics,
  });
  return { engine, cluster, operations: repositories.operations };
}
