import type Database from 'better-sqlite3';
import { outboxEntrySchema, outboxMessageSchema, type OutboxEntry, type OutboxMessage } from '../../domain/chat-messages.js';
import type { OutboxBacklog, OutboxRecord, OutboxRepository, PostedMessage } from '../../ports.js';

interface OutboxRow {
  id: number;
  key: string;
  slot: string | null;
  channel: string;
  thread_ts: string | null;
  update_ts: string | null;
  payload: string;
  created_at: string;
  attempts: number;
  in_doubt: number;
  next_attempt_at: string;
  last_error: string | null;
  /** Migration 9. */
  file_id: string | null;
}

const PENDING = 'sent_at IS NULL AND gave_up_at IS NULL';

/** A thread named by its slot is kept in `thread_ts` under this prefix, which no Slack ts has. */
const THREAD_SLOT = 'slot:';

/** The outbox in SQLite (migration 4). */
export class SqliteOutbox implements OutboxRepository {
  private readonly statements;
  private readonly transaction: (fn: () => void) => void;

  constructor(db: Database.Database) {
    this.statements = {
      enqueue: db.prepare(
        `INSERT OR IGNORE INTO outbox (key, slot, channel, thread_ts, update_ts, payload, created_at, next_attempt_at)
         VALUES (@key, @slot, @channel, @thread_ts, @update_ts, @payload, @at, @at)`,
      ),
      heads: db.prepare<[], OutboxRow>(`SELECT * FROM outbox WHERE id IN (SELECT MIN(id) FROM outbox WHERE ${PENDING} GROUP BY channel) ORDER BY id`),
      attempted: db.prepare('UPDATE outbox SET attempts = attempts + 1, attempted_at = ?, in_doubt = 1 WHERE id = ?'),
      sent: db.prepare('UPDATE outbox SET sent_at = ?, sent_channel = ?, sent_ts = ?, in_doubt = 0, last_error = NULL WHERE id = ?'),
      slotOf: db.prepare<[number], { slot: string | null }>('SELECT slot FROM outbox WHERE id = ?'),
      saveSlot: db.prepare('INSERT INTO outbox_slots (slot, channel, ts) VALUES (?, ?, ?) ON CONFLICT (slot) DO NOTHING'),
      failed: db.prepare('UPDATE outbox SET last_error = ?, next_attempt_at = ?, in_doubt = ? WHERE id = ?'),
      giveUp: db.prepare('UPDATE outbox SET gave_up_at = ?, last_error = ?, in_doubt = 0 WHERE id = ?'),
      recordFile: db.prepare('UPDATE outbox SET file_id = ? WHERE id = ?'),
      slot: db.prepare<[string], PostedMessage>('SELECT channel, ts FROM outbox_slots WHERE slot = ?'),
      superseded: db.prepare<{ id: number; channel: string; slot: string | null; update_ts: string | null }, { found: number }>(
        `SELECT 1 AS found FROM outbox WHERE channel = @channel AND id > @id AND ${PENDING}
           AND ((@slot IS NOT NULL AND slot = @slot) OR (@update_ts IS NOT NULL AND update_ts = @update_ts)) LIMIT 1`,
      ),
      backlog: db.prepare<[], { depth: number; oldest: string | null }>(`SELECT COUNT(*) AS depth, MIN(created_at) AS oldest FROM outbox WHERE ${PENDING}`),
    };
    this.transaction = (fn) => db.transaction(fn)();
  }

  enqueue(entry: OutboxEntry, at: Date): boolean {
    // Checked on the way in, so that a malformed message fails the transition that wrote it, not the sender later.
    const valid = outboxEntrySchema.parse(entry);
    const info = this.statements.enqueue.run({
      key: valid.key,
      slot: valid.slot ?? null,
      channel: valid.channel,
      thread_ts: valid.threadTs ?? (valid.threadSlot !== undefined ? `${THREAD_SLOT}${valid.threadSlot}` : null),
      update_ts: valid.updateTs ?? null,
      payload: JSON.stringify(valid.message),
      at: at.toISOString(),
    });
    return info.changes === 1;
  }

  heads(): OutboxRecord[] {
    return this.statements.heads.all().flatMap((row) => this.record(row));
  }

  markAttempted(id: number, at: Date): void {
    this.statements.attempted.run(at.toISOString(), id);
  }

  markSent(id: number, message: PostedMessage, at: Date): void {
    this.transaction(() => {
      this.statements.sent.run(at.toISOString(), message.channel, message.ts, id);
      const slot = this.statements.slotOf.get(id)?.slot;
      if (slot) this.statements.saveSlot.run(slot, message.channel, message.ts);
    });
  }

  markFailed(id: number, failure: { at: Date; error: string; nextAttemptAt: Date; inDoubt: boolean }): void {
    this.statements.failed.run(failure.error, failure.nextAttemptAt.toISOString(), failure.inDoubt ? 1 : 0, id);
  }

  giveUp(id: number, at: Date, error: string): void {
    this.statements.giveUp.run(at.toISOString(), error, id);
  }

  recordFile(id: number, fileId: string): void {
    this.statements.recordFile.run(fileId, id);
  }

  slotMessage(slot: string): PostedMessage | undefined {
    return this.statements.slot.get(slot);
  }

  superseded(record: OutboxRecord): boolean {
    return this.statements.superseded.get({ id: record.id, channel: record.channel, slot: record.slot ?? null, update_ts: record.updateTs ?? null }) !== undefined;
  }

  backlog(at: Date): OutboxBacklog {
    const { depth, oldest } = this.statements.backlog.get()!;
    return { depth, oldestAgeSeconds: oldest ? Math.max(0, (at.getTime() - Date.parse(oldest)) / 1000) : 0 };
  }

  /**
   * A payload this Lifeguard cannot read (written by another version) is given up here: left at the head, it
   * would hold its channel for ever.
   */
  private record(row: OutboxRow): OutboxRecord[] {
    const parsed = readPayload(row.payload);
    if (!parsed.ok) {
      this.giveUp(row.id, new Date(), `unreadable payload: ${parsed.why}`);
      return [];
    }
    return [
      {
        id: row.id,
        key: row.key,
        ...(row.slot !== null ? { slot: row.slot } : {}),
        channel: row.channel,
        ...(row.thread_ts === null ? {} : row.thread_ts.startsWith(THREAD_SLOT) ? { threadSlot: row.thread_ts.slice(THREAD_SLOT.length) } : { threadTs: row.thread_ts }),
        ...(row.update_ts !== null ? { updateTs: row.update_ts } : {}),
        message: parsed.message,
        createdAt: new Date(row.created_at),
        attempts: row.attempts,
        nextAttemptAt: new Date(row.next_attempt_at),
        inDoubt: row.in_doubt === 1,
        lastError: row.last_error ?? undefined,
        ...(row.file_id !== null ? { fileId: row.file_id } : {}),
      },
    ];
  }
}

function readPayload(payload: string): { ok: true; message: OutboxMessage } | { ok: false; why: string } {
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch (error) {
    return { ok: false, why: (error as Error).message };
  }
  const parsed = outboxMessageSchema.safeParse(json);
  return parsed.success ? { ok: true, message: parsed.data } : { ok: false, why: parsed.error.issues[0]?.message ?? 'invalid' };
}
