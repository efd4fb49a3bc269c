import type { RecordedCall, SlackStandin } from '../slack-standin/web-api.js';
import { renderMessage, renderSent, type Message, type Names, type Sent } from './render.js';

/** Calls that show someone something. */
const VISIBLE = new Set(['chat.postMessage', 'chat.update', 'chat.postEphemeral', 'views.open', 'response_url']);

/**
 * What Lifeguard sends to the Slack stand-in, printed in the order Slack gets it, each with the time since the
 * feed began. A message Lifeguard redraws in place (a card, an incident post) shows only the lines that changed:
 * the rest is what the reader saw a moment before.
 */
export class SlackFeed {
  private next: number;
  private readonly started = Date.now();
  /** The latest version of each message, by its ts. */
  private readonly versions = new Map<string, Message>();
  /** Who sent the command or click each response_url answers: its replies are theirs only. */
  private readonly askers = new Map<string, string>();

  constructor(
    private readonly slack: SlackStandin,
    private readonly names: Names,
    private readonly print: (line: string) => void,
  ) {
    this.next = slack.calls.length;
  }

  /** Replies on `responseUrl` are shown as seen by `user` alone. */
  answering(responseUrl: string, user: string): void {
    this.askers.set(new URL(responseUrl).pathname, user);
  }

  /** Prints everything Slack got since the last call. */
  flush(): void {
    for (; this.next < this.slack.calls.length; this.next++) this.show(this.slack.calls[this.next]!);
  }

  /** Prints something Slack did not record, such as the acknowledgement of a request, as of now. */
  showSent(sent: Sent): void {
    this.printAt(Date.now(), renderSent(sent, this.names));
  }

  /** A message as printed last, in full: none before it was printed. */
  current(ts: string): string[] {
    const message = this.versions.get(ts);
    return message ? renderMessage(message, this.names) : [];
  }

  /** Prints what arrives until `probe` gives a value, every 100 ms; throws with `what` after `timeoutMs`. */
  async until<T>(probe: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.flush();
      const value = probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`${what} within ${Math.round(timeoutMs / 1000)} s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  private show(call: RecordedCall): void {
    if (!VISIBLE.has(call.method) || call.response.ok !== true) return;
    const responseTs = typeof call.response.ts === 'string' ? call.response.ts : undefined;
    const ts = call.method === 'chat.update' ? String(call.args.ts) : responseTs;
    const to = typeof call.args.url === 'string' ? this.askers.get(call.args.url) : undefined;
    const sent: Sent = { method: call.method, args: call.args, ...(to ? { to } : {}), ...(responseTs ? { ts: responseTs } : {}) };
    const previous = ts === undefined ? undefined : this.versions.get(ts);
    if (ts !== undefined) this.versions.set(ts, call.args);
    this.printAt(call.at, renderSent(sent, this.names, previous));
  }

  private printAt(at: number, lines: string[]): void {
    if (lines.length === 0) return;
    const [heading, ...body] = lines;
    this.print(`  [+${((at - this.started) / 1000).toFixed(1)}s] ${heading}`);
    for (const line of body) this.print(`  ${line}`);
  }
}
