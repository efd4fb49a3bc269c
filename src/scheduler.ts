import cron, { type Logger, type ScheduledTask } from 'node-cron';
import { formatDuration } from './config/duration.js';
import { intervalToCron } from './domain/schedule.js';
import type { Config } from './config/schema.js';
import { canaryTarget, type CanaryTarget } from './flows/canary-analysis.js';
import type { Verdict } from './domain/verdict.js';
import type { SummarySchedule } from './domain/health-summary.js';
import type { Leadership } from './ports.js';

/** A canary serving traffic right now, as the cluster (later the store) knows it: which service, and its share. */
export type ActiveCanary = Pick<CanaryTarget, 'service' | 'trafficShare'>;

export interface AnalysisSchedulerDeps {
  config: Config;
  /** The canaries active in an environment at the time of the tick. */
  activeCanaries(environment: string, at: Date): Promise<ActiveCanary[]>;
  /** Judges the canaries as of `at` (analyzeCanaries bound to the Metrics port and a probe). */
  judge(targets: CanaryTarget[], at: Date): Promise<Verdict[]>;
  /** Receives each tick's verdicts (rollback, Slack, audit). */
  onVerdicts(verdicts: Verdict[], at: Date): Promise<void> | void;
  /** A tick that threw (e.g. the store could not list canaries); the next tick still runs. */
  onError(error: unknown, job: string): void;
  logger?: Logger;
}

export interface JobStats {
  /** `<environment> every <interval>`. */
  job: string;
  ticks: number;
  /** Ticks that came due while the previous one was still running, and were dropped. */
  skipped: number;
  running: boolean;
}

export interface AnalysisScheduler {
  stats(): JobStats[];
  /** Runs the tick of a job as of `at` now, outside the schedule (replays, tests). */
  tick(job: string, at: Date): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts one node-cron job per environment and analysis interval. Each tick judges every active canary of
 * that environment whose plan has that interval, as of the tick's scheduled time (whole seconds), so a replay
 * with the same time judges the same. A tick due while the last one still runs is skipped and counted.
 */
export function startAnalysisScheduler(deps: AnalysisSchedulerDeps): AnalysisScheduler {
  const intervals = new Map<string, { environment: string; intervalMs: number }>();
  for (const service of Object.values(deps.config.services)) {
    for (const [environment, plan] of Object.entries(service.environments)) {
      intervals.set(`${environment} every ${formatDuration(plan.analysis.interval)}`, { environment, intervalMs: plan.analysis.interval });
    }
  }

  const jobs = new Map<string, { stats: JobStats; run: (at: Date) => Promise<void>; task: ScheduledTask }>();
  for (const [job, { environment, intervalMs }] of intervals) {
    const expression = intervalToCron(intervalMs);
    const stats: JobStats = { job, ticks: 0, skipped: 0, running: false };
    const run = async (at: Date) => {
      stats.ticks++;
      stats.running = true;
      try {
        const active = await deps.activeCanaries(environment, at);
        const targets = active
          .filter((c) => deps.config.services[c.service]?.environments[environment]?.analysis.interval === intervalMs)
          .map((c) => canaryTarget(deps.config, c.service, environment, c.trafficShare));
        if (targets.length > 0) await deps.onVerdicts(await deps.judge(targets, at), at);
      } catch (error) {
        deps.onError(error, job);
      } finally {
        stats.running = false;
      }
    };
    const task = cron.schedule(expression, (context) => run(new Date(Math.floor(context.date.getTime() / 1000) * 1000)), {
      name: `analysis ${job}`,
      noOverlap: true,
      ...(deps.logger ? { logger: deps.logger } : {}),
    });
    task.on('execution:overlap', () => {
      stats.skipped++;
    });
    jobs.set(job, { stats, run, task });
  }

  return {
    stats: () => [...jobs.values()].map((j) => ({ ...j.stats })),
    tick: async (job, at) => {
      const entry = jobs.get(job);
      if (!entry) throw new Error(`no analysis job "${job}" (jobs: ${[...jobs.keys()].join(', ') || 'none'})`);
      await entry.run(at);
    },
    stop: async () => {
      await Promise.all([...jobs.values()].map((j) => j.task.destroy()));
    },
  };
}

/**
 * One node-cron job per health summary, in UTC as freezes are. Each run is as of its scheduled time (whole
 * seconds), which also keys its outbox entries, so a replica or a restart running the same time writes nothing new.
 * A replica that does not lead skips its runs.
 */
export function scheduleHealthSummaries(
  schedules: readonly SummarySchedule[],
  run: (schedule: SummarySchedule, at: Date) => Promise<unknown>,
  opts: { leadership?: Pick<Leadership, 'isLeader'> | undefined; logger?: Logger } = {},
): { stop(): Promise<void> } {
  const tasks = schedules.map((schedule) =>
    cron.schedule(
      schedule.cron,
      async (context) => {
        if (opts.leadership && !opts.leadership.isLeader()) return;
        await run(schedule, new Date(Math.floor(context.date.getTime() / 1000) * 1000));
      },
      { name: `health summary ${schedule.channel} ${schedule.cron}`, timezone: 'Etc/UTC', noOverlap: true, ...(opts.logger ? { logger: opts.logger } : {}) },
    ),
  );
  return { stop: async () => void (await Promise.all(tasks.map((t) => t.destroy()))) };
}
