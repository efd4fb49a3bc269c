import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openStore } from '../../src/adapters/sqlite/store.js';
import { COMMANDS } from '../../src/cli/commands.js';
import { dispatch } from '../../src/cli/dispatch.js';
import type { AuditRecord } from '../../src/ports.js';
import { REPO_ROOT, runCli } from '../support/cli.js';
import { useTempDirs } from '../support/tmp.js';

// The CLI runs through tsx over 100,000 rows, behind a reader that dawdles on purpose; a loaded machine is slow.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 180_000 });

const tempDir = useTempDirs();
const KEY = 'c0ffee'.repeat(8);

/** A log of `count` rows with a padded detail, written by the real chain code in one transaction. */
function log(file: string, count: number, auditKey?: string): void {
  const store = openStore(file, { auditKey });
  store.db.pragma('synchronous = OFF');
  store.transaction(() => {
    for (let i = 0; i < count; i++) store.audit.append({ actor: 'lifeguard', action: 'analysis.verdict', subject: 'checkout/production', detail: { i, text: 'x'.repeat(400) } });
  });
  store.close();
}

interface Piped {
  code: number;
  stderr: string;
  /** Exit status of the CLI itself, the first command of the pipeline. */
  cliStatus: number;
  /** Peak RSS of the CLI, from an exit hook in its process. */
  peakMiB: number;
}

/**
 * `lifeguard <args> | <consumer>` through bash, the CLI's output never passing through this process, so the pipe
 * between them fills up exactly as it would for a user.
 */
function piped(args: string[], consumer: string, dir: string): Promise<Piped> {
  const usage = join(dir, `usage-${Date.now()}.json`);
  const hook = `import { writeFileSync } from "node:fs"; process.on("exit", () => writeFileSync(${JSON.stringify(usage)}, JSON.stringify(process.resourceUsage())));`;
  const cli = [process.execPath, '--import', `data:text/javascript,${encodeURIComponent(hook)}`, '--import', 'tsx', join(REPO_ROOT, 'src/cli.ts'), ...args].map((a) => `'${a}'`).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', `${cli} | ${consumer}; echo "cli exit \${PIPESTATUS[0]}" >&2`], { cwd: REPO_ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const status = /cli exit (\d+)\n$/.exec(stderr);
      const used = JSON.parse(readFileSync(usage, 'utf8')) as NodeJS.ResourceUsage;
      resolve({ code: code ?? -1, stderr: stderr.replace(/cli exit \d+\n$/, ''), cliStatus: Number(status?.[1] ?? -1), peakMiB: used.maxRSS / 1024 });
    });
  });
}

/** A reader that takes nothing for two seconds, then a chunk at a time with a pause after each, into `file`. */
const slowReader = (file: string) =>
  `'${process.execPath}' -e '
    const out = require("fs").createWriteStream(process.argv[1]);
    const nap = (ms) => new Promise((r) => setTimeout(r, ms));
    (async () => { await nap(2000); for await (const chunk of process.stdin) { out.write(chunk); await nap(2); } out.end(); })();
  ' '${file}'`;

