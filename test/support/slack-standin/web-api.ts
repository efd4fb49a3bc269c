import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { blockProblem } from './limits.js';
import { SocketModeStandin } from './socket-mode.js';

/**
 * A local stand-in for Slack's Web API: the methods Lifeguard calls, answered as Slack answers them
 * (HTTP 200 with `ok`, or `ok: false` and an error code; 429 with Retry-After when told to), every call
 * recorded. Also serves `response_url` posts, external file uploads and, through `socket`, Socket Mode.
 */

export interface RecordedCall {
  method: string;
  args: Record<string, unknown>;
  /** The bearer token, or the `token` argument. */
  token: string | undefined;
  /** What the stand-in answered: the JSON body, or the HTTP status when it failed on purpose. */
  response: Record<string, unknown>;
  status: number;
  at: number;
}

export interface Channel {
  id: string;
  name: string;
  /** The bot can post only where it is a member (chat:write without chat:write.public). */
  botIsMember: boolean;
}

export interface Usergroup {
  id: string;
  handle: string;
  users: string[];
}

/** A file shared in a channel (or thread), as the stand-in keeps it for tests to read. */
export interface SharedFile {
  id: string;
  name: string;
  title: string;
  size: number;
  content: string;
  channel: string;
  /** The message that shares it. */
  ts: string;
  threadTs: string | undefined;
}

export type Fault = { status: 429; retryAfter: number } | { status: 500 } | { error: string };

export interface StandinOptions {
  botToken?: string;
  appToken?: string;
  channels?: Channel[];
  usergroups?: Usergroup[];
  users?: string[];
}

const JSON_ARGS = new Set(['blocks', 'attachments', 'view', 'files', 'metadata']);
const TEXT_LIMIT = 40_000;

export class SlackStandin {
  readonly calls: RecordedCall[] = [];
  readonly botToken: string;
  readonly appToken: string;
  readonly channels: Channel[];
  readonly usergroups: Usergroup[];
  readonly users: Set<string>;
  /** The bot's direct-message channel with each user, opened by its first post to the user's id. */
  private readonly dms = new Map<string, Channel>();
  /** Posted and updated messages by `channel id` then `ts`. */
  readonly messages = new Map<string, Map<string, Record<string, unknown>>>();
  readonly socket: SocketModeStandin;
  private readonly faults = new Map<string, Fault[]>();
  /** Faults by time: every call to the method (or to any, `*`) until `until` fails as given. */
  private readonly outages: { method: string; fault: Fault; from: number; until: number; channel: string | undefined }[] = [];
  private readonly triggers = new Set<string>();
  private readonly uploads = new Map<string, { filename: string; length: number; content?: Buffer }>();
  /** Files shared by files.completeUploadExternal, in the order they were shared, with their content. */
  readonly files: SharedFile[] = [];
  private lastTs = 0;
  private serial = 0;
  private waiters: (() => void)[] = [];
  private readonly listeners = new Set<(call: RecordedCall) => void>();

  private readonly server: Server;

  private constructor(options: StandinOptions) {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.botToken = options.botToken ?? 'xoxb-standin-bot-token';
    this.appToken = options.appToken ?? 'xapp-standin-app-token';
    this.channels = options.channels ?? [
      { id: 'C0CHECKOUT', name: 'checkout-releases', botIsMember: true },
      { id: 'C0RELEASES', name: 'releases', botIsMember: true },
      { id: 'C0INCIDENT', name: 'incidents', botIsMember: true },
    ];
    this.usergroups = options.usergroups ?? [];
    this.users = new Set(options.users ?? []);
    this.socket = new SocketModeStandin(this.server);
  }

  static async start(options: StandinOptions = {}): Promise<SlackStandin> {
    const standin = new SlackStandin(options);
    await new Promise<void>((resolve) => standin.server.listen(0, '127.0.0.1', resolve));
    return standin;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** What SLACK_API_URL should be. */
  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api/`;
  }

  /** A fresh response_url, as Slack puts in every command and interaction. */
  responseUrl(): string {
    return `http://127.0.0.1:${this.port}/response/${++this.serial}`;
  }

