import Database from 'better-sqlite3';
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { AuditEntry, AuditLog, AuditRecord, Clock } from '../../ports.js';
import { systemClock } from '../../ports.js';
import { auditKey, GENESIS_HASH, isKeyed, rowHash, verifyChain, type AuditKey, type AuditRow, type ChainCheck } from './audit-chain.js';
import { canonicalJson } from './canonical.js';
import { MIGRATIONS, type Migration } from './migrations.js';

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

/** The hash-chained, append-only `audit_log` (DESIGN §3). */
export class SqliteAuditLog implements AuditLog {
  private readonly last;
  private readonly insert;
  private readonly hashOf;
  private pending: { entry: AuditEntry; resolve: (r: AuditRecord) => void; reject: (e: unknown) => void }[] = [];

  constructor(
    private readonly db: Database.Database,
    private readonly clock: Clock,
    private readonly key?: AuditKey,
  ) {
    this.last = db.prepare<[], { id: number; hash: string }>('SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1');
    this.hashOf = db.prepare<[number], { hash: string }>('SELECT hash FROM audit_log WHERE id = ?');
    this.insert = db.prepare(
      'INSERT INTO audit_log (id, at, actor, action, subject, detail, prev_hash, hash) VALUES (@id, @at, @actor, @action, @subject, @detail, @prev_hash, @hash)',
    );
  }

  /**
   * Appends one row. Reading the chain's head and inserting happen in one IMMEDIATE transaction (or inside the
   * caller's), so two processes appending at once serialise on SQLite's write lock and both extend the chain.
   */
  append(entry: AuditEntry): AuditRecord {
    return this.db
      .transaction(() => {
        const head = this.last.get();
        if (!this.key && head && isKeyed(head.hash)) throw new StoreError(keyMissing(head.id));
        const row: Omit<AuditRow, 'hash'> = {
          id: (head?.id ?? 0) + 1,
          at: this.clock.now().toISOString(),
          actor: entry.actor,
          action: entry.action,
          subject: entry.subject,
          detail: canonicalJson(entry.detail),
          prev_hash: head?.hash ?? GENESIS_HASH,
        };
        const hash = rowHash(row, this.key);
        this.insert.run({ ...row, hash });
        return { ...entry, id: row.id, at: row.at, prevHash: row.prev_hash, hash };
      })
      .immediate();
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

  private flush(): void {
    const batch = this.pending.splice(0);
    try {
      const records = this.db.transaction(() => batch.map((p) => this.append(p.entry))).immediate();
      batch.forEach((p, i) => p.resolve(records[i]!));
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
  }

  /** Recomputes the whole chain; throws AuditKeyRequired for a keyed chain opened without the key. */
  verify(): ChainCheck {
    return verifyChain(this.rawRows(), this.key);
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

  /** Rows read as arrays: better-sqlite3 builds arrays faster than objects, which counts over millions of rows. */
  private *rawRows(): Generator<AuditRow> {
    const select = this.db.prepare('SELECT id, at, actor, action, subject, detail, prev_hash, hash FROM audit_log ORDER BY id').raw(true);
    for (const r of select.iterate() as IterableIterator<[number, string, string, string, string, string, string, string]>) {
      yield { id: r[0], at: r[1], actor: r[2], action: r[3], subject: r[4], detail: r[5], prev_hash: r[6], hash: r[7] };
    }
  }

  rows(filter: ExportFilter = {}): IterableIterator<AuditRow> {
    if (filter.since) {
      return this.db.prepare<[string], AuditRow>('SELECT * FROM audit_log WHERE at >= ? ORDER BY id').iterate(filter.since);
    }
    return this.db.prepare<[], AuditRow>('SELECT * FROM audit_log ORDER BY id').iterate();
  }
}
