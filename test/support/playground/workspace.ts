import type { RecordedCall, SlackStandin } from '../slack-standin/web-api.js';

/**
 * What the workspace page shows, derived from what Lifeguard sent the Slack stand-in: channel messages (the
 * stand-in's own store, so edits and files are as Slack keeps them), ephemeral messages to one user (acks,
 * response_url answers, chat.postEphemeral) and modals opened for one user. Every change is told to subscribers.
 */

export interface ShownFile {
  id: string;
  name: string;
  title: string;
  filetype?: string;
  /** The file's text, for the page to show inline as Slack previews a Markdown file. */
  content?: string;
}

export interface ShownMessage {
  channel: string;
  ts: string;
  thread_ts?: string;
  user: string;
  text: string;
  blocks?: unknown[];
  files?: ShownFile[];
  edited?: boolean;
}

export interface Ephemeral {
  id: string;
  user: string;
  channel: string;
  thread_ts?: string;
  ts: string;
  text: string;
  blocks?: unknown[];
}

export interface Modal {
  id: string;
  user: string;
  view: Record<string, unknown>;
}

export type Update =
  | { kind: 'message'; message: ShownMessage }
  | { kind: 'ephemeral'; ephemeral: Ephemeral }
  | { kind: 'ephemeral-removed'; id: string; user: string }
  | { kind: 'modal'; modal: Modal };

/** Where an answer on a response_url belongs: who acted, where, and on which ephemeral message if it was one. */
interface Origin {
  user: string;
  channel: string;
  ephemeral?: string;
}

export interface ChannelInfo {
  id: string;
  name: string;
  /** For a direct message with the bot: the user it is with, who alone sees it. */
  dm?: string;
}

export class Workspace {
  private readonly origins = new Map<string, Origin>();
  private readonly triggers = new Map<string, string>();
  private readonly ephemerals = new Map<string, Ephemeral>();
  private readonly modals = new Map<string, Modal>();
  private readonly subscribers = new Set<(update: Update) => void>();
  private serial = 0;
  private readonly unsubscribe: () => void;

  constructor(private readonly slack: SlackStandin) {
    this.unsubscribe = slack.onCall((call) => this.recorded(call));
  }

  close(): void {
    this.unsubscribe();
    this.subscribers.clear();
  }

  subscribe(listener: (update: Update) => void): () => void {
    this.subscribers.add(listener);
    return () => this.subscribers.delete(listener);
  }

  /** A response_url and a trigger_id for an action by `user` in `channel`, as Slack puts in the request it sends. */
  originate(origin: Origin): { responseUrl: string; triggerId: string } {
    const responseUrl = this.slack.responseUrl();
    const triggerId = this.slack.triggerId();
    this.origins.set(new URL(responseUrl).pathname, origin);
    this.triggers.set(triggerId, origin.user);
    return { responseUrl, triggerId };
  }

  /** Lifeguard's HTTP answer to a command or click, which Slack shows its user as an ephemeral message. */
  acknowledged(origin: Origin, body: string): void {
    if (!body) return;
    let args: Record<string, unknown>;
    try {
      args = JSON.parse(body) as Record<string, unknown>;
    } catch {
      args = { text: body };
    }
    if (args.response_action !== undefined) return;
    this.answer(origin, args);
  }

  modal(id: string): Modal | undefined {
    return this.modals.get(id);
  }

  /** A submitted or cancelled modal is gone from its user's screen. */
  closeModal(id: string): void {
    this.modals.delete(id);
  }

  channels(): ChannelInfo[] {
    const dms = [...this.slack.messages.keys()].filter((id) => id.startsWith('D')).map((id) => ({ id, name: `U${id.slice(1)}`, dm: `U${id.slice(1)}` }));
    return [...this.slack.channels.map((c) => ({ id: c.id, name: c.name })), ...dms];
  }

  /** Everything shown so far: what a page loading now starts from. */
  state(): { channels: ChannelInfo[]; messages: ShownMessage[]; ephemerals: Ephemeral[]; modals: Modal[] } {
    const messages = [...this.slack.messages.entries()].flatMap(([channel, byTs]) => [...byTs.keys()].map((ts) => this.message(channel, ts)!));
    return { channels: this.channels(), messages, ephemerals: [...this.ephemerals.values()], modals: [...this.modals.values()] };
  }