describe('audit export', () => {
  const ROWS = 100_000;
  const shared = mkdtempSync(join(tmpdir(), 'lifeguard-streams-'));
  const file = join(shared, 'lifeguard.db');
  afterAll(() => rmSync(shared, { recursive: true, force: true }));
  beforeAll(() => log(file, ROWS));

  it('keeps memory flat behind a slow reader and still writes every row, in order', async () => {
    const tiny = join(shared, 'tiny.db');
    log(tiny, 10);
    const baseline = await piped(['audit', 'export', '--db', tiny], 'cat > /dev/null', shared);

    const output = join(shared, 'export.jsonl');
    const result = await piped(['audit', 'export', '--db', file], slowReader(output), shared);
    expect(result).toMatchObject({ code: 0, cliStatus: 0, stderr: '' });
    // About 70 MB of JSON lines went through a pipe whose reader held back: buffered, they would add hundreds of MiB.
    expect(result.peakMiB - baseline.peakMiB).toBeLessThan(64);

    const lines = readFileSync(output, 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(ROWS);
    const rows = lines.map((line) => JSON.parse(line) as { id: number; detail: { i: number }; prev_hash: string; hash: string });
    rows.forEach((row, i) => {
      expect(row.id).toBe(i + 1);
      expect(row.detail.i).toBe(i);
      if (i > 0) expect(row.prev_hash).toBe(rows[i - 1]!.hash);
    });
    const store = openStore(file, { readonly: true });
    expect(rows.at(-1)!.hash).toBe(store.audit.head()!.hash);
    store.close();
  });

  it('stops quietly, exit 0, when the reader goes away (| head)', async () => {
    const output = join(shared, 'head.jsonl');
    for (const format of ['jsonl', 'csv']) {
      const result = await piped(['audit', 'export', '--format', format, '--db', file], `head -n 3 > '${output}'`, shared);
      expect(result).toMatchObject({ code: 0, cliStatus: 0, stderr: '' });
      expect(readFileSync(output, 'utf8').split('\n')).toHaveLength(4);
    }
  });

  it('writes through out() for an in-process caller that gives no stream', async () => {
    const lines: string[] = [];
    const code = await dispatch(COMMANDS, ['audit', 'export', '--format', 'csv', '--db', file], { out: (text) => lines.push(...text.split('\n')), err: (text) => lines.push(text), env: {} });
    expect(code).toBe(0);
    expect(lines).toHaveLength(ROWS + 1);
    expect(lines[0]).toBe('id,at,actor,action,subject,detail,prev_hash,hash');
    expect(lines[ROWS]).toMatch(/^100000,/);
  });
});

describe('audit verify, streaming a long log', () => {
  /** The sqlite3 shell, as someone tampering by hand would use it; the append-only triggers go first. */
  function tampered(rows: number, sql: string, auditKey?: string): string {
    const file = join(tempDir(), 'lifeguard.db');
    log(file, rows, auditKey);
    execFileSync('sqlite3', [file, `DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; ${sql}`]);
    return file;
  }

  it('finds an edit, a gap and a relinked row deep in 20,000 rows, plain and keyed', async () => {
    const cases = [
      { sql: `UPDATE audit_log SET detail = '{"i":12345}' WHERE id = 12345;`, line: 'audit log BROKEN at id 12345: hash does not match the row contents' },
      { sql: 'DELETE FROM audit_log WHERE id = 19000;', line: 'audit log BROKEN at id 19001: expected id 19000 next, found 19001: rows are missing' },
      { sql: `UPDATE audit_log SET prev_hash = '${'0'.repeat(64)}' WHERE id = 7777;`, line: 'audit log BROKEN at id 7777: prev_hash does not match the hash of row 7776' },
    ];
    for (const { sql, line } of cases) {
      const plain = await runCli(['audit', 'verify', '--db', tampered(20_000, sql)]);
      expect(plain).toMatchObject({ code: 1, stdout: expect.stringContaining(line) });
      const keyed = await runCli(['audit', 'verify', '--db', tampered(20_000, sql, KEY)], { LIFEGUARD_AUDIT_KEY: KEY });
      expect(keyed).toMatchObject({ code: 1, stdout: expect.stringContaining(line) });
    }
    const intact = join(tempDir(), 'lifeguard.db');
    log(intact, 20_000, KEY);
    expect(await runCli(['audit', 'verify', '--db', intact], { LIFEGUARD_AUDIT_KEY: KEY })).toMatchObject({ code: 0, stdout: expect.stringContaining('audit log intact: 20000 rows verified') });
  });

  it('keeps its verdict as exit status, without a stack trace, when the reader is gone (| true)', async () => {
    const dir = tempDir();
    const intact = join(dir, 'lifeguard.db');
    log(intact, 10);
    // `true` exits before the CLI has started, so every line it prints meets a closed pipe (EPIPE).
    expect(await piped(['audit', 'verify', '--db', intact], 'true', dir)).toMatchObject({ cliStatus: 0, stderr: '' });
    expect(await piped(['--help'], 'true', dir)).toMatchObject({ cliStatus: 0, stderr: '' });
    execFileSync('sqlite3', [intact, "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET detail = '{}' WHERE id = 4;"]);
    expect(await piped(['audit', 'verify', '--db', intact], 'true', dir)).toMatchObject({ cliStatus: 1, stderr: '' });
  });

  it('fails, saying so once, when its output cannot be written (> /dev/full)', async () => {
    const dir = tempDir();
    const intact = join(dir, 'lifeguard.db');
    log(intact, 10);
    for (const args of [['audit', 'verify', '--db', intact], ['audit', 'export', '--db', intact], ['--help']]) {
      const full = openSync('/dev/full', 'w');
      const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli.ts'), ...args], { cwd: REPO_ROOT, stdio: ['ignore', full, 'pipe'] });
      closeSync(full);
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const [code] = (await once(child, 'close')) as [number];
      expect({ args, code, stderr }).toEqual({ args, code: 1, stderr: 'lifeguard: could not write the output: ENOSPC: no space left on device, write\n' });
    }
  });
});

describe('durable appends with group commit', () => {
  const entry = (writer: number, seq: number) => ({ actor: `U${String(writer).padStart(2, '0')}`, action: 'analysis.verdict', subject: 'checkout/production', detail: { writer, seq } });

  it('keeps the hashes the store wrote before batching', () => {
    // Hashes written by the store of commit e03e8ed (one transaction per row), for these entries at these times.
    let now = Date.UTC(2026, 10, 22, 10, 0, 0);
    const clock = { now: () => new Date((now += 1000)) };
    const file = join(tempDir(), 'lifeguard.db');
    const entries = [
      { actor: 'U01ALICE', action: 'release.requested', subject: 'checkout/production', detail: { b: 2, a: { d: 1, c: [3, { f: 1, e: 2 }] } } },
      { actor: 'cli:ops', action: 'operator.note', subject: '-', detail: { text: 'line one\nline "two"\t\u00e9\u2028' } },
      { actor: 'lifeguard', action: 'analysis.verdict', subject: 'checkout/production', detail: { verdict: 'pass', score: 97.5, skipped: undefined } },
    ];
    const plain = openStore(file, { clock });
    for (const e of entries) plain.audit.append(e);
    plain.close();
    const keyed = openStore(file, { clock, auditKey: 'golden-key-'.padEnd(40, 'x') });
    keyed.audit.append(entries[0]!);
    expect(keyed.db.prepare('SELECT hash FROM audit_log ORDER BY id').pluck().all()).toEqual([
      '3021811080d155237e480062fabb4478aaa7679fd4a6a5633cf11472e2229fa0',
      '8bfca07c5fb5fbb7edb5b5cc6b01ef15e7fbdb6c20f3a9740ae31b08664f41fe',
      '905e53f482df87af2f3a57b7255a56d2f4e2267d3a6520f5271b4fe1140eb544',
      'hmac-sha256:a4d20a83c33a7a6f09c89eaa6f1ee138221212080e3140f88ad329c0325f24ea',
      'hmac-sha256:e3a8bd0c49862ab82188e06b814234225a9feee5265ce34a5b51fb0c05647267',
    ]);
    keyed.close();
  });

  it('commits every row of 32 concurrent writers, ids in the order the appends resolve, on one valid chain', async () => {
    const file = join(tempDir(), 'lifeguard.db');
    const store = openStore(file, { auditKey: KEY });
    const resolved: AuditRecord[] = [];
    await Promise.all(
      Array.from({ length: 32 }, async (_, writer) => {
        for (let seq = 0; seq < 50; seq++) resolved.push(await store.audit.appendDurable(entry(writer, seq)));
      }),
    );
    expect(resolved.map((r) => r.id)).toEqual(Array.from({ length: 1600 }, (_, i) => i + 1));
    expect(store.audit.verify()).toMatchObject({ ok: true, rows: 1600, keyedFrom: 1 });
    store.close();

    // What a reader of the file finds: each resolved record as it was returned, and each writer's rows in its order.
    const db = new Database(file, { readonly: true });
    const rows = db.prepare<[], { id: number; actor: string; detail: string; hash: string }>('SELECT id, actor, detail, hash FROM audit_log ORDER BY id').all();
    db.close();
    expect(rows.map((r) => [r.id, r.hash])).toEqual(resolved.map((r) => [r.id, r.hash]));
    for (let writer = 0; writer < 32; writer++) {
      const own = rows.filter((r) => r.actor === entry(writer, 0).actor).map((r) => (JSON.parse(r.detail) as { seq: number }).seq);
      expect(own).toEqual(Array.from({ length: 50 }, (_, i) => i));
    }
  });

  it('rejects a row that cannot be stored alone, and commits the rest of its batch', async () => {
    const store = openStore(join(tempDir(), 'lifeguard.db'));
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const results = await Promise.allSettled([
      store.audit.appendDurable(entry(1, 0)),
      store.audit.appendDurable({ ...entry(2, 0), detail: { big: 10n } }),
      store.audit.appendDurable({ ...entry(3, 0), actor: undefined as unknown as string }),
      store.audit.appendDurable({ ...entry(4, 0), detail: cyclic }),
      store.audit.appendDurable(entry(5, 0)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'rejected', 'fulfilled']);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value.id : undefined))).toEqual([1, undefined, undefined, undefined, 2]);
    expect(String((results[1] as PromiseRejectedResult).reason)).toContain('BigInt');
    expect(String((results[2] as PromiseRejectedResult).reason)).toContain('audit entry actor must be a string');
    expect(store.audit.verify()).toMatchObject({ ok: true, rows: 2 });
    store.close();
  });

  it('rejects the whole batch when the write itself fails, writing none of it, and goes on after', async () => {
    const file = join(tempDir(), 'lifeguard.db');
    const store = openStore(file);
    await store.audit.appendDurable(entry(0, 0));
    store.db.pragma('busy_timeout = 50');
    const other = new Database(file);
    other.exec('BEGIN IMMEDIATE');
    const results = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => store.audit.appendDurable(entry(1, i))));
    expect(results.every((r) => r.status === 'rejected' && /database is locked/.test(String(r.reason)))).toBe(true);
    other.exec('ROLLBACK');
    other.close();
    expect((await store.audit.appendDurable(entry(2, 0))).id).toBe(2);
    expect(store.audit.verify()).toMatchObject({ ok: true, rows: 2 });
    store.close();
  });
});
