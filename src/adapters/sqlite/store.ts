import Database from 'better-sqlite3';
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { AuditEntry, AuditLog, AuditRecord, Clock } from '../../ports.js';
import { systemClock } from '../../ports.js';
import { AUDIT_COLUMNS, auditKey, chainHash, GENESIS_HASH, isKeyed, rowHash, verifyRows, type AuditKey, type AuditRow, type AuditTuple, type ChainCheck } from './audit-chain.js';
import { canonicalJson } from './canonical.js';
import { MIGRATIONS, type Migration } from './migrations.js';
import { verifyInParts } from './verify-in-parts.js';

/** The database could not be opened or migrated; the message says which file and what to do. */
export class StoreError extends Error {
  override name = 'StoreError';
}

export interface SqliteStore {
  readonly db: Database.Database;
  readonly file: string;
  readonly audit: SqliteAuditLog;
  /** Runs `fn` in one IMMEDIATE transaction: a state change and its audit row commit together or not at all. */
  transaction<T>(fn: () => T): T;
  close(): void;
}

export interface OpenOptions {
  clock?: Clock;
  /** Open an existing database without creating or migrating it (audit verify/export). */
  readonly?: boolean;
  migrations?: Migration[];
  /** LIFEGUARD_AUDIT_KEY: rows are then HMAC-SHA256 keyed, and verified with it. */
  auditKey?: string | undefined;
}

function checkDirectory(file: string, readonly: boolean): void {
  const dir = dirname(resolve(file));
  let stats;
  try {
    stats = statSync(dir);
  } catch {
    throw new StoreError(`database directory ${dir} does not exist: create it, or point LIFEGUARD_DB (or --db) elsewhere`);
  }
  if (!stats.isDirectory()) throw new StoreError(`database directory ${dir} is not a directory`);
  if (readonly) {
    let fileStats;
    try {
      fileStats = statSync(file);
    } catch {
      throw new StoreError(`database ${file} does not exist: start Lifeguard once to create it, or point LIFEGUARD_DB (or --db) at the right file`);
    }
    if (!fileStats.isFile()) throw new StoreError(`database ${file} is not a file`);
    return;
  }
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new StoreError(`database directory ${dir} is not writable by this process: fix its permissions or point LIFEGUARD_DB (or --db) elsewhere`);
  }
}

function migrate(db: Database.Database, migrations: Migration[]): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = migrations[migrations.length - 1]?.version ?? 0;
  if (current > latest) {
    throw new StoreError(`database schema version ${current} is newer than this Lifeguard knows (${latest}): upgrade Lifeguard`);
  }
  for (const migration of migrations.filter((m) => m.version > current)) {
    db.transaction(() => {
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    }).immediate();
  }
}

/** Opens (creating and migrating when needed) the SQLite database: WAL, durable commits, busy waits for other processes. */
export function openStore(file: string, options: OpenOptions = {}): SqliteStore {
  const readonly = options.readonly ?? false;
  checkDirectory(file, readonly);
  let db: Database.Database;
  try {
    db = new Database(file, { readonly, fileMustExist: readonly });
    db.pragma('busy_timeout = 10000');
    if (readonly && (db.pragma('user_version', { simple: true }) as number) === 0) {
      db.close();
      throw new StoreError(`${file} is not a Lifeguard database (it has no schema version): check LIFEGUARD_DB or --db`);
    }
    if (!readonly) {
      db.pragma('journal_mode = WAL');
      // FULL: every commit is fsynced before it returns, so an acknowledged audit row survives a power cut.
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      migrate(db, options.migrations ?? MIGRATIONS);
    }
  } catch (error) {
    if (error instanceof StoreError) throw error;
    throw new StoreError(`cannot open database ${file}: ${(error as Error).message}`);
  }
  const transaction = <T>(fn: () => T): T => db.transaction(fn).immediate();
  const audit = new SqliteAuditLog(db, options.clock ?? systemClock, options.auditKey ? auditKey(options.auditKey) : undefined);
  if (!readonly) {
    try {
      audit.adoptKey();
    } catch (error) {
      db.close();
      throw error;
    }
  }
  return { db, file, audit, transaction, close: () => db.close() };
}

