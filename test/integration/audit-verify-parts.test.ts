import { execFile, execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openStore } from '../../src/adapters/sqlite/store.js';
import { PARTS_FROM_ROWS, partsFor } from '../../src/adapters/sqlite/verify-in-parts.js';
import { REPO_ROOT, type CliResult } from '../support/cli.js';

/**
 * `lifeguard audit verify` of a long log splits it across worker threads by id range. Each break must be found
 * as a single pass finds it, wherever it falls: inside a range, on a boundary, or in the keyed part.
 */

vi.setConfig({ testTimeout: 180_000 });

/** Built once for every test: each copies what it tampers with. */
const dir = mkdtempSync(join(tmpdir(), 'lifeguard-verify-parts-'));
const KEY = 'c0ffee'.repeat(8);
const ROWS = PARTS_FROM_ROWS + 1_000;
let plain: string;
let keyed: string;

/** `rows` operator notes; with `keyFrom`, Lifeguard runs with the key from that row on (its `audit.keyed` row marks the switch). */
function build(file: string, opts: { keyFrom?: number } = {}): string {
  let store = openStore(file);
  store.db.pragma('synchronous = OFF');
  const note = (i: number) => store.audit.append({ actor: 'cli:ops', action: 'operator.note', subject: 'checkout/production', detail: { text: `note ${i}` } });
  const plainRows = opts.keyFrom ? opts.keyFrom - 1 : ROWS;
  store.transaction(() => {
    for (let i = 1; i <= plainRows; i++) note(i);
  });
  store.close();
  if (opts.keyFrom) {
    store = openStore(file, { auditKey: KEY });
    store.db.pragma('synchronous = OFF');
    const head = store.audit.head()!.id;
    store.transaction(() => {
      for (let i = head + 1; i <= ROWS; i++) note(i);
    });
    store.close();
  }
  return file;
}

function tampered(from: string, sql: string): string {
  const file = join(dir, 'tampered.db');
  copyFileSync(from, file);
  execFileSync('sqlite3', [file, `DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; ${sql}`]);
  return file;
}

/** The built CLI, as installed: worker threads load only JavaScript. */
function verify(file: string, env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['dist/src/cli.js', 'audit', 'verify', '--db', file], { cwd: REPO_ROOT, env: { PATH: process.env.PATH, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

beforeAll(() => {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: REPO_ROOT, stdio: 'inherit' });
  plain = build(join(dir, 'plain.db'));
  keyed = build(join(dir, 'keyed.db'), { keyFrom: 150_000 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('audit verify of a log long enough to split', () => {
  it('an intact log verifies, every row counted', async () => {
    const result = await verify(plain);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`audit log intact: ${ROWS} rows verified`);
  });

  it('an edited row deep in a later range is found by id', async () => {
    const result = await verify(tampered(plain, "UPDATE audit_log SET detail = '{\"text\":\"forged\"}' WHERE id = 170123;"));
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/BROKEN at id 170123: hash does not match the row contents/);
  });

  it('a row deleted where one range ends and the next begins is found missing', async () => {
    const size = Math.ceil(ROWS / partsFor(availableParallelism()));
    const lastOfFirst = await verify(tampered(plain, `DELETE FROM audit_log WHERE id = ${size};`));
    expect(lastOfFirst.code, lastOfFirst.stdout).toBe(1);
    expect(lastOfFirst.stdout).toContain(`BROKEN at id ${size + 1}: expected id ${size} next, found ${size + 1}: rows are missing`);
    const firstOfSecond = await verify(tampered(plain, `DELETE FROM audit_log WHERE id = ${size + 1};`));
    expect(firstOfSecond.code, firstOfSecond.stdout).toBe(1);
    expect(firstOfSecond.stdout).toContain(`BROKEN at id ${size + 2}: expected id ${size + 1} next, found ${size + 2}: rows are missing`);
  });

  it('a row forged with an id below 1 is found, as a single pass finds it', async () => {
    const result = await verify(
      tampered(plain, "INSERT INTO audit_log (id, at, actor, action, subject, detail, prev_hash, hash) SELECT -1, at, actor, action, subject, detail, prev_hash, hash FROM audit_log WHERE id = 1;"),
    );
    expect(result.code, result.stdout).toBe(1);
    expect(result.stdout).toContain('BROKEN at id -1: expected id 1 next, found -1: rows are missing');
  });

  it('a log cut short inside the last range is found where it is cut', async () => {
    const result = await verify(tampered(plain, `DELETE FROM audit_log WHERE id BETWEEN ${ROWS - 500} AND ${ROWS - 1};`));
    expect(result.code, result.stdout).toBe(1);
    expect(result.stdout).toContain(`BROKEN at id ${ROWS}: expected id ${ROWS - 500} next, found ${ROWS}: rows are missing`);
  });

  it('a keyed log verifies with its key, across the switch, and is refused without it', async () => {
    const withKey = await verify(keyed, { LIFEGUARD_AUDIT_KEY: KEY });
    expect(withKey.code, withKey.stderr).toBe(0);
    expect(withKey.stdout).toContain(`audit log intact: ${ROWS} rows verified`);
    const without = await verify(keyed);
    expect(without.code).toBe(2);
    expect(without.stderr).toMatch(/the audit chain is keyed \(HMAC-SHA256\) from row 150000: set LIFEGUARD_AUDIT_KEY/);
  });

  it('plain rows forged after the keyed ones are caught in whichever range they fall', async () => {
    const result = await verify(tampered(keyed, "UPDATE audit_log SET hash = 'a' || substr(hash, 14) WHERE id = 190000;"), { LIFEGUARD_AUDIT_KEY: KEY });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/BROKEN at id 190000: /);
  });
});
