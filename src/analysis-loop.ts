import type { Logger } from 'pino';
import type { Config } from './config/schema.js';
import { analyzeCanaries } from './flows/canary-analysis.js';
import { liveCanaries } from './flows/cluster-readers.js';
import { recordVerdicts } from './flows/record-verdicts.js';
import type { Metrics as LifeguardMetrics } from './metrics.js';
import type { Cluster, Leadership } from './ports.js';
import type { SqliteAuditLog } from './adapters/sqlite/store.js';
import { PrometheusClient } from './adapters/prometheus/client.js';
import { IncrementalRangeCache } from './adapters/prometheus/range-cache.js';
import { httpProbe } from './adapters/http/probe.js';
import { startAnalysisScheduler, type AnalysisScheduler } from './scheduler.js';

export interface AnalysisLoopDeps {
  config: Config;
  cluster: Cluster;
  audit: Pick<SqliteAuditLog, 'appendDurable'>;
  metrics: LifeguardMetrics;
  log: Logger;
  /** Only the leader judges; without one (a single replica) this process always does. */
  leadership?: Leadership;
}

export interface AnalysisLoop {
  /** The running scheduler, while this replica leads. */
  scheduler(): AnalysisScheduler | undefined;
  stop(): Promise<void>;
}

/**
 * Judges every canary serving traffic, on each environment's analysis interval, and records the verdicts.
 * Runs only while this replica holds leadership, and stops the moment it loses it.
 */
export function startAnalysisLoop(deps: AnalysisLoopDeps): AnalysisLoop {
  const { config, cluster, log } = deps;
  // One cache for the process: each tick then fetches only the newest samples of every range.
  const prometheus = new IncrementalRangeCache(new PrometheusClient({ url: config.prometheus.url, timeoutMs: config.prometheus.timeout }));
  const activeIn = liveCanaries(cluster, config, (service, environment, error) =>
    log.warn({ service, environment, err: error }, 'cannot read the canary of a service from its cluster; it is not judged this tick'),
  );
  let scheduler: AnalysisScheduler | undefined;

  const start = () => {
    if (scheduler) return;
    scheduler = startAnalysisScheduler({
      config,
      activeCanaries: (environment) => activeIn(environment),
      judge: async (targets, at) => {
        const started = performance.now();
        const verdicts = await analyzeCanaries({ metrics: prometheus, probe: httpProbe }, targets, at);
        // Canaries of one tick are judged together (grouped queries): each waited the whole tick for its verdict.
        const seconds = (performance.now() - started) / 1000;
        for (const t of targets) deps.metrics.analysisDurationSeconds.observe({ service: t.service, environment: t.environment }, seconds);
        return verdicts;
      },
      onVerdicts: async (verdicts) => {
        await recordVerdicts(deps.audit, deps.metrics, verdicts);
        for (const v of verdicts.filter((v) => v.verdict !== 'pass')) {
          log.warn({ service: v.service, environment: v.environment, verdict: v.verdict, reasons: v.reasons }, 'canary verdict');
        }
      },
      onError: (error, job) => log.error({ err: error, job }, 'analysis tick failed; the next tick runs as scheduled'),
    });
    log.info({ jobs: scheduler.stats().map((s) => s.job) }, 'canary analysis scheduled');
  };
  const stop = async () => {
    const running = scheduler;
    scheduler = undefined;
    await running?.stop();
  };

  if (deps.leadership) {
    deps.leadership.onChange((leader) => {
      if (leader) start();
      else void stop().then(() => log.warn('leadership lost: canary analysis stopped'));
    });
    if (deps.leadership.isLeader()) start();
  } else {
    start();
  }
  return { scheduler: () => scheduler, stop };
}
