/**
 * Renders what Lifeguard sent to Slack as terminal text: a message's Block Kit blocks read the way the Slack
 * client shows them (header, fields as "Label: value", buttons in brackets), mentions, dates, channels and
 * emoji codes resolved to plain text.
 */

/** Who is who in the demo workspace, for `<@U…>` and `<#C…>`. */
export interface Names {
  users: Record<string, string>;
  channels: Record<string, string>;
}

const EMOJI: Record<string, string> = {
  hourglass_flowing_sand: '⏳',
  white_check_mark: '✅',
  no_entry: '⛔',
  no_entry_sign: '🚫',
  alarm_clock: '⏰',
  information_source: 'ℹ️ ',
  arrow_forward: '▶',
  white_square: '□',
  warning: '⚠️ ',
  x: '❌',
  mag: '🔍',
  double_vertical_bar: '⏸',
  rewind: '⏪',
  fast_forward: '⏩',
  leftwards_arrow_with_hook: '↩️ ',
  octagonal_sign: '🛑',
  heavy_minus_sign: '➖',
  large_green_circle: '🟢',
  large_yellow_circle: '🟡',
  red_circle: '🔴',
  rotating_light: '🚨',
  sos: '🆘',
};

/** Slack mrkdwn as plain text: links, mentions and dates resolved, emphasis marks and escapes removed. */
export function plainText(mrkdwn: string, names: Names): string {
  return mrkdwn
    .replace(/<@([A-Z0-9]+)>/g, (_, id: string) => `@${names.users[id] ?? id}`)
    .replace(/<#([A-Z0-9]+)(?:\|([^>]*))?>/g, (_, id: string, label?: string) => `#${label || names.channels[id] || id}`)
    .replace(/<!date\^\d+\^[^|>]*\|([^>]*)>/g, '$1')
    .replace(/<(https?:[^|>]+)\|([^>]+)>/g, '$2 ($1)')
    .replace(/:([a-z_]+):/g, (whole, code: string) => EMOJI[code] ?? whole)
    .replace(/\n?```([\s\S]*?)```\n?/g, (_, code: string) => `\n${code.split('\n').map((line) => `  ${line}`).join('\n')}\n`)
    .replace(/`([^`\n]+)`/g, '$1')
    .replace(/(^|[\s(])\*([^*\n]+)\*/g, '$1$2')
    // As in Slack, a mark inside a word (query_range) neither opens nor closes emphasis.
    .replace(/(^|[\s(])_(\S(?:[^\n]*?\S)?)_(?![A-Za-z0-9])/g, '$1$2')
    .replace(/(^|[\s(])~(\S(?:[^\n]*?\S)?)~(?![A-Za-z0-9])/g, '$1$2')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/^\n+|\n+$/g, '');
}

interface TextObject {
  text?: string;
}
interface Block {
  type?: string;
  text?: TextObject;
  fields?: TextObject[];
  /** Context elements carry their text directly; buttons carry a text object. */
  elements?: { type?: string; text?: string | TextObject }[];
}

function blockLines(block: Block, names: Names): string[] {
  const text = (t: string | TextObject | undefined) => plainText(typeof t === 'string' ? t : (t?.text ?? ''), names);
  switch (block.type) {
    case 'header':
      return [`■ ${text(block.text)}`];
    case 'section': {
      const lines = block.text ? text(block.text).split('\n') : [];
      for (const field of block.fields ?? []) {
        const [label = '', ...value] = text(field).split('\n');
        lines.push(`${label}: ${value.join(' ')}`);
      }
      return lines;
    }
    case 'context':
      return (block.elements ?? []).map((e) => `(${text(e.text)})`);
    case 'actions':
      return [(block.elements ?? []).map((e) => `[ ${text(e.text)} ]`).join(' ')];
    case 'divider':
      return ['────'];
    default:
      return [];
  }
}

/** A message's content, as Slack's Web API takes it. */
export interface Message {
  text?: unknown;
  blocks?: unknown;
}

/** The message as the Slack client shows it: its blocks when it has any, else its text. */
export function renderMessage(message: Message, names: Names): string[] {
  const blocks = Array.isArray(message.blocks) ? (message.blocks as Block[]) : [];
  const lines = blocks.flatMap((b) => blockLines(b, names));
  return lines.length ? lines : plainText(typeof message.text === 'string' ? message.text : '', names).split('\n');
}

/** One thing Lifeguard sent to Slack, as recorded by the Slack stand-in (or an HTTP acknowledgement). */
export interface Sent {
  /** chat.postMessage, chat.update, chat.postEphemeral, response_url, ack, views.open */
  method: string;
  args: Record<string, unknown>;
  /** The person the command or click came from: ephemeral replies are shown to them only. */
  to?: string;
  /** The ts Slack gave a posted message, so a later update can be matched to it. */
  ts?: string;
}

function where(channel: unknown, names: Names): string {
  const ref = typeof channel === 'string' ? channel : '?';
  if (ref.startsWith('#')) return ref;
  return `#${names.channels[ref] ?? ref}`;
}

/**
 * A heading line saying where the message went and how, then its content indented. Given the version it replaces,
 * an update shows only the lines that changed, and nothing when none did.
 */
export function renderSent(sent: Sent, names: Names, previous?: Message): string[] {
  const who = sent.to ? `@${names.users[sent.to] ?? sent.to}` : 'the user';
  const { args } = sent;
  let heading: string;
  switch (sent.method) {
    case 'chat.postMessage':
      heading = `posted${sent.ts ? ` message ${sent.ts}` : ''} in ${where(args.channel, names)}${args.thread_ts ? ` (in the thread of ${String(args.thread_ts)})` : ''}:`;
      break;
    case 'chat.update':
      heading = `updated message ${String(args.ts)} in ${where(args.channel, names)}${previous ? ', changing these lines' : ''}:`;
      break;
    case 'chat.postEphemeral':
      heading = `showed @${names.users[String(args.user)] ?? String(args.user)} only, in ${where(args.channel, names)}:`;
      break;
    case 'ack':
    case 'response_url':
      if (args.response_type === 'in_channel') heading = 'answered in the channel:';
      else heading = `showed ${who} only${args.replace_original === true || args.replace_original === 'true' ? ' (replacing its previous note)' : ''}:`;
      break;
    case 'views.open':
      return [`Lifeguard opened a dialog for ${who}: ${plainText(String((args.view as { title?: TextObject } | undefined)?.title?.text ?? ''), names)}`];
    default:
      heading = `${sent.method}:`;
  }
  const now = renderMessage(args, names);
  const body = previous ? changedLines(renderMessage(previous, names), now) : now;
  if (previous && body.length === 0) return [];
  return [`Lifeguard ${heading}`, ...body.map((line) => `  │ ${line}`.trimEnd())];
}

/**
 * The lines of a redrawn message that its previous version did not show, in order: what a reader notices when
 * Slack redraws it in place. A line shown twice before is taken as seen for two of its repeats.
 */
export function changedLines(before: readonly string[], now: readonly string[]): string[] {
  const seen = new Map<string, number>();
  for (const line of before) seen.set(line, (seen.get(line) ?? 0) + 1);
  return now.filter((line) => {
    const left = seen.get(line) ?? 0;
    seen.set(line, left - 1);
    return left <= 0;
  });
}
