import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import {
  activeOperation,
  metricNow,
  releaseChange,
  rollbackChange,
  summarySchedules,
  type EnvironmentHealth,
  type HealthSummary,
  type MetricNow,
  type SummarySchedule,
} from '../domain/health-summary.js';
import { renderQuery } from '../domain/promql-template.js';
import { isFailure, singleValue, type ValueOutcome } from '../domain/query-outcome.js';
import type { Metrics, Store } from '../ports.js';
import type { ReleaseRules } from './release-rules.js';
import type { ServiceStatus } from './requests.js';

export interface HealthSummaryDeps {
  config: Config;
  /** What runs in each environment of a service, from the cluster: bounded in time, never throws (RequestFlow.status). */
  status(service: string): Promise<ServiceStatus[]>;
  metrics: Metrics;
  store: Pick<Store, 'transaction' | 'outbox' | 'operations'>;
  rules: Pick<ReleaseRules, 'inForce'>;
  /** The summary as the messages the chat can take, in order (the Slack adapter's `healthSummaryParts`). */
  paginate(summary: HealthSummary): HealthSummary[];
  /** Delivers what was enqueued now rather than at the sender's next poll. */
  kick(): void;
  log: Logger;
  /** How long one read (a cluster status, a metric query) may take before its part is named missing. */
  readTimeoutMs?: number;
}

/** Queries in flight at once: a summary of many services must not flood Prometheus. */
const QUERY_CONCURRENCY = 8;

/**
 * The scheduled health summaries: for each channel, what runs in each service and environment, its metrics now,
 * the latest verdict, the last release and rollback and the freezes in force, read as of the run's scheduled time.
 * Whatever cannot be read is named missing and the summary still goes. Each summary is written to the outbox in one
 * transaction, as one entry per message, keyed by the channel and the scheduled time: a second run for the same time
 * (a restart, another replica) writes nothing, and the sender never posts an entry twice.
 */
export class HealthSummaryFlow {
  readonly schedules: SummarySchedule[];

  constructor(private readonly deps: HealthSummaryDeps) {
    this.schedules = summarySchedules(deps.config);
  }

  /** Every configured summary as of `at`, outside its schedule (tests, replays). */
  async runNow(at: Date): Promise<number> {
    let entries = 0;
    for (const schedule of this.schedules) entries += await this.run(schedule, at);
    return entries;
  }

  /** Builds one channel's summary as of `at` and enqueues it; the number of outbox entries written. Never throws. */
  async run(schedule: SummarySchedule, at: Date): Promise<number> {
    const { log } = this.deps;
    try {
      const summary = await this.gather(schedule, at);
      const parts = this.deps.paginate(summary);
      const key = (i: number) => `health-summary:${schedule.channel}:${at.toISOString()}:part${i + 1}`;
      const written = this.deps.store.transaction(() => {
        // All parts commit together: the first part's key tells whether this run was written already.
        if (!this.deps.store.outbox.enqueue({ key: key(0), channel: schedule.channel, message: { kind: 'health-summary', summary: parts[0]! } }, at)) return 0;
        parts.slice(1).forEach((part, i) => this.deps.store.outbox.enqueue({ key: key(i + 1), channel: schedule.channel, message: { kind: 'health-summary', summary: part } }, at));
        return parts.length;
      });
      if (written > 0) this.deps.kick();
      log.info({ channel: schedule.channel, at: at.toISOString(), parts: parts.length, written }, written > 0 ? 'health summary enqueued' : 'health summary of this time was enqueued already');
      return written;
    } catch (error) {
      log.error({ err: error, channel: schedule.channel, at: at.toISOString() }, 'the health summary could not be written to the outbox (is the database writable?); the next scheduled run tries again');
      return 0;
    }
  }

