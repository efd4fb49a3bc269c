import * as z from 'zod';
import { REASON_MAX, REASON_MIN, checkReason, parseId } from '../../../domain/input-rules.js';
import type { CardRef } from '../../../domain/approval.js';

/**
 * Clicks and form submissions as Slack sends them, checked as if the client had checked nothing: Bolt hands
 * the handlers whatever JSON arrived, so every field they use is parsed here first. Parsers never throw.
 */

const slackValue = (pattern: RegExp, what: string) => z.string({ error: `is not a Slack ${what}` }).regex(pattern, `is not a Slack ${what}`);
const userId = slackValue(/^[UW][A-Z0-9]{2,20}$/, 'user id');
const channelId = slackValue(/^[CDG][A-Z0-9]{2,20}$/, 'channel id');
const messageTs = slackValue(/^[0-9]{10}\.[0-9]{6}$/, 'message ts');

const clickSchema = z.object({
  user: z.object({ id: userId }, { error: 'is missing' }),
  channel: z.object({ id: channelId }).nullish(),
  message: z.object({ ts: messageTs }).nullish(),
  container: z.object({ channel_id: channelId.optional(), message_ts: messageTs.optional() }).nullish(),
  trigger_id: z.string().min(1).max(255).optional(),
});

const commandSchema = z.object({
  user_id: userId,
  text: z.string({ error: 'must be given once' }).default(''),
});

/** A slash command's sender and text; the text is parsed by the command grammar (commands/). */
export function parseCommand(command: unknown): { ok: true; user: string; text: string } | { ok: false; problem: string } {
  const parsed = commandSchema.safeParse(command);
  if (!parsed.success) return { ok: false, problem: firstIssue(parsed.error).problem };
  return { ok: true, user: parsed.data.user_id, text: parsed.data.text };
}

/** Shortens and quotes a value from Slack for a log line or a reply (escape it before it goes into mrkdwn). */
function shown(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  const clipped = text.length > 60 ? `${text.slice(0, 60)}…` : text;
  return typeof value === 'string' ? `“${clipped}”` : clipped;
}

/** The first problem of a payload: the field (`user.id`) and what is wrong with it. */
function firstIssue(error: z.ZodError): { field: string; problem: string } {
  const issue = error.issues[0]!;
  const field = issue.path.map(String).join('.') || 'payload';
  return { field, problem: `${field} ${issue.message}` };
}

/** A button click worth acting on: who clicked, on which card, and the id its value carries. */
export interface Click {
  user: string;
  card: CardRef;
  id: number;
  triggerId: string | undefined;
}

/** Why a click is refused; `user` is set when it is known, so the refusal can be told to them and audited. */
export interface ClickRefusal {
  problem: string;
  user?: string | undefined;
  /** What to tell the clicker (plain text; escape before use); absent when only a log line fits. */
  tell?: string | undefined;
  value?: string | undefined;
}

/** Parses a block action on one of our buttons; `idKind` names what its value must be. */
export function parseClick(body: unknown, action: unknown, idKind: 'request' | 'release'): { ok: true; click: Click } | ({ ok: false } & ClickRefusal) {
  const parsed = clickSchema.safeParse(body);
  const rawUser = (body as { user?: { id?: unknown } } | null)?.user?.id;
  const user = userId.safeParse(rawUser).success ? (rawUser as string) : undefined;
  if (!parsed.success) {
    const { field, problem } = firstIssue(parsed.error);
    return { ok: false, problem, user, tell: user ? `Slack sent this click without a valid ${field}, so it was not counted. Click the button again.` : undefined };
  }
  const { channel, message, container } = parsed.data;
  const cardChannel = channel?.id ?? container?.channel_id;
  const cardTs = message?.ts ?? container?.message_ts;
  const disagree = (container?.channel_id !== undefined && container.channel_id !== cardChannel) || (container?.message_ts !== undefined && container.message_ts !== cardTs);
  if (cardChannel === undefined || cardTs === undefined || disagree) {
    const problem = disagree ? 'the click names two different messages' : 'the click does not name the message its button is on';
    return { ok: false, problem, user, tell: `Slack did not say clearly which card this button is on (${problem}), so the click was not counted.` };
  }
  const value = (action as { value?: unknown } | null)?.value;
  const id = typeof value === 'string' ? parseId(value) : undefined;
  if (id === undefined) {
    const problem = `the button value ${shown(value)} is not a ${idKind} number`;
    return { ok: false, problem, user, value: typeof value === 'string' ? value : undefined, tell: `This button carried ${shown(value)}, which is not a ${idKind} number, so the click was not counted.` };
  }
  return { ok: true, click: { user: parsed.data.user.id, card: { channel: cardChannel, messageTs: cardTs }, id, triggerId: parsed.data.trigger_id } };
}

/** What the reject form carries from the click that opened it (its private_metadata). */
const rejectContextSchema = z.object({
  requestId: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  channel: channelId,
  messageTs,
});
type RejectContext = z.infer<typeof rejectContextSchema>;

const submissionSchema = z.object({
  user: z.object({ id: userId }, { error: 'is missing' }),
  view: z.object({
    private_metadata: z.string().max(3000),
    state: z.object({ values: z.record(z.string(), z.record(z.string(), z.object({ value: z.string().nullish() }).loose())) }),
  }),
});

/** A reject form worth acting on. */
export interface RejectForm {
  user: string;
  requestId: number;
  card: CardRef;
  reason: string;
}

/** Why a form is refused: the message shown on the form's field, and, for a broken form, what to log. */
interface FormRefusal {
  message: string;
  log?: string | undefined;
}

const RESTART = 'close this form and click Reject on the card again';

/** Parses a submission of the reject form; `field` is the block and action ids of its reason input. */
export function parseRejectForm(body: unknown, field: { block: string; action: string }): { ok: true; form: RejectForm } | ({ ok: false } & FormRefusal) {
  const parsed = submissionSchema.safeParse(body);
  if (!parsed.success) {
    const { field, problem } = firstIssue(parsed.error);
    return { ok: false, message: `Slack sent this form without a valid ${field}: ${RESTART}.`, log: problem };
  }
  const context = rejectContext(parsed.data.view.private_metadata);
  if (!context.ok) return { ok: false, message: `Lifeguard could not tell which request this form is for: ${RESTART}.`, log: `private_metadata ${context.problem}` };
  const checked = checkReason(parsed.data.view.state.values[field.block]?.[field.action]?.value ?? undefined);
  if (!checked.ok) {
    return {
      ok: false,
      message:
        checked.problem === 'too-short'
          ? `Give a reason of at least ${REASON_MIN} visible characters; spaces and invisible characters do not count.`
          : `Keep the reason to at most ${REASON_MAX} characters (it has ${checked.length}).`,
    };
  }
  const { requestId, channel, messageTs: ts } = context.context;
  return { ok: true, form: { user: parsed.data.user.id, requestId, card: { channel, messageTs: ts }, reason: checked.reason } };
}

function rejectContext(metadata: string): { ok: true; context: RejectContext } | { ok: false; problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(metadata);
  } catch {
    return { ok: false, problem: `is not JSON: ${shown(metadata)}` };
  }
  const parsed = rejectContextSchema.safeParse(json);
  return parsed.success ? { ok: true, context: parsed.data } : { ok: false, problem: firstIssue(parsed.error).problem };
}
