import type { Logger } from 'pino';
import { loadConfig } from './config/load.js';
import { readEnv, type Env } from './config/env.js';
import { createLogger } from './log.js';
import { createTelemetry, type Telemetry } from './metrics.js';
import { openStore } from './adapters/sqlite/store.js';
import { sqliteRepositories } from './adapters/sqlite/repositories.js';
import { createSlackApp, SlackStartupError, stampArrival, type SlackApp, type SlackAppOptions } from './adapters/slack/app.js';
import { startServer } from './server.js';
import { systemClock, type Clock, type Cluster, type Leadership, type Store } from './ports.js';
import { kubernetesCluster } from './adapters/kubernetes/cluster.js';
import { homeKubeConfig, kubeConfigFor } from './adapters/kubernetes/kubeconfig.js';
import { LeaseLeaderElection, leaseOptionsFromEnv } from './adapters/kubernetes/leader-election.js';
import { ConfigMapCheckpoints } from './adapters/kubernetes/checkpoint-configmap.js';
import { startAuditCheckpoints } from './flows/audit-checkpoints.js';
import { ApprovalFlow } from './flows/approval.js';
import { RequestFlow } from './flows/requests.js';
import { ReleaseRules } from './flows/release-rules.js';
import { CardFlow } from './flows/cards.js';
import { schedule } from 'node-cron';
import { startAnalysisLoop, type AnalysisLoop } from './flows/analysis-loop.js';
import { PrometheusClient } from './adapters/prometheus/client.js';
import { IncrementalRangeCache } from './adapters/prometheus/range-cache.js';
import { httpProbe } from './adapters/http/probe.js';
import { ReleaseEngine } from './flows/operations.js';
import { operationView, outboxNotices } from './flows/operation-notices.js';
import { startOutboxSender, type OutboxSender, type OutboxTuning } from './flows/outbox-sender.js';
import { stableJudge } from './flows/self-analysis.js';
import { recordVerdicts } from './flows/record-verdicts.js';
import { HealthSummaryFlow } from './flows/health-summaries.js';
import { healthSummaryParts } from './adapters/slack/blocks/health-summary.js';
import { scheduleHealthSummaries } from './scheduler.js';
import { deliveryRows, historyReader } from './flows/history.js';
import { evidenceSummary } from './domain/kept-evidence.js';
import { PostmortemFlow } from './flows/postmortem.js';
import { SqlitePostmortems } from './adapters/sqlite/postmortems.js';
import { permalink } from './adapters/slack/blocks/format.js';

/** Startup cannot go on: the message says what is missing and how to fix it. */
export class StartupError extends Error {
  override name = 'StartupError';

  /** `usage`: the operator must fix the environment or config; `failed`: a dependency refused or failed. */
  constructor(
    message: string,
    readonly kind: 'usage' | 'failed' = 'failed',
  ) {
    super(message);
  }
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  /** --config; else LIFEGUARD_CONFIG, else ./lifeguard.yaml. */
  configFile?: string | undefined;
  log?: Logger;
  clock?: Clock;
  /** The clusters of lifeguard.yaml; by default reached through client-node with KUBECONFIG or in-cluster config. */
  cluster?: Cluster;
  /** Interface to listen on; all by default. Tests use 127.0.0.1. */
  host?: string;
  /** Shorter waits for tests; defaults suit Slack. */
  tuning?: SlackAppOptions['tuning'] & { statusTimeoutMs?: number; outbox?: OutboxTuning; engineTickMs?: number };
}

export interface Lifeguard {
  port: number;
  mode: SlackApp['mode'];
  log: Logger;
  metrics: Telemetry;
  slack: SlackApp;
  /** Its sweep runs every minute; tests run it by hand. */
  cards: CardFlow;
  analysis: AnalysisLoop;
  /** The release engine: tests reconcile through it and read its operations. */
  engine: ReleaseEngine;
  outbox: OutboxSender;
  /** Scheduled by cron; tests run it by hand (`runNow`). */
  healthSummaries: HealthSummaryFlow;
  stop(): Promise<void>;
}

/**
 * The composition root: reads the environment and config, opens the store, builds the Slack app and serves
 * /slack/events (HTTP mode), /healthz, /readyz and /metrics on PORT.
 */
