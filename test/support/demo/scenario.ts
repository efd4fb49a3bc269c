import Database from 'better-sqlite3';
import { buttonClick } from '../slack-standin/payloads.js';
import { interactionBody, postSigned, slashCommandBody } from '../slack-standin/sign.js';
import type { RecordedCall, SlackStandin } from '../slack-standin/web-api.js';
import type { Sent } from './render.js';

/** What the demo's Slack surface needs: where Lifeguard listens, its secret, and the Slack stand-in. */
export interface SlackSide {
  url: string;
  signingSecret: string;
  slack: SlackStandin;
}

/** One scripted action: Lifeguard's HTTP acknowledgement, and the response_url its later answers go to. */
export interface Acted {
  ack: Sent[];
  responseUrl: string;
}

/** A button on a message: a click carries the message's channel and ts, and the button's value. */
export interface Button {
  value: string;
  channel: string;
  ts: string;
}

const CHECKOUT_CHANNEL = 'C0CHECKOUT';

/** What Lifeguard put in its HTTP acknowledgement: a JSON message, plain text, or nothing. */
export function ackOf(body: string, user: string): Sent[] {
  if (!body) return [];
  let args: Record<string, unknown>;
  try {
    args = JSON.parse(body) as Record<string, unknown>;
  } catch {
    args = { text: body };
  }
  return [{ method: 'ack', args, to: user }];
}

const answered = (slack: SlackStandin, responseUrl: string) => () => slack.callsTo('response_url').some((c) => c.args.url === new URL(responseUrl).pathname);

/**
 * Types a slash command in #checkout-releases as `user`, and waits for the answer Lifeguard sends on the
 * response_url once its work is done (every command the scenario plays works after its ack).
 */
export async function slashCommand(side: SlackSide, user: string, line: string): Promise<Acted> {
  const command = line.trim().split(/\s+/)[0] ?? '';
  const text = line.trim().slice(command.length).trim();
  const responseUrl = side.slack.responseUrl();
  const body = slashCommandBody({ command, text, user_id: user, channel_id: CHECKOUT_CHANNEL, response_url: responseUrl, trigger_id: side.slack.triggerId() });
  const reply = await postSigned(`${side.url}/slack/events`, side.signingSecret, body);
  if (reply.status !== 200) throw new Error(`Lifeguard answered ${command} with HTTP ${reply.status}: ${reply.body}`);
  await side.slack.waitFor(answered(side.slack, responseUrl), 30_000);
  return { ack: ackOf(reply.body, user), responseUrl };
}

function buttonValue(message: Record<string, unknown>, actionId: string): string | undefined {
  const blocks = (message.blocks ?? []) as { elements?: { action_id?: string; value?: string }[] }[];
  return blocks.flatMap((b) => b.elements ?? []).find((e) => e.action_id === actionId)?.value;
}

/** The Approve button of the newest card that has one. */
export function approveButton(slack: SlackStandin): Button {
  for (const post of slack.topLevelPosts().reverse()) {
    const value = buttonValue(post.args, 'approval.approve');
    if (value) return { value, channel: String(post.response.channel), ts: String(post.response.ts) };
  }
  throw new Error('Lifeguard posted no card with an Approve button');
}

/** The button `actionId` on the message `ts` as Slack shows it now (its latest update), if it has one. */
export function buttonOn(slack: SlackStandin, ts: string, actionId: string): Button | undefined {
  const versions: RecordedCall[] = slack.calls.filter(
    (c) => c.response.ok === true && ((c.method === 'chat.update' && c.args.ts === ts) || (c.method === 'chat.postMessage' && c.response.ts === ts)),
  );
  const latest = versions.at(-1);
  const value = latest && buttonValue(latest.args, actionId);
  return value === undefined ? undefined : { value, channel: String(latest!.response.channel), ts };
}

/** Clicks a button as `user`, and waits for its message to be redrawn or the clicker to be told something. */
export async function click(side: SlackSide, user: string, actionId: string, button: Button): Promise<Acted> {
  const mark = side.slack.calls.length;
  const responseUrl = side.slack.responseUrl();
  const payload = buttonClick({ user, actionId, value: button.value, channel: button.channel, messageTs: button.ts, responseUrl, triggerId: side.slack.triggerId() });
  const reply = await postSigned(`${side.url}/slack/events`, side.signingSecret, interactionBody(payload));
  if (reply.status !== 200) throw new Error(`Lifeguard answered the ${actionId} click with HTTP ${reply.status}: ${reply.body}`);
  const redrawn = () => side.slack.calls.slice(mark).some((c) => c.method === 'chat.update' && c.args.ts === button.ts);
  await side.slack.waitFor(() => answered(side.slack, responseUrl)() || redrawn(), 30_000);
  return { ack: ackOf(reply.body, user), responseUrl };
}

/** An operation as Lifeguard's store holds it: enough to know when the scenario may go on. */
export interface OperationState {
  id: number;
  state: string;
  pause: { reason: string } | null;
}

function read<T>(db: string, sql: string, ...params: unknown[]): T | undefined {
  const reader = new Database(db, { readonly: true, fileMustExist: true });
  try {
    return reader.prepare(sql).get(...params) as T | undefined;
  } finally {
    reader.close();
  }
}

/** The operation request `requestId` started, once it has. */
export function operationOf(db: string, requestId: number): OperationState | undefined {
  const row = read<{ id: number; body: string }>(db, 'SELECT id, body FROM operations WHERE request_id = ?', requestId);
  return row && { ...(JSON.parse(row.body) as Omit<OperationState, 'id'>), id: row.id };
}

/** Whether every message Lifeguard committed to send has reached Slack (or been given up on). */
export function outboxDelivered(db: string): boolean {
  return read<{ n: number }>(db, 'SELECT COUNT(*) AS n FROM outbox WHERE sent_at IS NULL AND gave_up_at IS NULL')!.n === 0;
}

/** The newest request and operation ids (0 for none yet): a user's own request gets the next. */
export function lastIds(db: string): { request: number; operation: number } {
  return read<{ request: number; operation: number }>(
    db,
    'SELECT (SELECT COALESCE(MAX(id), 0) FROM approval_requests) AS request, (SELECT COALESCE(MAX(id), 0) FROM operations) AS operation',
  )!;
}
