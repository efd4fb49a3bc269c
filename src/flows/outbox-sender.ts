import type { Logger } from 'pino';
import type { Telemetry } from '../metrics.js';
import type { CardDelivery, Chat, ChatFailure, ChatView, Clock, Leadership, OutboxRecord, PostedMessage, Store } from '../ports.js';
import { systemClock } from '../ports.js';

export interface OutboxTuning {
  /** Wait after a first 5xx, timeout or network failure; doubled for each failure in a row, up to `maxBackoffMs`. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Between two calls to one channel: Slack takes about one message per second per channel. */
  minIntervalMs?: number;
  /** How often the outbox is read when nothing kicks the sender: entries another process wrote (the CLI). */
  pollMs?: number;
}

export interface OutboxSenderDeps {
  store: Pick<Store, 'transaction' | 'outbox' | 'audit'>;
  chat: Pick<Chat, 'deliver' | 'findByKey' | 'startUpload'>;
  /** An operation's card as it stands now; undefined when there is no such operation. */
  cardView(operationId: number): CardDelivery | undefined;
  log: Logger;
  clock?: Clock;
  /** Reports the backlog on /metrics, and counts messages given up. */
  metrics?: Telemetry;
  /** Only the leader sends; without one (a single replica) this process always does. */
  leadership?: Leadership;
  tuning?: OutboxTuning;
}

export interface OutboxSender {
  /** Delivers what is due now rather than at the next poll: call it after a transaction that enqueued messages. */
  kick(): void;
  /** Stops sending; resolves once the calls in flight have answered and been recorded. */
  stop(): Promise<void>;
}

/** A post may reach Slack a little before our clock says it was enqueued, when the two clocks disagree. */
const CLOCK_SKEW_MS = 60_000;

/**
 * The one sender of the outbox (DESIGN §7). Each channel is a line: its oldest undelivered entry goes first and
 * holds the channel until it is delivered or given up, so a channel's messages arrive in the order the engine wrote
 * them, while other channels go on. A 429 holds the channel for its Retry-After; a 5xx, timeout or network error
 * is tried again with a capped exponential backoff; an error that cannot pass (unknown channel, bad blocks) gives
 * the entry up, audited, so the channel moves on. Every call is recorded before it is made: an entry whose post
 * never came back is first looked for in Slack by its key, so nothing is posted twice; an entry of a slot whose
 * message exists updates it.
 */
