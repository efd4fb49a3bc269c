import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { Telemetry } from '../metrics.js';
import type { AuditLog, Leadership, Metrics, Probe, Workloads } from '../ports.js';
import { startAnalysisScheduler, type AnalysisScheduler } from '../scheduler.js';
import { analyzeCanaries } from './canary-analysis.js';
import { liveCanaries, type ReadReport } from './cluster-readers.js';
import { FailureStreaks } from '../domain/failure-streaks.js';
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
  const streaks = new FailureStreaks();
  const activeIn = liveCanaries(deps.workloads, config, unreadableOnce(deps, streaks));
  let scheduler: AnalysisScheduler | undefined;

  const start = () => {
    if (scheduler) return;
    scheduler = startAnalysisScheduler({
      config,
      activeCanaries: async (environment) => {
        const found = await activeIn(environment);
        deps.metrics.servicesUnreadable.set({ environment }, streaks.count(`${environment}/`));
        return found;
      },
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

/**
 * A service that cannot be read (its Deployment missing, its cluster unreachable) is logged when that starts and
 * when it ends, and counted on /metrics each tick: a thousand such services make a thousand lines, not a thousand
 * lines a tick.
 */
function unreadableOnce(deps: Pick<AnalysisLoopDeps, 'log' | 'metrics'>, streaks: FailureStreaks): ReadReport {
  const key = (service: string, environment: string) => `${environment}/${service}`;
  return {
    unreadable(service, environment, error) {
      deps.metrics.clusterReadFailures.inc({ environment });
      if (streaks.fail(key(service, environment), new Date(), error instanceof Error ? error.message : String(error))) {
        deps.log.warn({ service, environment, err: error }, 'cannot read the canary of a service from its cluster; it is not judged until it can be (said again when it can)');
      }
    },
    readable(service, environment) {
      const ended = streaks.succeed(key(service, environment));
      if (ended) {
        deps.log.info({ service, environment, failingSince: ended.since.toISOString(), failedTicks: ended.failures }, 'the canary of a service can be read from its cluster again');
      }
    },
  };
}
