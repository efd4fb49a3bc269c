import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { parse as parseForm } from 'node:querystring';
import { HTTPModuleFunctions, verifySlackRequest, type BufferedIncomingMessage } from '@slack/bolt';
import type { Logger } from 'pino';
import type { Telemetry } from '../../metrics.js';
import { readBoundedBody } from '../http/bounded-body.js';
import { checkEnvelope, type SlackRoutes } from './envelope.js';
import { SeenRequests } from './seen-requests.js';

/** Slack's rule for request timestamps: at most five minutes from now. Bolt checks only the past side. */
export const SIGNATURE_WINDOW_S = 300;

export interface EndpointLimits {
  /** Slack's payloads are a few kilobytes; a card's modal with its longest input stays far below this. */
  maxBodyBytes: number;
  /** For the whole body, from the end of the headers: Slack gives up on us after 3 s anyway. */
  bodyTimeoutMs: number;
  /** Bolt answers within about 3 s (its unacknowledged-request timer); later than this, Bolt itself broke. */
  answerWithinMs: number;
  /** Accepted requests remembered to refuse their replays; a few minutes of Slack traffic fit many times over. */
  seenCapacity: number;
}

export const DEFAULT_LIMITS: EndpointLimits = { maxBodyBytes: 1024 * 1024, bodyTimeoutMs: 5_000, answerWithinMs: 10_000, seenCapacity: 10_000 };

export interface GuardOptions {
  signingSecret: string;
  routes: SlackRoutes;
  log: Logger;
  metrics: Pick<Telemetry, 'slackRequestErrors'>;
  limits?: Partial<EndpointLimits>;
}

type Refusal = 'too_large' | 'timeout' | 'signature' | 'timestamp' | 'replay' | 'malformed';

const REFUSALS: Record<Refusal, { status: number; text: string; log: string }> = {
  too_large: { status: 413, text: 'request body too large', log: 'refused a request to /slack/events: body over the size limit' },
  timeout: { status: 408, text: 'request body not received in time', log: 'refused a request to /slack/events: body not received in time' },
  signature: { status: 401, text: 'invalid Slack signature', log: 'refused a request to /slack/events: missing or wrong Slack signature' },
  timestamp: { status: 401, text: 'request timestamp outside the five-minute window', log: 'refused a request to /slack/events: stale or future Slack timestamp' },
  replay: { status: 409, text: 'request already received', log: 'refused a request to /slack/events: replay of a signed request already received' },
  malformed: { status: 400, text: 'malformed Slack request', log: 'refused a request to /slack/events: not a Slack request Lifeguard serves' },
};

/** Keeps what is logged from a body's content short: it is the sender's text. */
const MAX_WHY = 300;

type Signed = { ok: true; signature: string; timestamp: number } | { ok: false; reason: 'signature' | 'timestamp'; why: string };

