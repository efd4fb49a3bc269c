import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { startOutboxSender, type OutboxSender } from '../../src/flows/outbox-sender.js';
import type { OutboxEntry } from '../../src/domain/chat-messages.js';
import type { ChatFailure, DeliveryResult } from '../../src/ports.js';
import { MemoryChat, memoryStore } from '../support/memory-ports.js';
import { until } from '../support/until.js';

const quiet = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, done) => done() }) });
const entry = (key: string, extra: Partial<OutboxEntry> = {}): OutboxEntry => ({ key, channel: 'C0CHECKOUT', message: { kind: 'note', note: { headline: key, lines: [], tone: 'info' } }, ...extra });

describe('the outbox sender, on in-memory ports', () => {
  let sender: OutboxSender | undefined;
  afterEach(async () => {
    await sender?.stop();
  });

  it('sends what a committed transaction enqueued, and nothing of one that rolled back', async () => {
    const store = memoryStore();
    const chat = new MemoryChat();
    sender = startOutboxSender({ store, chat, cardView: () => undefined, log: quiet, tuning: { minIntervalMs: 0, pollMs: 50 } });
    expect(() =>
      store.transaction(() => {
        store.outbox.enqueue(entry('rolled-back'), new Date());
        throw new Error('the transition failed');
      }),
    ).toThrow('the transition failed');
    store.transaction(() => store.outbox.enqueue(entry('committed'), new Date()));
    expect(store.outbox.enqueue(entry('committed'), new Date())).toBe(false);
    sender.kick();
    await until(() => (store.outbox.backlog(new Date()).depth === 0 || undefined), 2_000);
    expect(chat.deliveries.map((d) => d.target.key)).toEqual(['committed']);
  });

  it('backs off exponentially on transient failures up to the cap, and takes a Retry-After as given', async () => {
    const store = memoryStore();
    const answers: ChatFailure[] = [
      ...Array.from({ length: 5 }, () => ({ ok: false as const, error: 'http_500', transient: true })),
      { ok: false, error: 'ratelimited', retryAfterMs: 300, transient: true },
    ];
    const calls: number[] = [];
    const chat = new MemoryChat();
    const deliver = chat.deliver.bind(chat);
    chat.deliver = async (target, view): Promise<DeliveryResult> => {
      calls.push(Date.now());
      return answers.shift() ?? deliver(target, view);
    };
    store.outbox.enqueue(entry('flaky', { updateTs: '1700000000.000100' }), new Date());
    sender = startOutboxSender({ store, chat, cardView: () => undefined, log: quiet, tuning: { backoffMs: 20, maxBackoffMs: 100, minIntervalMs: 0, pollMs: 1_000 } });
    await until(() => (store.outbox.backlog(new Date()).depth === 0 || undefined), 5_000);
    const gaps = calls.slice(1).map((at, i) => at - calls[i]!);
    // 20, 40, 80, then capped at 100, 100; then the Retry-After of 300.
    const expected = [20, 40, 80, 100, 100, 300];
    gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(expected[i]! - 5));
    gaps.forEach((gap, i) => expect(gap).toBeLessThan(expected[i]! + 150));
    expect(chat.deliveries.map((d) => d.target.key)).toEqual(['flaky']);
  });
});