const keyMissing = (id: number) =>
  `the audit chain is keyed (its newest row, ${id}, is HMAC-SHA256): set LIFEGUARD_AUDIT_KEY to the key it was written with; appending plain SHA-256 rows would break it`;

export interface ExportFilter {
  since?: string;
}

/** An entry ready to insert: its detail in canonical form. */
interface Prepared {
  entry: AuditEntry;
  detail: string;
}

/**
 * What can fail for one row alone, found before the batch it joins is written: a detail JSON cannot encode (a
 * BigInt, a cycle) or a field that is not text. After this, an insert fails only for reasons shared by the whole
 * batch (the disk, the lock, the key).
 */
function prepare(entry: AuditEntry): Prepared {
  for (const field of ['actor', 'action', 'subject'] as const) {
    if (typeof entry[field] !== 'string') throw new TypeError(`audit entry ${field} must be a string, got ${typeof entry[field]}`);
  }
  const detail = canonicalJson(entry.detail);
  if (typeof detail !== 'string') throw new TypeError('audit entry detail must encode as JSON');
  return { entry, detail };
}

interface Waiter {
  entry: AuditEntry;
  resolve: (r: AuditRecord) => void;
  reject: (e: unknown) => void;
}

/** The hash-chained, append-only `audit_log` (DESIGN §3). */
export class SqliteAuditLog implements AuditLog {
  private readonly last;
  private readonly insert;
  private readonly hashOf;
  private readonly write;
  private pending: Waiter[] = [];