export async function startLifeguard(options: StartOptions = {}): Promise<Lifeguard> {
  const processEnv = options.env ?? process.env;
  let env;
  try {
    env = readEnv(processEnv);
  } catch (error) {
    throw new StartupError((error as Error).message, 'usage');
  }
  const log = options.log ?? createLogger({ level: env.LOG_LEVEL, secrets: [env.SLACK_BOT_TOKEN, env.SLACK_SIGNING_SECRET, env.SLACK_APP_TOKEN, env.LIFEGUARD_AUDIT_KEY] });
  const missing = [
    ...(env.SLACK_BOT_TOKEN ? [] : ['SLACK_BOT_TOKEN']),
    ...(env.SLACK_APP_TOKEN || env.SLACK_SIGNING_SECRET ? [] : ['SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for Socket Mode)']),
  ];
  if (missing.length) throw new StartupError(`missing environment: ${missing.join(', ')}; see .env.example`, 'usage');

  const config = loadConfig(options.configFile ?? env.LIFEGUARD_CONFIG, processEnv);
  const clock = options.clock ?? systemClock;
  const store = openStore(env.LIFEGUARD_DB, { clock, auditKey: env.LIFEGUARD_AUDIT_KEY });
  const metrics = createTelemetry();
  // A long-running process reads the cluster from watched copies: its ticks then cost the API server nothing.
  const cluster = options.cluster ?? kubernetesCluster(config, { reads: 'watch', log, kubeConfig: (name) => kubeConfigFor(config, name, processEnv) });
  let slack: SlackApp;
  try {
    slack = await createSlackApp({
      credentials: { botToken: env.SLACK_BOT_TOKEN!, signingSecret: env.SLACK_SIGNING_SECRET ?? '', appToken: env.SLACK_APP_TOKEN, apiUrl: env.SLACK_API_URL },
      config,
      audit: store.audit,
      log,
      metrics,
      ...(options.tuning ? { tuning: { minPostIntervalMs: options.tuning.minPostIntervalMs, usergroupTtlMs: options.tuning.usergroupTtlMs } } : {}),
    });
  } catch (error) {
    store.close();
    throw error instanceof SlackStartupError ? new StartupError(error.message) : error;
  }
  const repositories: Store = sqliteRepositories(store, clock);
  const leadership = electLeader(env, processEnv, log);
  const prometheusClient = new PrometheusClient({ url: config.prometheus.url, timeoutMs: config.prometheus.timeout, concurrency: config.prometheus.concurrency });
  // One cache for the process: each tick then fetches only the newest samples of every range. Judging a stable
  // against its past asks the same query over an earlier range too, which the cache is not for.
  const prometheus = new IncrementalRangeCache(prometheusClient);
  const outbox = startOutboxSender({
    store: repositories,
    chat: slack.chat,
    cardView: (id) => {
      const op = repositories.operations.get(id);
      const request = op?.requestId != null ? repositories.approvals.get(op.requestId) : undefined;
      return op && request && { request, operation: operationView(op) };
    },
    log,
    clock,
    metrics,
    ...(leadership ? { leadership } : {}),
    ...(options.tuning?.outbox ? { tuning: options.tuning.outbox } : {}),
  });
  const rules = new ReleaseRules({ config, store: repositories, roles: slack.directory, clock });
  const drafts = new SqlitePostmortems(store.db);
  const followUp = (id: number) => ({ acknowledged: drafts.acknowledgement(id), postmortem: drafts.get(id) !== undefined });
  const notices = outboxNotices({ config, outbox: repositories.outbox, waiters: repositories.waiters, clock, kick: () => outbox.kick(), followUp });
  const evidence = {
    summary: (id: number) => {
      const kept = repositories.evidence.get(id);
      return kept && evidenceSummary(kept);
    },
  };
  const postmortems = new PostmortemFlow({ config, store: repositories, postmortems: drafts, metrics: prometheusClient, roles: slack.directory, notices, clock, log, evidence, permalink: (m) => permalink(m.channel, m.ts) });
  const engine = new ReleaseEngine({
    config,
    store: repositories,
    cluster,
    clock,
    roles: slack.directory,
    notices,
    judgeStable: stableJudge(config, prometheusClient, httpProbe),
    recordVerdict: async (verdict) => void (await recordVerdicts(store.audit, metrics, [verdict])),
    log,
    metrics,
    leadership,
    rules,
    onEnded: (op) => void postmortems.ended(op),
    tuning: { tickMs: options.tuning?.engineTickMs ?? 1000 },
  });
  const approvals = new ApprovalFlow({
    store: repositories,
    clock,
    roles: slack.directory,
    executors: { release: (request) => started(engine, request, log), hotfix: (request) => started(engine, request, log), rollback: (request) => started(engine, request, log) },
  });
  const requests = new RequestFlow({ config, workloads: cluster.workloads, approvals, chat: slack.chat, operations: repositories.operations, audit: store.audit, waiters: repositories.waiters, transaction: repositories.transaction, clock, rules, readTimeoutMs: options.tuning?.statusTimeoutMs ?? 30_000 });
  const cards = new CardFlow({ approvals, chat: slack.chat, log });
  const healthSummaries = new HealthSummaryFlow({
    config,
    status: (service) => requests.status(service),
    metrics: prometheusClient,
    store: repositories,
    rules,
    paginate: healthSummaryParts,
    kick: () => outbox.kick(),
    log,
    readTimeoutMs: options.tuning?.statusTimeoutMs ?? 30_000,
  });
  const history = historyReader({ history: repositories.history, config, clock });
  metrics.watchDelivery(() => deliveryRows(config, history));
  slack.listen({ approvals, requests, cards, operations: engine, history, rules, postmortems });
  const server = await startServer({
    port: env.PORT,
    ...(options.host ? { host: options.host } : {}),
    metrics,
    log,
    slack: slack.requestListener,
    onSlackRequest: stampArrival,
    readiness: () => {
      const reasons = store.db.open ? [] : ['store not open'];
      return { ready: reasons.length === 0, reasons };
    },
  }).catch((error: unknown) => {
    store.close();
    throw new StartupError(`cannot listen on port ${env.PORT}: ${(error as Error).message}`);
  });
  try {
    await slack.start();
  } catch (error) {
    await server.close();
    store.close();
    throw new StartupError(`cannot connect to Slack in Socket Mode: ${(error as Error).message}`);
  }
  // In a cluster the checkpoint also goes to a ConfigMap beside the Lease, where the database cannot reach it.
  const remote = env.POD_NAMESPACE ? new ConfigMapCheckpoints(homeKubeConfig(processEnv), { namespace: env.POD_NAMESPACE }) : undefined;
  const checkpoints = startAuditCheckpoints({ chain: store.audit, clock, log, remote });
  const analysis = startAnalysisLoop({
    config,
    workloads: cluster.workloads,
    prometheus,
    probe: httpProbe,
    audit: store.audit,
    metrics,
    log,
    ...(leadership ? { leadership } : {}),
    act: (verdicts) => engine.onVerdicts(verdicts),
  });
  // Every operation in flight resumes here, after a restart as after a crash: there is no other recovery path.
  engine.start();
  // Automated rollbacks that ended just before a restart, without their post-mortem draft, get it now.
  void postmortems.catchUp().catch((error: unknown) => log.error({ err: error }, 'could not draft the post-mortems left by a restart'));
  const sweeper = schedule(
    '* * * * *',
    () =>
      cards.sweep().then(
        () => undefined,
        (error: unknown) => log.error({ err: error }, 'the approval expiry sweep failed; the next runs in a minute'),
      ),
    { name: 'approval-expiry', noOverlap: true },
  );
  const summaryJobs = scheduleHealthSummaries(healthSummaries.schedules, (summary, at) => healthSummaries.run(summary, at), { leadership });
  log.info({ port: server.port, mode: slack.mode, services: Object.keys(config.services) }, 'lifeguard started');

  return {
    port: server.port,
    mode: slack.mode,
    log,
    metrics,
    slack,
    cards,
    analysis,
    engine,
    outbox,
    healthSummaries,
    stop: async () => {
      await sweeper.destroy();
      await summaryJobs.stop();
      await analysis.stop();
      await engine.stop();
      await outbox.stop();
      await leadership?.stop({ release: true });
      await slack.stop();
      await server.close();
      // Last among the parts that read the cluster: a command answered meanwhile may still read it.
      await cluster.stop?.();
      await checkpoints.stop();
      store.close();
      log.info('lifeguard stopped');
    },
  };
}

