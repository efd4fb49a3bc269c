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

/** One scripted action and everything Lifeguard sent to Slack because of it, in order. */
export interface Played {
  title: string;
  sent: Sent[];
}

const CHECKOUT_CHANNEL = 'C0CHECKOUT';
/** Calls that show the user something. */
const VISIBLE = new Set(['chat.postMessage', 'chat.update', 'chat.postEphemeral', 'views.open', 'response_url']);

function visibleSince(slack: SlackStandin, mark: number, user: string): Sent[] {
  return slack.calls
    .slice(mark)
    .filter((c) => VISIBLE.has(c.method) && c.response.ok === true)
    .map((c) => ({ method: c.method, args: c.args, to: user, ...(typeof c.response.ts === 'string' ? { ts: c.response.ts } : {}) }));
}

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
export async function slashCommand(side: SlackSide, user: string, line: string): Promise<Played> {
  const command = line.trim().split(/\s+/)[0] ?? '';
  const text = line.trim().slice(command.length).trim();
  const mark = side.slack.calls.length;
  const responseUrl = side.slack.responseUrl();
  const body = slashCommandBody({ command, text, user_id: user, channel_id: CHECKOUT_CHANNEL, response_url: responseUrl, trigger_id: side.slack.triggerId() });
  const reply = await postSigned(`${side.url}/slack/events`, side.signingSecret, body);
  if (reply.status !== 200) throw new Error(`Lifeguard answered ${command} with HTTP ${reply.status}: ${reply.body}`);
  await side.slack.waitFor(answered(side.slack, responseUrl), 30_000);
  return { title: line, sent: [...ackOf(reply.body, user), ...visibleSince(side.slack, mark, user)] };
}

/** The request id, channel and ts of the newest card with an Approve button. */
export function latestCard(slack: SlackStandin): { requestId: string; channel: string; ts: string } {
  const posts = slack.okCalls('chat.postMessage').reverse();
  for (const post of posts) {
    const value = approveValue(post);
    if (value) return { requestId: value, channel: String(post.response.channel), ts: String(post.response.ts) };
  }
  throw new Error('Lifeguard posted no card with an Approve button');
}

function approveValue(call: RecordedCall): string | undefined {
  const blocks = (call.args.blocks ?? []) as { type?: string; elements?: { action_id?: string; value?: string }[] }[];
  return blocks.flatMap((b) => b.elements ?? []).find((e) => e.action_id === 'approval.approve')?.value;
}

/** Clicks Approve on a card as `user`, and waits for the card to be redrawn or the clicker to be told why not. */
export async function clickApprove(side: SlackSide, user: string, card: { requestId: string; channel: string; ts: string }): Promise<Played> {
  const mark = side.slack.calls.length;
  const responseUrl = side.slack.responseUrl();
  const payload = buttonClick({ user, actionId: 'approval.approve', value: card.requestId, channel: card.channel, messageTs: card.ts, responseUrl, triggerId: side.slack.triggerId() });
  const reply = await postSigned(`${side.url}/slack/events`, side.signingSecret, interactionBody(payload));
  if (reply.status !== 200) throw new Error(`Lifeguard answered the Approve click with HTTP ${reply.status}: ${reply.body}`);
  await side.slack.waitFor(() => answered(side.slack, responseUrl)() || side.slack.calls.slice(mark).some((c) => c.method === 'chat.update'), 30_000);
  return { title: `clicks Approve on request #${card.requestId}`, sent: visibleSince(side.slack, mark, user) };
}