  constructor(
    private readonly db: Database.Database,
    private readonly clock: Clock,
    private readonly key?: AuditKey,
  ) {
    this.last = db.prepare<[], { id: number; hash: string }>('SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1');
    this.hashOf = db.prepare<[number], { hash: string }>('SELECT hash FROM audit_log WHERE id = ?');
    this.insert = db.prepare<AuditTuple>(`INSERT INTO audit_log (${AUDIT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
    // Wrapped once, not per append: each db.transaction() call builds a new wrapper function.
    this.write = db.transaction((rows: Prepared[]) => this.chain(rows));
  }

  /**
   * Reads the chain's head once and extends it by every row: the chain's work is done per batch, not per row. Runs
   * inside `write`, so the head cannot move between the read and the inserts.
   */
  private chain(rows: Prepared[]): AuditRecord[] {
    const head = this.last.get();
    if (!this.key && head && isKeyed(head.hash)) throw new StoreError(keyMissing(head.id));
    let id = head?.id ?? 0;
    let prevHash = head?.hash ?? GENESIS_HASH;
    return rows.map(({ entry, detail }) => {
      id++;
      const at = this.clock.now().toISOString();
      const hash = chainHash(prevHash, id, at, entry.actor, entry.action, entry.subject, detail, this.key);
      this.insert.run(id, at, entry.actor, entry.action, entry.subject, detail, prevHash, hash);
      const record = { ...entry, id, at, prevHash, hash };
      prevHash = hash;
      return record;
    });
  }

  /**
   * Appends one row. Reading the chain's head and inserting happen in one IMMEDIATE transaction (or inside the
   * caller's), so two processes appending at once serialise on SQLite's write lock and both extend the chain.
   */
  append(entry: AuditEntry): AuditRecord {
    const rows = [prepare(entry)];
    // Inside the caller's transaction a single INSERT needs no savepoint around it: it is atomic on its own.
    return (this.db.inTransaction ? this.chain(rows) : this.write.immediate(rows))[0]!;
  }

  /**
   * Appends with group commit: entries that arrive in the same turn of the event loop are written in one
   * transaction, so one fsync makes many rows durable. Each promise settles once its row is on disk. Use it
   * where no state change must commit with the row; otherwise call `append` inside `Store.transaction`.
   */
  appendDurable(entry: AuditEntry): Promise<AuditRecord> {
    return new Promise((resolve, reject) => {
      this.pending.push({ entry, resolve, reject });
      if (this.pending.length === 1) setImmediate(() => this.flush());
    });
  }

  /**
   * Writes the waiting entries in arrival order, ids following that order. An entry that cannot be stored is
   * rejected alone, before the batch is written, and takes no id; a failure of the write itself (the disk, the
   * lock, a missing key) rolls the whole batch back and rejects every entry in it, so none is half-written.
   */
  private flush(): void {
    const waiting = this.pending.splice(0);
    const batch: { waiter: Waiter; row: Prepared }[] = [];
    for (const waiter of waiting) {
      try {
        batch.push({ waiter, row: prepare(waiter.entry) });
      } catch (error) {
        waiter.reject(error);
      }
    }
    if (batch.length === 0) return;
    let records: AuditRecord[];
    try {
      records = this.write.immediate(batch.map((b) => b.row));
    } catch (error) {
      for (const { waiter } of batch) waiter.reject(error);
      return;
    }
    batch.forEach(({ waiter }, i) => waiter.resolve(records[i]!));
  }

  /** Recomputes the whole chain; throws AuditKeyRequired for a keyed chain opened without the key. */
  verify(): ChainCheck {
    return verifyRows(this.tuples(), this.key);
  }

  /** verify(), a long chain split across worker threads that read `file` themselves (`lifeguard audit verify`). */
  verifyOnEveryCore(file: string): Promise<ChainCheck> {
    const next = this.db.prepare<[number], { id: number | null }>('SELECT min(id) AS id FROM audit_log WHERE id > ?');
    return verifyInParts({
      file,
      ...(this.key ? { key: this.key } : {}),
      head: () => this.head(),
      hashAt: (id) => this.hashAt(id),
      nextId: (after) => next.get(after)?.id ?? undefined,
      verify: () => this.verify(),
    });
  }

  /** The newest row, which a checkpoint records. */
  head(): { id: number; hash: string } | undefined {
    return this.last.get();
  }

  /** The stored hash of row `id`, to compare with a checkpoint. */
  hashAt(id: number): string | undefined {
    return this.hashOf.get(id)?.hash;
  }

  /**
   * Before a writer appends: a keyed head needs the key it was written with (an unkeyed row after it, or one
   * keyed with another key, would break the chain); with a key and an unkeyed head, an `audit.keyed` row marks
   * where keying starts, so a verifier holding the key can tell this chain from one recomputed without it.
   */
  adoptKey(): void {
    const head = this.last.get();
    if (!head) return;
    if (!isKeyed(head.hash)) {
      if (this.key) this.append({ actor: 'lifeguard', action: 'audit.keyed', subject: '-', detail: { scheme: 'hmac-sha256', from: head.id + 1 } });
      return;
    }
    if (!this.key) throw new StoreError(keyMissing(head.id));
    const row = this.db.prepare<[number], AuditRow>('SELECT * FROM audit_log WHERE id = ?').get(head.id)!;
    if (rowHash(row, this.key) !== row.hash) {
      throw new StoreError(
        `the newest audit row (${head.id}) does not verify with LIFEGUARD_AUDIT_KEY: the key is not the one the chain was written with, or the row was altered; run \`lifeguard audit verify\` with the right key`,
      );
    }
  }

  /** Rows as arrays in id order, one at a time from one prepared statement: verify and export hold one row, not the log. */
  tuples(filter: ExportFilter = {}): IterableIterator<AuditTuple> {
    const where = filter.since ? ' WHERE at >= ?' : '';
    const select = this.db.prepare<string[], AuditTuple>(`SELECT ${AUDIT_COLUMNS} FROM audit_log${where} ORDER BY id`).raw(true);
    return filter.since ? select.iterate(filter.since) : select.iterate();
  }

  /** Rows as objects in id order, for reading a few. */
  rows(): IterableIterator<AuditRow> {
    return this.db.prepare<[], AuditRow>('SELECT * FROM audit_log ORDER BY id').iterate();
  }
}
