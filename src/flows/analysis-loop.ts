import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { Telemetry } from '../metrics.js';
import type { AuditLog, Leadership, Metrics, Probe, Workloads } from '../ports.js';
import { startAnalysisScheduler, type AnalysisScheduler } from '../scheduler.js';
import { analyzeCanaries } from './canary-analysis.js';
import { liveCanaries } from './cluster-readers.js';
import { recordVerdicts } from './record-verdicts.js';
import type { Verdict } from '../domain/verdict.js';

export interface AnalysisLoopDeps {
  config: Config;
  workloads: Workloads;
  /** PromQL, ideally behind a range cache so that each tick fetches only the newest samples. */
  prometheus: Metrics;
  probe: Probe;
  audit: Pick<AuditLog, 'appendDurable'>;
  metrics: Telemetry;
  log: Logger;
  /** Only the leader judges; without one (a single replica) this process always does. */
  leadership?: Leadership;
  /** Acts on a tick's verdicts (the release engine): handed over at once, not after they are on disk. */
  act?: (verdicts: Verdict[]) => Promise<void>;
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
  const { config, log } = deps;
  const activeIn = liveCanaries(deps.workloads, config, (service, environment, error) =>
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
        const verdicts = await analyzeCanaries({ metrics: deps.prometheus, probe: deps.probe }, targets, at);
        // Canaries of one tick are judged together (grouped queries): each waited the whole tick for its verdict.
        const seconds = (performance.now() - started) / 1000;
        for (const t of targets) deps.metrics.analysisDurationSeconds.observe({ service: t.service, environment: t.environment }, seconds);
        return verdicts;
      },
      onVerdicts: async (verdicts) => {
        // A failing canary is drained while its verdict is still being written, not after; and a slow cluster
        // acting on it does not hold up the next analysis.
        void deps.act?.(verdicts).catch((error: unknown) => log.error({ err: error }, 'acting on verdicts failed; the release engine tries again at its next tick'));
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
