import type { ReceiverProcessEventErrorHandlerArgs, ReceiverUnhandledRequestHandlerArgs } from '@slack/bolt';
import type { Logger } from 'pino';
import type { Telemetry } from '../../metrics.js';

type Deps = { log: Logger; metrics: Pick<Telemetry, 'slackRequestErrors'> };

/** Who asked for what, to put beside an error: never the text or values a user typed. */
export function describeRequest(body: unknown): Record<string, unknown> {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const field = (value: unknown, key: string) => (typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined);
  const actions = Array.isArray(b.actions) ? b.actions : [];
  return {
    kind: b.command !== undefined ? 'command' : b.type,
    user: b.user_id ?? field(b.user, 'id'),
    route: b.command ?? field(actions[0], 'action_id') ?? field(b.view, 'callback_id'),
  };
}

/**
 * Bolt's HTTPReceiver hooks: by default they answer 500 or 404 and log through Bolt's logger without the request;
 * here each failure is one line with its context, a count, and a 500, since by then the request was signed and
 * well formed (the endpoint guard refused everything else) and the fault is ours.
 */
export function receiverErrorHandlers({ log, metrics }: Deps) {
  return {
    processEventErrorHandler: async ({ error, request, response }: ReceiverProcessEventErrorHandlerArgs): Promise<boolean> => {
      metrics.slackRequestErrors.inc({ reason: 'internal' });
      log.error({ err: error, remote: request.socket.remoteAddress }, 'Bolt failed to process a Slack request');
      if (response.headersSent) return false;
      response.writeHead(500, { 'content-type': 'text/plain' }).end('internal error\n');
      return true;
    },
    unhandledRequestHandler: ({ request, response }: ReceiverUnhandledRequestHandlerArgs): void => {
      metrics.slackRequestErrors.inc({ reason: 'unacknowledged' });
      log.error({ remote: request.socket.remoteAddress }, 'no Slack handler acknowledged a request within 3 s (Slack has given up on it); answered 500');
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' }).end('not acknowledged\n');
    },
  };
}

/** Bolt's global error handler: a listener threw, before or after its ack. */
export function handlerErrorHandler({ log, metrics }: Deps) {
  return async ({ error, body }: { error: Error; body: unknown }): Promise<void> => {
    metrics.slackRequestErrors.inc({ reason: 'handler' });
    log.error({ err: error, request: describeRequest(body) }, 'a Slack handler failed');
  };
}
