import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { registerDeliveryGauges, type DeliveryRow } from './delivery-metrics.js';
import type { OutboxBacklog } from './ports.js';

/**
 * Lifeguard's own metrics, served on GET /metrics in the Prometheus text format. One registry per process
 * (tests make their own); every part registers its metrics here so the scrape is complete.
 */
export interface Telemetry {
  registry: Registry;
  /** From Slack's request (or Socket Mode envelope) reaching us to our acknowledgement; Slack gives up at 3 s. */
  slackAckSeconds: Histogram<'kind'>;
  /** Posts and updates that still failed after the posting queue's retries. */
  slackPostFailures: Counter<'method' | 'error'>;
  analysisDurationSeconds: Histogram<'service' | 'environment'>;
  verdicts: Counter<'service' | 'environment' | 'verdict'>;
  /** `trigger`: `automatic` (a failed verdict) or `manual` (Slack or CLI). */
  rollbacks: Counter<'service' | 'environment' | 'trigger'>;
  rollbackDurationSeconds: Histogram<'service' | 'environment' | 'outcome'>;
  /** Requests to /slack/events refused (`too_large`, `timeout`, `signature`, `timestamp`, `replay`, `malformed`) or failed. */
  slackRequestErrors: Counter<'reason'>;
  /** Errors nothing else caught, logged by the process-level last resort, which keeps serving. */
  uncaughtErrors: Counter<'origin'>;
  /** Each time a service's state could not be read for analysis; the log says so only when a streak starts and ends. */
  clusterReadFailures: Counter<'environment'>;
  /** Services whose state cannot be read right now, so their canaries are not judged. */
  servicesUnreadable: Gauge<'environment'>;
  /** Chat messages waiting in the outbox, and the age of the oldest; read from `watchOutbox`'s source at each scrape. */
  outboxDepth: Gauge;
  outboxOldestAgeSeconds: Gauge;
  /** Where the outbox gauges read from; every replica reports it, since the database is shared. */
  watchOutbox(read: () => OutboxBacklog): void;
  /** Where the delivery figures' gauges read from at each scrape (see delivery-metrics.ts). */
  watchDelivery(read: () => DeliveryRow[]): void;
}

/**
 * prom-client's default process metrics, less the three gauges it names `…_total` (active handles, requests and
 * resources), which `promtool check metrics` rejects because only counters may end in `_total`. Nothing is lost:
 * each is the sum of the per-type gauge kept beside it, e.g. `sum(lifeguard_nodejs_active_handles)`.
 */
function registerProcessMetrics(registry: Registry, prefix: string): void {
  collectDefaultMetrics({ register: registry, prefix });
  for (const what of ['handles', 'requests', 'resources']) registry.removeSingleMetric(`${prefix}nodejs_active_${what}_total`);
}

export function createTelemetry(options: { processMetrics?: boolean } = {}): Telemetry {
  const registry = new Registry();
  if (options.processMetrics ?? true) registerProcessMetrics(registry, 'lifeguard_');
  const registers = [registry];
  let outbox: (() => OutboxBacklog) | undefined;
  // A failing read (the store closing under a scrape) keeps the last values rather than failing all of /metrics.
  const backlog = (): OutboxBacklog | undefined => {
    try {
      return outbox?.();
    } catch {
      return undefined;
    }
  };
  let delivery: (() => DeliveryRow[]) | undefined;
  // As for the outbox: a failing read keeps the last values rather than failing all of /metrics.
  registerDeliveryGauges(registry, () => {
    try {
      return delivery?.();
    } catch {
      return undefined;
    }
  });
  return {
    registry,
    slackAckSeconds: new Histogram({
      name: 'lifeguard_slack_ack_seconds',
      help: 'Time from a Slack request reaching Lifeguard to its acknowledgement, by kind (command, action, view).',
      labelNames: ['kind'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5],
      registers,
    }),
    slackPostFailures: new Counter({
      name: 'lifeguard_slack_post_failures_total',
      help: 'Slack posts and updates that failed after retries, by method and Slack error code.',
      labelNames: ['method', 'error'],
      registers,
    }),
    analysisDurationSeconds: new Histogram({
      name: 'lifeguard_analysis_duration_seconds',
      help: 'Time to judge one canary analysis (queries and judgement).',
      labelNames: ['service', 'environment'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    verdicts: new Counter({
      name: 'lifeguard_canary_verdicts_total',
      help: 'Canary verdicts, by service, environment and verdict (pass, fail, inconclusive).',
      labelNames: ['service', 'environment', 'verdict'],
      registers,
    }),
    rollbacks: new Counter({
      name: 'lifeguard_rollbacks_total',
      help: 'Rollbacks started, by service, environment and trigger (automatic, manual).',
      labelNames: ['service', 'environment', 'trigger'],
      registers,
    }),
    rollbackDurationSeconds: new Histogram({
      name: 'lifeguard_rollback_duration_seconds',
      help: 'Time from a rollback starting to its verified end, by outcome.',
      labelNames: ['service', 'environment', 'outcome'],
      buckets: [5, 10, 30, 60, 120, 300, 600, 1200],
      registers,
    }),
    slackRequestErrors: new Counter({
      name: 'lifeguard_slack_request_errors_total',
      help: 'Requests to /slack/events refused or failed, by reason (too_large, timeout, aborted, signature, timestamp, replay, malformed, handler, unacknowledged, unanswered, internal).',
      labelNames: ['reason'],
      registers,
    }),
    uncaughtErrors: new Counter({
      name: 'lifeguard_uncaught_errors_total',
      help: 'Errors no handler caught (origin: uncaughtException, unhandledRejection); Lifeguard logged them and kept serving.',
      labelNames: ['origin'],
      registers,
    }),
    clusterReadFailures: new Counter({
      name: 'lifeguard_cluster_read_failures_total',
      help: 'Reads of a service state for canary analysis that failed (a missing Deployment, an unreachable cluster), one per service per tick.',
      labelNames: ['environment'],
      registers,
    }),
    servicesUnreadable: new Gauge({
      name: 'lifeguard_services_unreadable',
      help: 'Services whose state cannot be read from their cluster right now; their canaries are not judged until it can.',
      labelNames: ['environment'],
      registers,
    }),
    outboxDepth: new Gauge({
      name: 'lifeguard_outbox_depth',
      help: 'Chat messages written by a state change and not yet delivered to Slack (nor given up).',
      registers,
      collect() {
        const now = backlog();
        if (now) this.set(now.depth);
      },
    }),
    outboxOldestAgeSeconds: new Gauge({
      name: 'lifeguard_outbox_oldest_age_seconds',
      help: 'Age of the oldest chat message waiting in the outbox; 0 when none waits.',
      registers,
      collect() {
        const now = backlog();
        if (now) this.set(now.oldestAgeSeconds);
      },
    }),
    watchOutbox: (read) => {
      outbox = read;
    },
    watchDelivery: (read) => {
      delivery = read;
    },
  };
}