  /** A trigger id views.open will accept once, as Slack puts in a command or a click. */
  triggerId(): string {
    const id = `${++this.serial}.trigger`;
    this.triggers.add(id);
    return id;
  }

  /** The next `times` calls to `method` fail as given; `response_url` makes response_url posts fail (status faults only). */
  failNext(method: string, fault: Fault, times = 1): void {
    this.faults.set(method, [...(this.faults.get(method) ?? []), ...Array.from({ length: times }, () => fault)]);
  }

  /**
   * Every call to `method` (`*`: to any Web API method), or only those naming `channel` (id or name), fails as given
   * for the next `ms` milliseconds, e.g. Slack answering 500 for 20 s. Outages given one after the other for the
   * same method run one after the other: 500 for 20 s, then 429.
   */
  failFor(method: string, fault: Fault, ms: number, where: { channel?: string } = {}): void {
    const from = Math.max(Date.now(), ...this.outages.filter((o) => o.method === method).map((o) => o.until));
    this.outages.push({ method, fault, from, until: from + ms, channel: where.channel });
  }

  /** Ends every outage started with `failFor`: Slack is back. */
  recover(): void {
    this.outages.splice(0);
  }

  private outage(method: string, args: Record<string, unknown>): Fault | undefined {
    const now = Date.now();
    const called = this.channel(args.channel)?.id;
    const named = (channel: string | undefined) => channel === undefined || (called !== undefined && this.channel(channel)?.id === called);
    return this.outages.find((o) => (o.method === method || o.method === '*') && o.from <= now && now < o.until && named(o.channel))?.fault;
  }

