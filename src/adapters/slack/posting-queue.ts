import type { webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import type { AuditLog } from '../../ports.js';
import type { Telemetry } from '../../metrics.js';
import type { SlackMessage } from './blocks/fit.js';
import { rateLimitDelayMs, sleep, slackErrorCode } from './web-client.js';

export type Outgoing =
  | { kind: 'post'; channel: string; message: SlackMessage; threadTs?: string; subject?: string }
  | { kind: 'update'; channel: string; ts: string; message: SlackMessage; subject?: string };

export type Delivery = { ok: true; channel: string; ts: string } | { ok: false; error: string };

export interface PostingQueueOptions {
  client: webApi.WebClient;
  audit: Pick<AuditLog, 'append'>;
  log: Logger;
  metrics?: Telemetry;
  /** Slack allows about one message per second per channel. */
  minIntervalMs?: number;
  /** How many 429s one message may wait out before it counts as failed. */
  maxRateLimitWaits?: number;
}

/**
 * One ordered queue per channel: posts and card updates leave in the order they were asked for, at most about
 * one per second per channel. A 429 holds the channel for its Retry-After and the same message is sent again,
 * so nothing is dropped or reordered; a message that still fails is logged and audited, and its promise
 * resolves with the error (it never rejects).
 */
export class PostingQueue {
  private readonly tails = new Map<string, Promise<unknown>>();
  private readonly lastSent = new Map<string, number>();
  /** Channel names seen in posts, by the id Slack answered with, so both spellings share one queue. */
  private readonly ids = new Map<string, string>();

  constructor(private readonly options: PostingQueueOptions) {}

  send(item: Outgoing): Promise<Delivery> {
    const key = this.ids.get(item.channel) ?? item.channel;
    const delivery = (this.tails.get(key) ?? Promise.resolve()).then(() => this.deliver(key, item));
    this.tails.set(key, delivery);
    return delivery;
  }

  /** Resolves once everything queued so far has been delivered or has failed. */
  async drain(): Promise<void> {
    await Promise.all([...this.tails.values()]);
  }

  private async deliver(key: string, item: Outgoing): Promise<Delivery> {
    const interval = this.options.minIntervalMs ?? 1000;
    const maxWaits = this.options.maxRateLimitWaits ?? 5;
    for (let waits = 0; ; ) {
      const wait = (this.lastSent.get(key) ?? -Infinity) + interval - Date.now();
      if (wait > 0) await sleep(wait);
      try {
        const response = await this.call(item).finally(() => {
          // Spaced from Slack's answer rather than from our request, so that a request slowed on its way cannot
          // bring the next one closer at Slack's end.
          this.lastSent.set(key, Date.now());
        });
        if (item.kind === 'post' && response.channel && response.channel !== item.channel) this.ids.set(item.channel, response.channel);
        return { ok: true, channel: response.channel ?? item.channel, ts: response.ts ?? '' };
      } catch (error) {
        const delay = rateLimitDelayMs(error);
        if (delay !== undefined && waits < maxWaits) {
          waits++;
          this.options.log.warn({ channel: item.channel, retryAfterMs: delay, waits }, 'Slack rate-limited a post; waiting Retry-After before sending it again');
          this.lastSent.set(key, Date.now() + delay - interval);
          continue;
        }
        return this.failed(item, error);
      }
    }
  }

  private async call(item: Outgoing): Promise<{ channel?: string | undefined; ts?: string | undefined }> {
    const { client } = this.options;
    if (item.kind === 'post') {
      return client.chat.postMessage({
        channel: item.channel,
        text: item.message.text,
        blocks: item.message.blocks,
        ...(item.threadTs ? { thread_ts: item.threadTs } : {}),
      });
    }
    return client.chat.update({ channel: item.channel, ts: item.ts, text: item.message.text, blocks: item.message.blocks });
  }

  private failed(item: Outgoing, error: unknown): Delivery {
    const code = slackErrorCode(error);
    const method = item.kind === 'post' ? 'chat.postMessage' : 'chat.update';
    this.options.log.error({ channel: item.channel, method, error: code, text: item.message.text.slice(0, 200) }, 'Slack message could not be delivered');
    this.options.metrics?.slackPostFailures.inc({ method, error: code.slice(0, 60) });
    try {
      this.options.audit.append({
        actor: 'lifeguard',
        action: 'slack.post_failed',
        subject: item.subject ?? item.channel,
        detail: { method, channel: item.channel, error: code, text: item.message.text.slice(0, 500) },
      });
    } catch (auditError) {
      this.options.log.error({ err: auditError }, 'could not audit a failed Slack post');
    }
    return { ok: false, error: code };
  }
}