  private async gather(schedule: SummarySchedule, at: Date): Promise<HealthSummary> {
    const metrics = this.metricReader(at);
    const services = await Promise.all(
      schedule.services.map(async (service) => {
        const statuses = await this.bounded(this.deps.status(service), (why) =>
          Object.keys(this.deps.config.services[service]!.environments).map((environment): ServiceStatus => ({ service, environment, ok: false, why })),
        );
        const environments = await Promise.all(
          statuses.map(async (status): Promise<EnvironmentHealth> => ({
            environment: status.environment,
            cluster: status.ok ? { ok: true, version: status.version, revision: status.revision, canaryWeight: status.canaryWeight } : { ok: false, why: status.why },
            store: this.storeRead(service, status.environment),
            metrics: await metrics(service, status.environment),
          })),
        );
        return { service, environments };
      }),
    );
    const environments = [...new Set(services.flatMap((s) => s.environments.map((e) => e.environment)))];
    return { channel: schedule.channel, at: at.toISOString(), part: { index: 1, of: 1 }, services, freezes: this.freezesRead(environments, at) };
  }

  private storeRead(service: string, environment: string): EnvironmentHealth['store'] {
    try {
      const active = this.deps.store.operations.active(service, environment);
      const { release, rollback } = this.deps.store.operations.lastChanges(service, environment);
      return {
        ok: true,
        active: active ? activeOperation(active) : null,
        verdict: active?.analysis.last ?? null,
        lastRelease: release ? releaseChange(release) : null,
        lastRollback: rollback ? rollbackChange(rollback) : null,
      };
    } catch (error) {
      return { ok: false, why: `the database could not be read: ${(error as Error).message}` };
    }
  }

  private freezesRead(environments: string[], at: Date): HealthSummary['freezes'] {
    try {
      const list = environments.flatMap((environment) => this.deps.rules.inForce(environment, at)).map((f) => ({ environment: f.environment, reason: f.reason, until: f.end?.toISOString() ?? null }));
      return { ok: true, list };
    } catch (error) {
      return { ok: false, why: `freezes could not be read from the database: ${(error as Error).message}` };
    }
  }

  /**
   * The key metrics of each environment's stable side now, against their absolute bounds. Once Prometheus has not
   * answered, the run asks it nothing more: every environment says so at once rather than after a timeout each.
   */
  private metricReader(at: Date): (service: string, environment: string) => Promise<EnvironmentHealth['metrics']> {
    const { config, metrics } = this.deps;
    let down: string | undefined;
    const queue = limiter(QUERY_CONCURRENCY);
    const query = (text: string): Promise<ValueOutcome> =>
      queue(async () => {
        if (down !== undefined) return { kind: 'unreachable', message: down, warnings: [] };
        const outcome = await this.bounded(metrics.instant(text, at).then(singleValue), (why): ValueOutcome => ({ kind: 'timeout', message: why, warnings: [] }));
        if (outcome.kind === 'unreachable' || outcome.kind === 'timeout') down = outcome.message;
        return outcome;
      });
    return async (service, environment) => {
      const names = config.services[service]!.environments[environment]?.analysis.metrics ?? [];
      const rows: { row: MetricNow; outcome: ValueOutcome }[] = await Promise.all(
        names.flatMap((name) => {
          const template = config.metrics[name]!;
          // An http metric probes a canary's URL: there is nothing of it to read for the stable.
          if (template.kind !== 'prometheus') return [];
          const text = renderQuery(template.query, { service, variant: 'baseline', windowMs: template.window });
          return [query(text).then((outcome) => ({ row: metricNow(name, template, outcome), outcome }))];
        }),
      );
      const failed = rows.find(({ outcome }) => isFailure(outcome) && outcome.kind !== 'error');
      return failed && isFailure(failed.outcome) ? { ok: false, why: `Prometheus did not answer: ${failed.outcome.message}` } : { ok: true, rows: rows.map((r) => r.row) };
    };
  }

  /** What `work` answers, or what `missing` makes of why it did not: it failed, or the read timeout passed first. */
  private async bounded<T>(work: Promise<T>, missing: (why: string) => T): Promise<T> {
    const ms = this.deps.readTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<T>((resolve) => {
      timer = setTimeout(() => resolve(missing(`no answer within ${Math.round(ms / 1000)} s`)), ms);
    });
    try {
      return await Promise.race([work.catch((error: unknown) => missing(error instanceof Error ? error.message : String(error))), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Runs at most `n` of the tasks given to it at once, in the order given. */
function limiter(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (running >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await task();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}