  /** A channel message as the stand-in holds it now, with the content of any file it shares. */
  message(channel: string, ts: string): ShownMessage | undefined {
    const stored = this.slack.messages.get(channel)?.get(ts);
    if (!stored) return undefined;
    const files = stored.files as ShownFile[] | undefined;
    return {
      channel,
      ts,
      ...(typeof stored.thread_ts === 'string' && stored.thread_ts !== ts ? { thread_ts: stored.thread_ts } : {}),
      user: String(stored.user ?? 'U0LIFEGUARD'),
      text: String(stored.text ?? ''),
      ...(Array.isArray(stored.blocks) ? { blocks: stored.blocks as unknown[] } : {}),
      ...(files ? { files: files.map((f) => ({ ...f, content: this.slack.files.find((shared) => shared.id === f.id)?.content })) } : {}),
      ...(stored.edited ? { edited: true } : {}),
    };
  }

  private emit(update: Update): void {
    for (const listener of this.subscribers) listener(update);
  }

  private channelId(ref: unknown): string {
    return this.slack.channels.find((c) => c.id === ref || `#${c.name}` === ref || c.name === ref)?.id ?? String(ref);
  }

  private recorded(call: RecordedCall): void {
    if (call.response.ok !== true) return;
    switch (call.method) {
      case 'chat.postMessage':
      case 'chat.update':
      case 'files.completeUploadExternal': {
        for (const [channel, ts] of this.postedAt(call)) {
          const message = this.message(channel, ts);
          if (message) this.emit({ kind: 'message', message });
        }
        return;
      }
      case 'chat.postEphemeral':
        return this.addEphemeral({ user: String(call.args.user), channel: this.channelId(call.args.channel), thread_ts: call.args.thread_ts as string | undefined }, call.args);
      case 'response_url': {
        const origin = this.origins.get(String(call.args.url));
        if (origin) this.answer(origin, call.args);
        return;
      }
      case 'views.open': {
        const user = this.triggers.get(String(call.args.trigger_id));
        const view = call.response.view as Record<string, unknown> | undefined;
        if (!user || !view) return;
        const modal = { id: String(view.id), user, view };
        this.modals.set(modal.id, modal);
        this.emit({ kind: 'modal', modal });
        return;
      }
    }
  }

  /** The channel and ts of each message a successful call posted, updated or shared a file in. */
  private postedAt(call: RecordedCall): [string, string][] {
    if (call.method !== 'files.completeUploadExternal') return [[String(call.response.channel), String(call.response.ts ?? call.args.ts)]];
    const files = (call.response.files ?? []) as { shares?: { public?: Record<string, { ts: string }[]> } }[];
    return files.flatMap((f) => Object.entries(f.shares?.public ?? {}).flatMap(([channel, shares]) => shares.map((s): [string, string] => [channel, s.ts])));
  }

  /** An answer to an action, as Slack shows it: in the channel, replacing or deleting the clicked ephemeral, or a new ephemeral. */
  private answer(origin: Origin, args: Record<string, unknown>): void {
    const replaces = args.replace_original === true || args.replace_original === 'true';
    const deletes = args.delete_original === true || args.delete_original === 'true';
    if (deletes && origin.ephemeral) {
      this.ephemerals.delete(origin.ephemeral);
      this.emit({ kind: 'ephemeral-removed', id: origin.ephemeral, user: origin.user });
      return;
    }
    // Only a button on an ephemeral message is replaced in place here: answers to a card's button arrive as new
    // ephemerals, since Lifeguard redraws its cards with chat.update.
    this.addEphemeral(origin, args, replaces ? origin.ephemeral : undefined);
  }

  private addEphemeral(where: Origin & { thread_ts?: string | undefined }, args: Record<string, unknown>, replacing?: string): void {
    const id = replacing ?? `E${++this.serial}`;
    const ephemeral: Ephemeral = {
      id,
      user: where.user,
      channel: where.channel,
      ...(where.thread_ts ? { thread_ts: where.thread_ts } : {}),
      ts: this.ephemerals.get(id)?.ts ?? (Date.now() / 1000).toFixed(6),
      text: typeof args.text === 'string' ? args.text : '',
      ...(Array.isArray(args.blocks) ? { blocks: args.blocks as unknown[] } : {}),
    };
    this.ephemerals.set(id, ephemeral);
    this.emit({ kind: 'ephemeral', ephemeral });
  }
}