export function startOutboxSender(deps: OutboxSenderDeps): OutboxSender {
  const { store, chat, log } = deps;
  const clock = deps.clock ?? systemClock;
  const tuning = { backoffMs: 250, maxBackoffMs: 4_000, minIntervalMs: 1_000, pollMs: 1_000, ...deps.tuning };
  const inFlight = new Map<string, Promise<void>>();
  /** Per channel: when it may be called next (spacing, or a hold after an error we could not record). */
  const notBefore = new Map<string, number>();
  /** Per channel: failures in a row, for the backoff. */
  const streak = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;
  let running = false;

  deps.metrics?.watchOutbox(() => store.outbox.backlog(clock.now()));

  const pump = (): void => {
    clearTimeout(timer);
    timer = undefined;
    if (!running) return;
    const now = clock.now().getTime();
    let wake = now + tuning.pollMs;
    let heads: OutboxRecord[] = [];
    try {
      heads = store.outbox.heads();
    } catch (error) {
      log.error({ err: error }, 'cannot read the outbox; trying again shortly');
    }
    for (const head of heads) {
      if (inFlight.has(head.channel)) continue;
      const due = Math.max(head.nextAttemptAt.getTime(), notBefore.get(head.channel) ?? -Infinity);
      if (due > now) {
        wake = Math.min(wake, due);
        continue;
      }
      const work = send(head)
        .catch((error: unknown) => {
          // The store (or reading a card from it) failed: hold the channel a while rather than spin on it.
          log.error({ err: error, channel: head.channel, key: head.key }, 'outbox delivery failed on our side; the channel waits and tries again');
          notBefore.set(head.channel, clock.now().getTime() + tuning.maxBackoffMs);
        })
        .finally(() => {
          inFlight.delete(head.channel);
          pump();
        });
      inFlight.set(head.channel, work);
    }
    timer = setTimeout(pump, Math.max(0, wake - now));
  };

  /** One step for the head of a channel: a lookup, a post or an update, recorded. */
  async function send(entry: OutboxRecord): Promise<void> {
    // A thread started by an earlier entry of this channel, which the channel's order has sent first.
    const threadTs = entry.threadTs ?? (entry.threadSlot !== undefined ? store.outbox.slotMessage(entry.threadSlot)?.ts : undefined);
    if (entry.message.kind === 'file') return sendFile(entry, { kind: 'file', file: entry.message.file }, threadTs);
    const existing = entry.updateTs !== undefined ? { channel: entry.channel, ts: entry.updateTs } : entry.slot !== undefined ? store.outbox.slotMessage(entry.slot) : undefined;
    if (existing === undefined && entry.inDoubt) {
      const lookup = await called(entry.channel, () =>
        chat.findByKey({ channel: entry.channel, key: entry.key, threadTs, since: new Date(entry.createdAt.getTime() - CLOCK_SKEW_MS) }),
      );
      const method = threadTs !== undefined ? 'conversations.replies' : 'conversations.history';
      // Unable to tell whether it is there (no history scope, say): giving up is the only way not to post twice.
      if (!lookup.ok) return lookup.transient ? failed(entry, lookup, method, true) : giveUp(entry, lookup, { method, attempts: entry.attempts });
      if (lookup.found) {
        log.info({ channel: entry.channel, key: entry.key, ts: lookup.found.ts }, 'an outbox message whose post went unanswered is in Slack already; not posting it again');
        return delivered(entry, lookup.found);
      }
    }
    if (existing && store.outbox.superseded(entry)) return delivered(entry, existing);
    const view = render(entry);
    const method = existing ? 'chat.update' : 'chat.postMessage';
    if (!view) return giveUp(entry, { ok: false, error: 'operation_not_found', transient: false }, { method, attempts: entry.attempts });
    store.outbox.markAttempted(entry.id, clock.now());
    const result = await called(entry.channel, () =>
      chat.deliver({ channel: existing?.channel ?? entry.channel, threadTs, updateTs: existing?.ts, key: entry.key }, view),
    );
    if (result.ok) return delivered(entry, { channel: result.channel, ts: existing?.ts ?? result.ts });
    if (!result.transient) return giveUp(entry, result, { method, view, attempts: entry.attempts + 1 });
    // A refused call (429) posted nothing; any other failure of a post may have posted it all the same.
    return failed(entry, result, method, existing === undefined && result.retryAfterMs === undefined);
  }

  /**
   * A file is shared in two steps: an upload started (its id recorded at once), then its bytes sent and the file
   * shared. An entry with a recorded id may have been shared already, its answer lost: the file is looked for in
   * the thread first, and only a file not found there is uploaded again (as a new upload).
   */
  async function sendFile(entry: OutboxRecord, view: Extract<ChatView, { kind: 'file' }>, threadTs: string | undefined): Promise<void> {
    const lookupMethod = threadTs !== undefined ? 'conversations.replies' : 'conversations.history';
    if (entry.fileId !== undefined) {
      const fileId = entry.fileId;
      const lookup = await called(entry.channel, () => chat.findByKey({ channel: entry.channel, key: entry.key, threadTs, since: new Date(entry.createdAt.getTime() - CLOCK_SKEW_MS), fileId }));
      if (!lookup.ok) return lookup.transient ? failed(entry, lookup, lookupMethod, true) : giveUp(entry, lookup, { method: lookupMethod, attempts: entry.attempts });
      if (lookup.found) {
        log.info({ channel: entry.channel, key: entry.key, fileId }, 'a file whose sharing went unanswered is in Slack already; not uploading it again');
        return delivered(entry, lookup.found);
      }
    }
    const length = Buffer.byteLength(view.file.content, 'utf8');
    const started = await called(entry.channel, () => chat.startUpload({ filename: view.file.filename, length }));
    const startMethod = 'files.getUploadURLExternal';
    if (!started.ok) return started.transient ? failed(entry, started, startMethod, false) : giveUp(entry, started, { method: startMethod, view, attempts: entry.attempts });
    store.transaction(() => {
      store.outbox.recordFile(entry.id, started.fileId);
      store.outbox.markAttempted(entry.id, clock.now());
    });
    const upload = { fileId: started.fileId, uploadUrl: started.uploadUrl };
    const result = await called(entry.channel, () => chat.deliver({ channel: entry.channel, threadTs, key: entry.key, upload }, view));
    const method = 'files.completeUploadExternal';
    if (result.ok) return delivered(entry, { channel: result.channel, ts: result.ts });
    if (!result.transient) return giveUp(entry, result, { method, view, attempts: entry.attempts + 1 });
    return failed(entry, result, method, result.retryAfterMs === undefined);
  }

  async function called<T>(channel: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } finally {
      // Spaced from the answer, so that a slow request cannot bring the next one closer at Slack's end.
      notBefore.set(channel, clock.now().getTime() + tuning.minIntervalMs);
    }
  }

  function render(entry: OutboxRecord): ChatView | undefined {
    const { message } = entry;
    if (message.kind === 'note') return { kind: 'note', note: message.note };
    if (message.kind === 'incident') return { kind: 'incident', incident: message.incident };
    if (message.kind === 'lock-freed') return { kind: 'lock-freed', freed: message.freed };
    if (message.kind === 'health-summary') return { kind: 'health-summary', summary: message.summary };
    if (message.kind === 'file') return { kind: 'file', file: message.file };
    const card = deps.cardView(message.operationId);
    return card && { kind: 'card', card };
  }

  function delivered(entry: OutboxRecord, message: PostedMessage): void {
    store.outbox.markSent(entry.id, message, clock.now());
    streak.delete(entry.channel);
  }

  function failed(entry: OutboxRecord, failure: ChatFailure, method: string, inDoubt: boolean): void {
    const failures = (streak.get(entry.channel) ?? 0) + 1;
    streak.set(entry.channel, failures);
    const delay = failure.retryAfterMs ?? Math.min(tuning.maxBackoffMs, tuning.backoffMs * 2 ** (failures - 1));
    const now = clock.now();
    store.outbox.markFailed(entry.id, { at: now, error: failure.error, nextAttemptAt: new Date(now.getTime() + delay), inDoubt });
    log.warn({ channel: entry.channel, key: entry.key, method, error: failure.error, retryInMs: delay, failures }, 'Slack did not take an outbox message; trying again');
  }

  /** `attempts`: posts and updates made for it, this one included. */
  function giveUp(entry: OutboxRecord, failure: ChatFailure, { method, view, attempts }: { method: string; view?: ChatView; attempts: number }): void {
    const now = clock.now();
    store.transaction(() => {
      store.outbox.giveUp(entry.id, now, failure.error);
      store.audit.append({
        actor: 'lifeguard',
        action: 'slack.post_failed',
        subject: subjectOf(entry, view),
        detail: { method, channel: entry.channel, error: failure.error, key: entry.key, message: entry.message.kind, attempts },
      });
    });
    streak.delete(entry.channel);
    deps.metrics?.slackPostFailures.inc({ method, error: failure.error.slice(0, 60) });
    log.error({ channel: entry.channel, key: entry.key, method, error: failure.error }, 'Slack refused an outbox message for good; it is given up and the channel moves on');
  }

  /** `service/environment` when the message says, as other audit rows name their subject; else the channel. */
  function subjectOf(entry: OutboxRecord, view: ChatView | undefined): string {
    if (view?.kind === 'card') return `${view.card.request.service}/${view.card.request.environment}`;
    if (view?.kind === 'incident') return `${view.incident.service}/${view.incident.environment}`;
    if (view?.kind === 'lock-freed') return `${view.freed.service}/${view.freed.environment}`;
    if (view?.kind === 'note' && view.note.verdict) return `${view.note.verdict.service}/${view.note.verdict.environment}`;
    return entry.channel;
  }

  const start = () => {
    if (running) return;
    running = true;
    pump();
  };
  const stop = async () => {
    running = false;
    clearTimeout(timer);
    timer = undefined;
    await Promise.all(inFlight.values());
  };

  if (deps.leadership) {
    deps.leadership.onChange((leader) => {
      if (leader) start();
      else void stop().then(() => log.warn('leadership lost: the outbox sender stopped'));
    });
    if (deps.leadership.isLeader()) start();
  } else {
    start();
  }

  return {
    kick: () => {
      if (running) setImmediate(pump);
    },
    stop,
  };
}