/** Bolt's check of the signature, after ours of the timestamp in both directions. */
function checkSignature(req: IncomingMessage, text: string, signingSecret: string, nowMs: number): Signed {
  const signature = req.headers['x-slack-signature'];
  const stamp = req.headers['x-slack-request-timestamp'];
  if (typeof signature !== 'string' || typeof stamp !== 'string') return { ok: false, reason: 'signature', why: 'x-slack-signature or x-slack-request-timestamp missing' };
  if (!/^\d{1,12}$/.test(stamp)) return { ok: false, reason: 'timestamp', why: 'x-slack-request-timestamp is not a unix time in seconds' };
  const timestamp = Number(stamp);
  const skew = timestamp - Math.floor(nowMs / 1000);
  if (Math.abs(skew) > SIGNATURE_WINDOW_S) return { ok: false, reason: 'timestamp', why: `x-slack-request-timestamp is ${Math.abs(skew)} s in the ${skew > 0 ? 'future' : 'past'}` };
  try {
    verifySlackRequest({ signingSecret, body: text, headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': timestamp }, nowMilliseconds: nowMs });
  } catch (error) {
    return { ok: false, reason: 'signature', why: (error as Error).message };
  }
  return { ok: true, signature, timestamp };
}

/** Slack's connectivity probe, which Bolt answers without a signature (and strips of anything else). */
function isSslCheck(req: IncomingMessage, text: string): boolean {
  return req.headers['content-type'] === 'application/x-www-form-urlencoded' && parseForm(text).ssl_check === '1';
}

/**
 * Stands in front of Bolt's receiver on POST /slack/events so that no request, signed or not, can grow memory or
 * reach Bolt in a shape it would throw on: the body is read within a size and time limit, the timestamp must be
 * within five minutes either way, the signature is Bolt's check, a signed request is accepted once (Slack's own
 * retries, marked `x-slack-retry-num`, are acknowledged without acting again), and only the commands,
 * buttons and modals Lifeguard serves, with the fields Bolt reads, go on. Every refusal is one log line and a count.
 */
export function guardSlackEndpoint(bolt: RequestListener, options: GuardOptions): RequestListener {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const seen = new SeenRequests(limits.seenCapacity);
  const { log, metrics } = options;
  let warnedFullAt = 0;

  const header = (req: IncomingMessage, name: string) => req.headers[name]?.toString().slice(0, 40);
  const context = (req: IncomingMessage) => ({
    remote: req.socket.remoteAddress,
    // Not named after the signature: the logger redacts every field whose name says signature.
    sigHeader: req.headers['x-slack-signature'] !== undefined,
    timestamp: header(req, 'x-slack-request-timestamp'),
    retry: header(req, 'x-slack-retry-num'),
  });

  const refuse = (req: IncomingMessage, res: ServerResponse, reason: Refusal, why?: string) => {
    const refusal = REFUSALS[reason];
    metrics.slackRequestErrors.inc({ reason });
    log.warn({ security: true, reason, status: refusal.status, ...context(req), ...(why ? { why: why.slice(0, MAX_WHY) } : {}) }, refusal.log);
    // A body left unread cannot be skipped on a kept-alive connection: close it rather than read the rest.
    const unread = reason === 'too_large' || reason === 'timeout';
    res.writeHead(refusal.status, { 'content-type': 'text/plain', ...(unread ? { connection: 'close' } : {}) }).end(`${refusal.text}\n`);
  };

  const fail = (req: IncomingMessage, res: ServerResponse, reason: 'internal' | 'unanswered', error?: unknown) => {
    metrics.slackRequestErrors.inc({ reason });
    log.error({ reason, ...context(req), ...(error !== undefined ? { err: error } : {}) }, reason === 'internal' ? 'Lifeguard failed on a Slack request; answered 500' : `Bolt did not answer a Slack request within ${limits.answerWithinMs} ms; answered 500`);
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error\n');
  };

  const remember = (key: string, untilMs: number) => {
    if (seen.remember(key, untilMs) && Date.now() - warnedFullAt > SIGNATURE_WINDOW_S * 1000) {
      warnedFullAt = Date.now();
      log.warn({ security: true, capacity: limits.seenCapacity }, 'more distinct Slack requests in five minutes than the replay check remembers; the oldest are forgotten early');
    }
  };

  const dispatch = (req: BufferedIncomingMessage, res: ServerResponse) => {
    const watchdog = setTimeout(() => fail(req, res, 'unanswered'), limits.answerWithinMs).unref();
    res.once('close', () => clearTimeout(watchdog));
    try {
      bolt(req, res);
    } catch (error) {
      clearTimeout(watchdog);
      fail(req, res, 'internal', error);
    }
  };

  const acknowledgeRetry = (req: IncomingMessage, res: ServerResponse, why: string) => {
    log.info({ ...context(req), retryReason: header(req, 'x-slack-retry-reason') }, `acknowledged Slack's retry of a request already received (${why}); not acting on it again`);
    res.writeHead(200).end();
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const read = await readBoundedBody(req, { maxBytes: limits.maxBodyBytes, timeoutMs: limits.bodyTimeoutMs });
    if (!read.ok) {
      if (read.reason === 'aborted') {
        metrics.slackRequestErrors.inc({ reason: 'aborted' });
        log.info(context(req), 'a request to /slack/events was aborted by its sender before its body was complete');
        return;
      }
      refuse(req, res, read.reason);
      return;
    }
    const buffered = Object.assign(req, { rawBody: read.body });
    const text = read.body.toString();
    if (isSslCheck(req, text)) return dispatch(buffered, res);

    const now = Date.now();
    const signed = checkSignature(req, text, options.signingSecret, now);
    if (!signed.ok) return refuse(req, res, signed.reason, signed.why);
    const retry = req.headers['x-slack-retry-num'] !== undefined;
    const signatureKey = `signature:${signed.signature}`;
    if (seen.has(signatureKey)) return retry ? acknowledgeRetry(req, res, 'same signature') : refuse(req, res, 'replay');

    let body: unknown;
    try {
      body = HTTPModuleFunctions.parseHTTPRequestBody(buffered);
    } catch (error) {
      return refuse(req, res, 'malformed', `the body does not parse as Bolt reads it (content-type ${req.headers['content-type'] ?? 'none'}): ${(error as Error).message}`);
    }
    const envelope = checkEnvelope(body, options.routes);
    if (!envelope.ok) return refuse(req, res, 'malformed', envelope.why);
    const deliveryKey = envelope.kind !== 'url_verification' && envelope.deliveryId ? `delivery:${envelope.deliveryId}` : undefined;
    // A retry may come with a new timestamp, hence a new signature: it is also known by what it delivers.
    if (retry && deliveryKey && seen.has(deliveryKey)) return acknowledgeRetry(req, res, 'same delivery');

    remember(signatureKey, (signed.timestamp + SIGNATURE_WINDOW_S) * 1000);
    if (deliveryKey) remember(deliveryKey, now + 2 * SIGNATURE_WINDOW_S * 1000);
    dispatch(buffered, res);
  };

  return (req, res) => {
    handle(req, res).catch((error: unknown) => fail(req, res, 'internal', error));
  };
}
