import { spawn, execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore, StoreError } from '../../src/adapters/sqlite/store.js';
import { MIGRATIONS } from '../../src/adapters/sqlite/migrations.js';
import { REPO_ROOT } from '../support/cli.js';
import { useTempDirs } from '../support/tmp.js';

const tempDir = useTempDirs();

function appendInChild(file: string, actor: string, count: number, startAt: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'test/support/append-worker.ts'), file, actor, String(count), String(startAt)], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? -1));
  });
}

describe('SQLite store', () => {
  it('creates the schema at the latest version, with WAL and durable commits', () => {
    const store = openStore(join(tempDir(), 'lifeguard.db'));
    expect(store.db.pragma('user_version', { simple: true })).toBe(MIGRATIONS[MIGRATIONS.length - 1]!.version);
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('synchronous', { simple: true })).toBe(2);
    const columns = store.db.prepare<[], { name: string; type: string }>('PRAGMA table_info(audit_log)').all();
    expect(columns.map((c) => `${c.name} ${c.type}`)).toEqual([
      'id INTEGER', 'at TEXT', 'actor TEXT', 'action TEXT', 'subject TEXT', 'detail TEXT', 'prev_hash TEXT', 'hash TEXT',
    ]);
    store.close();
  });

  it('reopens an existing database without re-running migrations', () => {
    const file = join(tempDir(), 'lifeguard.db');
    openStore(file).close();
    const store = openStore(file);
    store.audit.append({ actor: 'lifeguard', action: 'test', subject: 'checkout/staging', detail: {} });
    expect(store.audit.verify()).toMatchObject({ ok: true, rows: 1 });
    store.close();
  });

  it('refuses a database newer than this build knows', () => {
    const file = join(tempDir(), 'lifeguard.db');
    openStore(file).close();
    execFileSync('sqlite3', [file, 'PRAGMA user_version = 999;']);
    expect(() => openStore(file)).toThrow(/schema version 999 is newer than this Lifeguard knows/);
  });

  it('says clearly when the database directory is missing', () => {
    const dir = join(tempDir(), 'not-there');
    expect(() => openStore(join(dir, 'lifeguard.db'))).toThrow(new StoreError(`database directory ${dir} does not exist: create it, or point LIFEGUARD_DB (or --db) elsewhere`));
  });

  it('says clearly when the database directory is not a directory', () => {
    const file = join(tempDir(), 'plain-file');
    writeFileSync(file, '');
    expect(() => openStore(join(file, 'lifeguard.db'))).toThrow(`database directory ${file} is not a directory`);
  });

  it('says clearly when the database cannot be written', () => {
    // Root ignores directory permissions, so make the database file itself unopenable for writing: a directory.
    const dir = tempDir();
    const file = join(dir, 'lifeguard.db');
    execFileSync('mkdir', [file]);
    chmodSync(file, 0o500);
    expect(() => openStore(file)).toThrow(new RegExp(`^cannot open database ${file}: `));
  });

  it('commits a state change and its audit row together, or neither', () => {
    const store = openStore(join(tempDir(), 'lifeguard.db'));
    const insert = store.db.prepare(
      "INSERT INTO releases (id, kind, service, environment, state, requested_by, created_at) VALUES (?, 'release', 'checkout', 'production', 'requested', 'U01ALICE', '2026-11-22T10:00:00Z')",
    );
    expect(() =>
      store.transaction(() => {
        insert.run('r1');
        store.audit.append({ actor: 'U01ALICE', action: 'release.requested', subject: 'checkout/production', detail: { id: 'r1' } });
        throw new Error('cluster said no');
      }),
    ).toThrow('cluster said no');
    expect(store.db.prepare('SELECT count(*) AS n FROM releases').get()).toEqual({ n: 0 });
    expect(store.db.prepare('SELECT count(*) AS n FROM audit_log').get()).toEqual({ n: 0 });

    store.transaction(() => {
      insert.run('r1');
      store.audit.append({ actor: 'U01ALICE', action: 'release.requested', subject: 'checkout/production', detail: { id: 'r1' } });
    });
    expect(store.db.prepare('SELECT count(*) AS n FROM releases').get()).toEqual({ n: 1 });
    expect(store.audit.verify()).toMatchObject({ ok: true, rows: 1 });
    store.close();
  });

  it('refuses to update or delete audit rows', () => {
    const store = openStore(join(tempDir(), 'lifeguard.db'));
    store.audit.append({ actor: 'lifeguard', action: 'test', subject: 'checkout/staging', detail: { a: 1 } });
    expect(() => store.db.prepare("UPDATE audit_log SET detail = '{}'").run()).toThrow('audit_log is append-only');
    expect(() => store.db.prepare('DELETE FROM audit_log').run()).toThrow('audit_log is append-only');
    store.close();
  });

  it('stores detail canonically so equal evidence always hashes the same', () => {
    const store = openStore(join(tempDir(), 'lifeguard.db'));
    const a = store.audit.append({ actor: 'lifeguard', action: 'test', subject: 's/e', detail: { b: 2, a: { d: 1, c: [3, { f: 1, e: 2 }] } } });
    const row = store.db.prepare<[number], { detail: string }>('SELECT detail FROM audit_log WHERE id = ?').get(a.id);
    expect(row!.detail).toBe('{"a":{"c":[3,{"e":2,"f":1}],"d":1},"b":2}');
    store.close();
  });

  it('group-commits durable appends and resolves each with its own row', async () => {
    const store = openStore(join(tempDir(), 'lifeguard.db'));
    const records = await Promise.all(
      Array.from({ length: 100 }, (_, i) => store.audit.appendDurable({ actor: 'lifeguard', action: 'verdict', subject: 'checkout/production', detail: { i } })),
    );
    expect(records.map((r) => r.id)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(records.every((r, i) => r.detail.i === i)).toBe(true);
    expect(store.audit.verify()).toMatchObject({ ok: true, rows: 100, lastId: 100, keyedFrom: undefined });
    store.close();
  });

  it('keeps one valid chain when two processes append at once', async () => {
    const file = join(tempDir(), 'lifeguard.db');
    openStore(file).close();
    const startAt = Date.now() + 2_000;
    const codes = await Promise.all([appendInChild(file, 'cli:one', 2000, startAt), appendInChild(file, 'cli:two', 2000, startAt)]);
    expect(codes).toEqual([0, 0]);
    const store = openStore(file, { readonly: true });
    expect(store.audit.verify()).toMatchObject({ ok: true, rows: 4000, lastId: 4000, keyedFrom: undefined });
    const byActor = store.db.prepare<[], { actor: string; n: number }>('SELECT actor, count(*) AS n FROM audit_log GROUP BY actor ORDER BY actor').all();
    expect(byActor).toEqual([{ actor: 'cli:one', n: 2000 }, { actor: 'cli:two', n: 2000 }]);
    // The two writers really did interleave; otherwise this test proves nothing about concurrency.
    const actors = store.db.prepare<[], { actor: string }>('SELECT actor FROM audit_log ORDER BY id').all().map((r) => r.actor);
    const switches = actors.filter((a, i) => i > 0 && a !== actors[i - 1]).length;
    expect(switches).toBeGreaterThan(1);
    store.close();
  });
});
