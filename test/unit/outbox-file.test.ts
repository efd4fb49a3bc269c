import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { startOutboxSender, type OutboxSender } from '../../src/flows/outbox-sender.js';
import type { OutboxEntry } from '../../src/domain/chat-messages.js';
import type { DeliveryResult, KeyLookup } from '../../src/ports.js';
import { MemoryChat, memoryStore } from '../support/memory-ports.js';
import { until } from '../support/until.js';

/* A file in the outbox: an upload started and recorded, then shared; a share whose answer was lost is not repeated. */

const quiet = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, done) => done() }) });
const file: OutboxEntry = {
  key: 'operation:7:postmortem',
  channel: 'C0INCIDENT',
  threadTs: '1700000000.000100',
  message: { kind: 'file', file: { filename: 'postmortem-7.md', title: 'Post-mortem draft', content: '# Post-mortem (draft) é\n' } },
};

describe('a file in the outbox', () => {
  let sender: OutboxSender | undefined;
  afterEach(async () => {
    await sender?.stop();
  });

  it('starts an upload of its length in bytes, records the file id, then shares that upload in the thread', async () => {
    const store = memoryStore();
    const chat = new MemoryChat();
    store.outbox.enqueue(file, new Date());
    sender = startOutboxSender({ store, chat, cardView: () => undefined, log: quiet, tuning: { minIntervalMs: 0, pollMs: 50 } });
    await until(() => (store.outbox.backlog(new Date()).depth === 0 || undefined), 2_000);
    expect(chat.uploads).toEqual([{ filename: 'postmortem-7.md', length: Buffer.byteLength('# Post-mortem (draft) é\n') }]);
    expect(store.outbox.rows[0]!.fileId).toBe('F1');
    expect(chat.deliveries.map((d) => [d.target.threadTs, d.target.upload?.fileId, d.view.kind])).toEqual([['1700000000.000100', 'F1', 'file']]);
  });

  it('after a share whose answer was lost, finds the file in the thread and neither uploads nor shares it again', async () => {
    const store = memoryStore();
    const chat = new MemoryChat();
    const shared = new Set<string>();
    // The share happens, but its answer is lost (a timeout): Slack has the file in the thread.
    chat.deliver = async (target): Promise<DeliveryResult> => {
      shared.add(target.upload!.fileId);
      return { ok: false, error: 'request_timeout', transient: true };
    };
    const lookups: (string | undefined)[] = [];
    chat.findByKey = async (where): Promise<KeyLookup> => {
      lookups.push(where.fileId);
      return { ok: true, found: where.fileId && shared.has(where.fileId) ? { channel: 'C0INCIDENT', ts: '1700000002.000100' } : undefined };
    };
    store.outbox.enqueue(file, new Date());
    sender = startOutboxSender({ store, chat, cardView: () => undefined, log: quiet, tuning: { backoffMs: 10, minIntervalMs: 0, pollMs: 50 } });
    await until(() => (store.outbox.backlog(new Date()).depth === 0 || undefined), 2_000);
    expect(chat.uploads).toHaveLength(1);
    expect(lookups).toEqual(['F1']);
    expect(store.outbox.rows[0]!.sent).toEqual({ channel: 'C0INCIDENT', ts: '1700000002.000100' });
  });
});
