import { App, HTTPReceiver, SocketModeReceiver, webApi } from '@slack/bolt';
import type { RequestListener } from 'node:http';
import type { Logger } from 'pino';
import type { Config } from '../../config/schema.js';
import type { ApprovalFlow } from '../../flows/approval.js';
import type { CardFlow } from '../../flows/cards.js';
import type { RequestFlow } from '../../flows/requests.js';
import type { ReleaseEngine } from '../../flows/operations.js';
import type { Telemetry } from '../../metrics.js';
import type { HistoryReader } from '../../flows/history.js';
import type { AuditLog, Chat, RoleDirectory } from '../../ports.js';
import { boltLogger } from './bolt-logger.js';
import { slackChat } from './chat.js';
import { RECEIVED_AT, type HandlerDeps } from './handlers/deps.js';
import { registerCommands } from './handlers/commands.js';
import { registerInteractions } from './handlers/interactions.js';
import { guardSlackEndpoint } from './endpoint-guard.js';
import { handlerErrorHandler, receiverErrorHandlers } from './receiver-errors.js';
import { SLACK_ROUTES } from './routes.js';
import { PostingQueue } from './posting-queue.js';
import { UsergroupDirectory } from './usergroups.js';
import { outboxClientOptions, webClientOptions } from './web-client.js';

export interface SlackCredentials {
  botToken: string;
  signingSecret: string;
  /** Set: Socket Mode. Unset: HTTP mode on POST /slack/events. */
  appToken?: string | undefined;
  /** Where the Web API lives (SLACK_API_URL); Slack's own when unset. */
  apiUrl?: string | undefined;
}

export interface SlackAppOptions {
  credentials: SlackCredentials;
  config: Config;
  /** Where posts that still fail are recorded. */
  audit: Pick<AuditLog, 'append'>;
  log: Logger;
  metrics: Telemetry;
  /** Defaults suit Slack; tests shorten them. */
  tuning?: { minPostIntervalMs?: number; usergroupTtlMs?: number };
}

/** What Slack's commands and buttons call. */
export interface SlackFlows {
  approvals: ApprovalFlow;
  requests: RequestFlow;
  cards: CardFlow;
  operations: Pick<ReleaseEngine, 'control' | 'forRequest'>;
  /** `/release history`: the operations and delivery figures read from the store. */
  history: HistoryReader;
  rules: HandlerDeps['rules'];
  /** `/rollback postmortem` and the incident post's Acknowledge and Start post-mortem buttons. */
  postmortems: HandlerDeps['postmortems'];
}

export interface SlackApp {
  mode: 'http' | 'socket';
  app: App;
  client: webApi.WebClient;
  queue: PostingQueue;
  /** Who holds which role, from the config and Slack's user groups. */
  directory: RoleDirectory;
  chat: Chat;
  /** Registers the commands and buttons on the flows; call once, before `start`. */
  listen(flows: SlackFlows): void;
  /** HTTP mode: serves POST /slack/events (bounded and checked by the endpoint guard, then Bolt). */
  requestListener: RequestListener | undefined;
  /** Socket Mode: connects. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Marks when a request reached us, so ack latency counts the time Slack is waiting. */
export function stampArrival(req: object): void {
  (req as Record<string, unknown>)[RECEIVED_AT] = performance.now();
}

function arrival(source: unknown): Record<string, number> {
  const stamped = (source as Record<string, unknown> | undefined)?.[RECEIVED_AT];
  return { [RECEIVED_AT]: typeof stamped === 'number' ? stamped : performance.now() };
}

/** Slack refused the bot token or could not be reached when Lifeguard started. */
export class SlackStartupError extends Error {
  override name = 'SlackStartupError';
}

/**
 * Checks the bot token once, with our bounded retry policy, and learns the bot's ids. Bolt would otherwise
 * call auth.test itself at construction, where a failure is an unhandled rejection that kills the process.
 */
async function identify(credentials: SlackCredentials, clientOptions: webApi.WebClientOptions): Promise<{ botId: string; botUserId: string }> {
  const where = credentials.apiUrl ?? 'https://slack.com/api/';
  try {
    const identity = await new webApi.WebClient(credentials.botToken, clientOptions).auth.test();
    if (!identity.user_id || !identity.bot_id) throw new Error('auth.test did not name a bot user: is SLACK_BOT_TOKEN a bot token (xoxb-)?');
    return { botId: identity.bot_id, botUserId: identity.user_id };
  } catch (error) {
    const code = (error as { data?: { error?: string } }).data?.error;
    const why = code === 'invalid_auth' || code === 'not_authed' ? 'Slack refused SLACK_BOT_TOKEN (invalid_auth)' : code ?? (error as Error).message;
    throw new SlackStartupError(`cannot verify the bot token with Slack at ${where}: ${why}`);
  }
}

/** The Bolt app with our receiver, Web API client policy, posting queue, role directory and handlers. */
export async function createSlackApp(options: SlackAppOptions): Promise<SlackApp> {
  const { credentials, log } = options;
  const logger = boltLogger(log);
  const clientOptions = webClientOptions(credentials.apiUrl, logger);
  const identity = await identify(credentials, clientOptions);
  const socket = credentials.appToken !== undefined && credentials.appToken !== '';
  const receiver = socket
    ? new SocketModeReceiver({
        appToken: credentials.appToken!,
        logger,
        installerOptions: { clientOptions },
        customPropertiesExtractor: () => arrival(undefined),
      })
    : new HTTPReceiver({
        signingSecret: credentials.signingSecret,
        endpoints: '/slack/events',
        logger,
        customPropertiesExtractor: (req) => arrival(req),
        ...receiverErrorHandlers(options),
      });
  const app = new App({ token: credentials.botToken, ...identity, tokenVerificationEnabled: false, extendedErrorHandler: true, receiver, logger, clientOptions });
  const client = app.client;
  const queue = new PostingQueue({
    client,
    audit: options.audit,
    log,
    metrics: options.metrics,
    ...(options.tuning?.minPostIntervalMs !== undefined ? { minIntervalMs: options.tuning.minPostIntervalMs } : {}),
  });
  const directory = new UsergroupDirectory({
    client,
    roles: options.config.roles,
    log,
    ...(options.tuning?.usergroupTtlMs !== undefined ? { ttlMs: options.tuning.usergroupTtlMs } : {}),
  });
  app.error(handlerErrorHandler(options));
  const outboxClient = new webApi.WebClient(credentials.botToken, outboxClientOptions(credentials.apiUrl, logger));

  return {
    mode: socket ? 'socket' : 'http',
    app,
    client,
    queue,
    directory,
    chat: slackChat(queue, outboxClient, (handles) => directory.groupIds(handles)),
    listen: (flows) => {
      const deps: HandlerDeps = { config: options.config, flow: flows.approvals, requests: flows.requests, cards: flows.cards, operations: flows.operations, history: flows.history, rules: flows.rules, postmortems: flows.postmortems, queue, audit: options.audit, log, metrics: options.metrics };
      registerCommands(app, deps);
      registerInteractions(app, deps);
    },
    requestListener: socket
      ? undefined
      : guardSlackEndpoint((receiver as HTTPReceiver).requestListener, {
          signingSecret: credentials.signingSecret,
          routes: SLACK_ROUTES,
          log,
          metrics: options.metrics,
        }),
    start: async () => {
      if (socket) await app.start();
    },
    stop: async () => {
      if (socket) await app.stop();
      await queue.drain();
    },
  };
}
