import { interactionBody, postSigned, slashCommandBody } from '../slack-standin/sign.js';
import type { Workspace } from './workspace.js';

/**
 * The page's actions turned into the signed requests Slack would send Lifeguard's /slack/events: a slash command,
 * a button click (block_actions, with the message it is on) and a modal submission (view_submission). Each answer
 * is Lifeguard's HTTP status and body, so the page can say when a request was refused.
 */

export interface Lifeguard {
  /** Where Lifeguard serves /slack/events. */
  url: string;
  signingSecret: string;
}

export type Act =
  | { user: string; channel: string; command: string; text: string }
  | { user: string; channel: string; action: { action_id: string; block_id?: string; value?: string }; message: { ts: string; ephemeral?: string } }
  | { user: string; modal: string; values: Record<string, Record<string, string>> };

export interface Answer {
  status: number;
  body: string;
}

const TEAM = { id: 'T0LIFEGUARD', domain: 'lifeguard' };
const userOf = (id: string) => ({ id, username: id.toLowerCase(), name: id.toLowerCase(), team_id: TEAM.id });

/** Checks the shape of a POST /act body from the page; a message for the page when it is not one. */
export function parseAct(body: unknown): Act | string {
  const b = body as Record<string, unknown> | null;
  if (!b || typeof b.user !== 'string' || !/^U[A-Z0-9]+$/.test(b.user)) return 'user: a Slack user id';
  if (typeof b.modal === 'string') return typeof b.values === 'object' && b.values ? (b as Act) : 'values: the modal inputs by block and action id';
  if (typeof b.channel !== 'string') return 'channel: a channel id';
  if (typeof b.command === 'string') return /^\/[a-z]+$/.test(b.command) && typeof b.text === 'string' ? (b as Act) : 'command: /name, and text';
  const action = b.action as Record<string, unknown> | undefined;
  const message = b.message as Record<string, unknown> | undefined;
  if (typeof action?.action_id === 'string' && typeof message?.ts === 'string') return b as Act;
  return 'expected a command, an action on a message, or a modal submission';
}

export async function perform(act: Act, workspace: Workspace, lifeguard: Lifeguard, channelName: (id: string) => string): Promise<Answer> {
  const post = (body: string) => postSigned(`${lifeguard.url}/slack/events`, lifeguard.signingSecret, body);
  if ('command' in act) {
    const origin = { user: act.user, channel: act.channel };
    const { responseUrl, triggerId } = workspace.originate(origin);
    const reply = await post(slashCommandBody({ command: act.command, text: act.text, user_id: act.user, channel_id: act.channel, response_url: responseUrl, trigger_id: triggerId }));
    if (reply.status === 200) workspace.acknowledged(origin, reply.body);
    return { status: reply.status, body: reply.body };
  }
  if ('action' in act) {
    const origin = { user: act.user, channel: act.channel, ...(act.message.ephemeral ? { ephemeral: act.message.ephemeral } : {}) };
    const { responseUrl, triggerId } = workspace.originate(origin);
    const reply = await post(interactionBody(blockActions(act, workspace, responseUrl, triggerId, channelName)));
    if (reply.status === 200) workspace.acknowledged(origin, reply.body);
    return { status: reply.status, body: reply.body };
  }
  const modal = workspace.modal(act.modal);
  if (!modal || modal.user !== act.user) return { status: 404, body: 'no such modal open for this user' };
  const reply = await post(interactionBody(viewSubmission(act, modal.view)));
  // Slack keeps the modal open when the app answers with errors for its fields.
  if (reply.status === 200 && !reply.body.includes('"response_action":"errors"')) workspace.closeModal(act.modal);
  return { status: reply.status, body: reply.body };
}

/** A click as Slack sends it: the message it is on (as Slack holds it now), or only its ts for an ephemeral one. */
function blockActions(act: Extract<Act, { action: unknown }>, workspace: Workspace, responseUrl: string, triggerId: string, channelName: (id: string) => string): Record<string, unknown> {
  const message = act.message.ephemeral ? undefined : workspace.message(act.channel, act.message.ts);
  return {
    type: 'block_actions',
    user: userOf(act.user),
    api_app_id: 'A0LIFEGUARD',
    token: 'deprecated-verification-token',
    container: { type: 'message', message_ts: act.message.ts, channel_id: act.channel, is_ephemeral: Boolean(act.message.ephemeral) },
    trigger_id: triggerId,
    team: TEAM,
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: act.channel, name: channelName(act.channel) },
    ...(message ? { message: { type: 'message', ts: message.ts, user: message.user, text: message.text, blocks: message.blocks ?? [], ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}) } } : {}),
    state: { values: {} },
    response_url: responseUrl,
    actions: [{ ...act.action, type: 'button', action_ts: (Date.now() / 1000).toFixed(6) }],
  };
}

/** A modal submission as Slack sends it: the view Lifeguard opened, with the inputs' values in its state. */
function viewSubmission(act: Extract<Act, { modal: string }>, view: Record<string, unknown>): Record<string, unknown> {
  const values = Object.fromEntries(
    Object.entries(act.values).map(([block, actions]) => [block, Object.fromEntries(Object.entries(actions).map(([action, value]) => [action, { type: 'plain_text_input', value }]))]),
  );
  return {
    type: 'view_submission',
    team: TEAM,
    user: userOf(act.user),
    api_app_id: 'A0LIFEGUARD',
    token: 'deprecated-verification-token',
    trigger_id: `${Date.now()}.submission`,
    view: { ...view, team_id: TEAM.id, state: { values }, hash: 'h', app_id: 'A0LIFEGUARD', bot_id: 'B0LIFEGUARD' },
    response_urls: [],
    is_enterprise_install: false,
  };
}