  callsTo(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Successful calls to `method`. */
  okCalls(method: string): RecordedCall[] {
    return this.callsTo(method).filter((c) => c.response.ok === true);
  }

  /** Messages posted at the top of a channel (cards, incident posts), not replies in a thread. */
  topLevelPosts(): RecordedCall[] {
    return this.okCalls('chat.postMessage').filter((c) => c.args.thread_ts === undefined);
  }

  /** Resolves once `predicate` holds over the recorded calls; rejects after `timeoutMs`. */
  async waitFor<T>(predicate: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = predicate();
      if (value) return value;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`the Slack stand-in did not see the expected calls within ${timeoutMs} ms; calls: ${this.calls.map((c) => c.method).join(', ')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async close(): Promise<void> {
    await this.socket.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Calls `listener` with every call recorded from now on (the workspace page follows Slack this way); returns the unsubscribe. */
  onCall(listener: (call: RecordedCall) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private record(call: RecordedCall): void {
    this.calls.push(call);
    for (const wake of this.waiters.splice(0)) wake();
    for (const listener of this.listeners) listener(call);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const body = raw.toString('utf8');
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method === 'POST' && url.pathname.startsWith('/response/')) {
      const args = parseArgs(req.headers['content-type'], body);
      const queued = this.faults.get('response_url');
      const fault = queued?.[0] && 'status' in queued[0] ? queued.shift() : undefined;
      if (fault && 'status' in fault) {
        // Slack's response_url answers a failure with an HTTP status and a plain-text body.
        const error = fault.status === 429 ? 'rate_limited' : 'internal_error';
        this.record({ method: 'response_url', args: { ...args, url: url.pathname }, token: undefined, response: { ok: false, error }, status: fault.status, at: Date.now() });
        res.writeHead(fault.status, { 'content-type': 'text/plain', ...(fault.status === 429 ? { 'retry-after': String(fault.retryAfter) } : {}) });
        return void res.end(error);
      }
      const problem = args.blocks !== undefined ? blockProblem(args.blocks) : undefined;
      const response = problem ? { ok: false, error: 'invalid_blocks', errors: [problem] } : { ok: true };
      this.record({ method: 'response_url', args: { ...args, url: url.pathname }, token: undefined, response, status: 200, at: Date.now() });
      return send(res, problem ? 400 : 200, response);
    }
    if (req.method === 'POST' && url.pathname.startsWith('/upload/')) {
      const upload = this.uploads.get(url.pathname.slice('/upload/'.length));
      if (!upload) return send(res, 404, { ok: false, error: 'unknown upload' });
      // Slack takes the bytes raw or as one multipart/form-data file part.
      const content = uploadedBytes(req.headers['content-type'], raw);
      upload.content = content;
      this.record({ method: 'upload', args: { file: url.pathname, bytes: content.length }, token: undefined, response: { ok: true }, status: 200, at: Date.now() });
      res.writeHead(200, { 'content-type': 'text/plain' });
      return void res.end(`OK - ${content.length}`);
    }
    if (req.method !== 'POST' || !url.pathname.startsWith('/api/')) return send(res, 404, { ok: false, error: 'unknown_method' });

    const method = url.pathname.slice('/api/'.length);
    const args = parseArgs(req.headers['content-type'], body);
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const token = bearer ?? (typeof args.token === 'string' ? args.token : undefined);
    const call = { method, args, token, at: Date.now() };

    const fault = this.faults.get(method)?.shift() ?? this.outage(method, args);
    if (fault && 'status' in fault) {
      const headers: Record<string, string> = fault.status === 429 ? { 'retry-after': String(fault.retryAfter) } : {};
      const response = fault.status === 429 ? { ok: false, error: 'ratelimited' } : { ok: false, error: 'internal_error' };
      this.record({ ...call, response, status: fault.status });
      res.writeHead(fault.status, { 'content-type': 'application/json', ...headers });
      return void res.end(JSON.stringify(response));
    }
    const response = fault ? { ok: false, error: fault.error } : this.answer(method, args, token);
    this.record({ ...call, response, status: 200 });
    send(res, 200, response);
  }

  private answer(method: string, args: Record<string, unknown>, token: string | undefined): Record<string, unknown> {
    const expected = method === 'apps.connections.open' ? this.appToken : this.botToken;
    if (token === undefined) return { ok: false, error: 'not_authed' };
    if (token !== expected) return { ok: false, error: 'invalid_auth' };
    const missing = (...names: string[]) => names.find((n) => args[n] === undefined || args[n] === '');
    const fail = (error: string, extra: Record<string, unknown> = {}) => ({ ok: false, error, ...extra });

    switch (method) {
      case 'auth.test':
        return { ok: true, url: 'https://lifeguard.slack.com/', team: 'Lifeguard', user: 'lifeguard', team_id: 'T0LIFEGUARD', user_id: 'U0LIFEGUARD', bot_id: 'B0LIFEGUARD' };
      case 'apps.connections.open':
        return { ok: true, url: this.socket.url(this.port) };
      case 'chat.postMessage': {
        if (missing('channel')) return fail('channel_not_found');
        const channel = this.channel(args.channel) ?? this.directMessage(args.channel);
        if (!channel) return fail('channel_not_found');
        if (!channel.botIsMember) return fail('not_in_channel');
        const problem = this.messageProblem(args);
        if (problem) return problem;
        const metadata = messageMetadata(args.metadata);
        if (metadata === null) return fail('invalid_metadata_format');
        const ts = this.nextTs();
        const message = { type: 'message', user: 'U0LIFEGUARD', text: args.text ?? '', blocks: args.blocks, ts, thread_ts: args.thread_ts, ...(metadata ? { metadata } : {}) };
        this.store(channel.id).set(ts, message);
        return { ok: true, channel: channel.id, ts, message };
      }
      case 'chat.update': {
        const absent = missing('channel', 'ts');
        if (absent === 'channel') return fail('channel_not_found');
        if (absent) return fail('invalid_arguments', { response_metadata: { messages: [`[ERROR] missing required field: ${absent}`] } });
        const channel = this.channel(args.channel);
        if (!channel || channel.id !== args.channel) return fail('channel_not_found');
        const existing = this.store(channel.id).get(String(args.ts));
        if (!existing) return fail('message_not_found');
        const problem = this.messageProblem(args);
        if (problem) return problem;
        const metadata = messageMetadata(args.metadata);
        if (metadata === null) return fail('invalid_metadata_format');
        const message = { ...existing, text: args.text ?? existing.text, blocks: args.blocks ?? existing.blocks, ...(metadata ? { metadata } : {}), edited: { user: 'U0LIFEGUARD', ts: this.nextTs() } };
        this.store(channel.id).set(String(args.ts), message);
        return { ok: true, channel: channel.id, ts: args.ts, text: message.text, message };
      }
      case 'chat.postEphemeral': {
        const absent = missing('channel', 'user');
        if (absent === 'channel' || !this.channel(args.channel)) return fail('channel_not_found');
        if (absent) return fail('user_not_in_channel');
        const problem = this.messageProblem(args);
        if (problem) return problem;
        return { ok: true, message_ts: this.nextTs() };
      }
      case 'views.open': {
        if (missing('trigger_id')) return fail('invalid_arguments', { response_metadata: { messages: ['[ERROR] missing required field: trigger_id'] } });
        if (!this.triggers.delete(String(args.trigger_id))) return fail('expired_trigger_id');
        const view = args.view as Record<string, unknown> | undefined;
        if (!view || view.type !== 'modal') return fail('invalid_arguments', { response_metadata: { messages: ['[ERROR] view.type must be modal'] } });
        const title = (view.title as { text?: string } | undefined)?.text ?? '';
        if (title.length === 0 || title.length > 24) return fail('invalid_arguments', { response_metadata: { messages: ['[ERROR] view.title must be 1 to 24 characters'] } });
        const problem = blockProblem(view.blocks);
        if (problem) return fail('invalid_arguments', { response_metadata: { messages: [`[ERROR] ${problem}`] } });
        return { ok: true, view: { id: `V${++this.serial}`, ...view } };
      }
      case 'usergroups.list':
        return {
          ok: true,
          usergroups: this.usergroups.map((g) => ({ id: g.id, handle: g.handle, name: g.handle, ...(args.include_users === 'true' || args.include_users === true ? { users: g.users } : {}) })),
        };
      case 'usergroups.users.list': {
        if (missing('usergroup')) return fail('invalid_arguments');
        const group = this.usergroups.find((g) => g.id === args.usergroup);
        return group ? { ok: true, users: group.users } : fail('no_such_subteam');
      }
      case 'users.info': {
        if (missing('user')) return fail('invalid_arguments');
        const user = String(args.user);
        return this.users.has(user) ? { ok: true, user: { id: user, name: user.toLowerCase(), real_name: user, tz: 'UTC' } } : fail('user_not_found');
      }
      case 'conversations.list': {
        const channels = this.channels.map((c) => ({ id: c.id, name: c.name, is_channel: true, is_private: false, is_archived: false, is_member: c.botIsMember }));
        return { ok: true, ...page(channels, args) };
      }
      case 'conversations.history':
      case 'conversations.replies': {
        // Slack takes ids only here, and lets the bot read only where it is a member.
        const channel = this.channels.find((c) => c.id === args.channel);
        if (!channel) return fail('channel_not_found');
        if (!channel.botIsMember) return fail('not_in_channel');
        const all = [...this.store(channel.id).values()];
        let messages: Record<string, unknown>[];
        if (method === 'conversations.history') {
          // Newest first; replies stay in their threads.
          messages = all.filter((m) => m.thread_ts === undefined || m.thread_ts === m.ts).reverse();
        } else {
          if (missing('ts')) return fail('invalid_arguments', { response_metadata: { messages: ['[ERROR] missing required field: ts'] } });
          const parent = this.store(channel.id).get(String(args.ts));
          if (!parent) return fail('thread_not_found');
          messages = [parent, ...all.filter((m) => m.thread_ts === args.ts && m.ts !== args.ts)];
        }
        const inclusive = args.inclusive === true || args.inclusive === 'true' || args.inclusive === '1';
        const after = (ts: unknown) => args.oldest === undefined || (inclusive ? Number(ts) >= Number(args.oldest) : Number(ts) > Number(args.oldest));
        const before = (ts: unknown) => args.latest === undefined || (inclusive ? Number(ts) <= Number(args.latest) : Number(ts) < Number(args.latest));
        const withMetadata = args.include_all_metadata === true || args.include_all_metadata === 'true' || args.include_all_metadata === '1';
        const shown = messages.filter((m) => after(m.ts) && before(m.ts)).map((m) => (withMetadata ? m : withoutMetadata(m)));
        return { ok: true, ...page(shown, args, 'messages') };
      }
      case 'conversations.info': {
        const channel = this.channel(args.channel);
        return channel && channel.id === args.channel ? { ok: true, channel: { id: channel.id, name: channel.name, is_channel: true, is_member: channel.botIsMember } } : fail('channel_not_found');
      }
      case 'files.getUploadURLExternal': {
        const absent = missing('filename', 'length');
        if (absent) return fail('invalid_arguments', { response_metadata: { messages: [`[ERROR] missing required field: ${absent}`] } });
        const id = `F${++this.serial}`;
        this.uploads.set(id, { filename: String(args.filename), length: Number(args.length) });
        return { ok: true, upload_url: `http://127.0.0.1:${this.port}/upload/${id}`, file_id: id };
      }
      case 'files.completeUploadExternal': {
        const files = Array.isArray(args.files) ? (args.files as { id: string; title?: string }[]) : undefined;
        if (!files?.length) return fail('invalid_arguments');
        for (const file of files) {
          const upload = this.uploads.get(file.id);
          // An upload completes once: a second completion of the same id finds no upload waiting.
          if (!upload || upload.content === undefined) return fail('file_not_found');
          if (upload.content.length !== upload.length) return fail('file_upload_size_mismatch');
        }
        // Slack takes an id here, never a #name; a thread_ts must name a message of that channel.
        const channel = args.channel_id !== undefined ? this.channels.find((c) => c.id === args.channel_id) : undefined;
        if (args.channel_id !== undefined && !channel) return fail('channel_not_found');
        if (channel && !channel.botIsMember) return fail('not_in_channel');
        const threadTs = typeof args.thread_ts === 'string' && args.thread_ts !== '' ? args.thread_ts : undefined;
        if (threadTs !== undefined && (!channel || !this.store(channel.id).has(threadTs))) return fail('invalid_thread_ts');
        const shared = files.map((f) => {
          const upload = this.uploads.get(f.id)!;
          this.uploads.delete(f.id);
          return { id: f.id, name: upload.filename, title: f.title ?? upload.filename, size: upload.length, content: upload.content!.toString('utf8') };
        });
        if (!channel) return { ok: true, files: shared.map(({ content: _content, ...file }) => ({ ...file, shares: {} })) };
        // As Slack does, the files appear as one message from the bot in the channel (the thread), carrying them.
        const ts = this.nextTs();
        const listed = shared.map(({ content: _content, ...file }) => ({ ...file, mimetype: 'text/plain', filetype: 'markdown' }));
        this.store(channel.id).set(ts, { type: 'message', user: 'U0LIFEGUARD', text: typeof args.initial_comment === 'string' ? args.initial_comment : '', ts, thread_ts: threadTs, upload: true, files: listed });
        for (const file of shared) this.files.push({ ...file, channel: channel.id, ts, threadTs });
        const share = { ts, channel_name: channel.name, ...(threadTs !== undefined ? { thread_ts: threadTs } : {}) };
        return { ok: true, files: listed.map((file) => ({ ...file, shares: { public: { [channel.id]: [share] } } })) };
      }
      default:
        return fail('unknown_method');
    }
  }

  private messageProblem(args: Record<string, unknown>): Record<string, unknown> | undefined {
    const text = typeof args.text === 'string' ? args.text : '';
    if (!text && args.blocks === undefined && args.attachments === undefined) return { ok: false, error: 'no_text' };
    if (text.length > TEXT_LIMIT) return { ok: false, error: 'msg_too_long' };
    if (args.blocks !== undefined) {
      const problem = blockProblem(args.blocks);
      if (problem) return { ok: false, error: 'invalid_blocks', errors: [problem] };
    }
    return undefined;
  }

  private channel(ref: unknown): Channel | undefined {
    if (typeof ref !== 'string') return undefined;
    return this.channels.find((c) => c.id === ref || `#${c.name}` === ref || c.name === ref) ?? [...this.dms.values()].find((c) => c.id === ref);
  }

  /**
   * As Slack does with a user id as the channel of chat.postMessage: the post goes to the user's direct messages
   * with the app (a `D…` channel, in the answer). A user the workspace does not have is `channel_not_found`.
   */
  private directMessage(ref: unknown): Channel | undefined {
    if (typeof ref !== 'string' || !this.users.has(ref)) return undefined;
    let dm = this.dms.get(ref);
    if (!dm) this.dms.set(ref, (dm = { id: `D${ref.slice(1)}`, name: ref, botIsMember: true }));
    return dm;
  }

  /** The messages the bot sent `user` directly, oldest first. */
  directMessagesTo(user: string): Record<string, unknown>[] {
    const dm = this.dms.get(user);
    return dm ? [...this.store(dm.id).values()] : [];
  }

  private store(channelId: string): Map<string, Record<string, unknown>> {
    let messages = this.messages.get(channelId);
    if (!messages) this.messages.set(channelId, (messages = new Map()));
    return messages;
  }

  /** Message timestamps are the time of posting in microseconds, as Slack's are, and never repeat. */
  private nextTs(): string {
    this.lastTs = Math.max(this.lastTs + 100, Date.now() * 1000);
    const text = String(this.lastTs);
    return `${text.slice(0, 10)}.${text.slice(10)}`;
  }
}