/**
 * Replicas in Kubernetes (the manifest sets POD_NAMESPACE from the downward API) compete for a Lease so that
 * only one judges and executes; a process outside a cluster is the only instance and leads alone.
 */
function electLeader(env: Env, processEnv: NodeJS.ProcessEnv, log: Logger): Leadership | undefined {
  if (!env.POD_NAMESPACE) {
    log.info('POD_NAMESPACE is not set: running as the only instance, without leader election');
    return undefined;
  }
  const election = new LeaseLeaderElection(homeKubeConfig(processEnv), leaseOptionsFromEnv({ POD_NAMESPACE: env.POD_NAMESPACE, POD_NAME: env.POD_NAME }));
  election.onChange((leader) => log.info({ leader, lease: `${env.POD_NAMESPACE}/lifeguard-leader` }, leader ? 'became leader' : 'lost leadership'));
  election.onProblem((error) => log.error({ err: error, lease: `${env.POD_NAMESPACE}/lifeguard-leader` }, 'leader election cannot use its Lease; this replica judges and executes nothing until it can'));
  election.start();
  return election;
}

/** The approval executor of releases, hotfixes and rollbacks: the operation starts, or the refusal is logged (and audited by the engine). */
async function started(engine: ReleaseEngine, request: Parameters<ReleaseEngine['startFromRequest']>[0], log: Logger): Promise<void> {
  const result = await engine.startFromRequest(request);
  if (!result.ok) log.warn({ request: request.id, why: result.why }, 'a granted request did not start an operation');
}