/** Slack's message metadata: absent (undefined), well formed, or refused (null). */
function messageMetadata(raw: unknown): { event_type: string; event_payload: unknown } | undefined | null {
  if (raw === undefined || raw === '') return undefined;
  const metadata = raw as { event_type?: unknown; event_payload?: unknown };
  if (typeof metadata !== 'object' || typeof metadata.event_type !== 'string' || typeof metadata.event_payload !== 'object') return null;
  return { event_type: metadata.event_type, event_payload: metadata.event_payload };
}

function withoutMetadata(message: Record<string, unknown>): Record<string, unknown> {
  const { metadata: _metadata, ...rest } = message;
  return rest;
}

/** One page of `items` as Slack paginates: `limit` (default 100) from the opaque `cursor`, and the next cursor. */
function page<T>(items: T[], args: Record<string, unknown>, name = 'channels'): Record<string, unknown> {
  const limit = Math.max(1, Math.min(1000, Number(args.limit) || 100));
  const offset = typeof args.cursor === 'string' && args.cursor.startsWith('o:') ? Number(args.cursor.slice(2)) : 0;
  const next = offset + limit < items.length ? `o:${offset + limit}` : '';
  return { [name]: items.slice(offset, offset + limit), has_more: next !== '', response_metadata: { next_cursor: next } };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The file's bytes: the body as sent, or its one multipart/form-data file part. */
function uploadedBytes(contentType: string | undefined, raw: Buffer): Buffer {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType ?? '');
  if (!contentType?.startsWith('multipart/form-data') || !boundary) return raw;
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  const start = raw.indexOf(delimiter);
  const headersEnd = raw.indexOf('\r\n\r\n', start);
  const end = raw.indexOf(Buffer.from(`\r\n--${boundary[1] ?? boundary[2]}`), headersEnd);
  return start < 0 || headersEnd < 0 || end < 0 ? raw : raw.subarray(headersEnd + 4, end);
}

function parseArgs(contentType: string | undefined, body: string): Record<string, unknown> {
  if (contentType?.includes('application/json')) {
    try {
      return JSON.parse(body) as Record<string, unknown>;
    } catch {
      return {};
    }
  }
  const args: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(body)) {
    if (JSON_ARGS.has(key)) {
      try {
        args[key] = JSON.parse(value);
        continue;
      } catch {
        args[key] = value;
        continue;
      }
    }
    args[key] = value;
  }
  return args;
}

function send(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}
