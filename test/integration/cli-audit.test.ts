import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/adapters/sqlite/store.js';
import { REPO_ROOT, runCli } from '../support/cli.js';
import { useTempDirs } from '../support/tmp.js';

const tempDir = useTempDirs();

/** The sqlite3 shell, as someone tampering by hand would use it; the append-only triggers go first. */
function tamper(file: string, sql: string): void {
  execFileSync('sqlite3', [file, `DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; ${sql}`]);
}

describe('lifeguard audit', () => {
  let original: string;
  const env = { LIFEGUARD_OPERATOR: 'mallory-free-zone' };

  const shared = mkdtempSync(join(tmpdir(), 'lifeguard-audit-'));
  afterAll(() => rmSync(shared, { recursive: true, force: true }));

  beforeAll(async () => {
    original = join(shared, 'lifeguard.db');
    for (const [i, subject] of ['checkout/production', 'checkout/staging', 'checkout/production', 'payments/production', 'checkout/production'].entries()) {
      const result = await runCli(['audit', 'note', `scaled canary by hand, step ${i + 1}`, '--subject', subject, '--db', original], env);
      expect(result).toMatchObject({ code: 0, stdout: `noted as audit row ${i + 1} by cli:mallory-free-zone\n` });
    }
  }, 60_000);

  function copy(): string {
    const file = join(tempDir(), 'copy.db');
    copyFileSync(original, file);
    return file;
  }

  it('verifies an intact log', async () => {
    const result = await runCli(['audit', 'verify', '--db', original]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('audit log intact: 5 rows verified');
  });

  it('finds a detail edited with the sqlite3 shell', async () => {
    const file = copy();
    tamper(file, `UPDATE audit_log SET detail = '{"text":"nothing happened"}' WHERE id = 3;`);
    const result = await runCli(['audit', 'verify', '--db', file]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('audit log BROKEN at id 3: hash does not match the row contents');
  });

  it('finds an edit even when the tamperer recomputed nothing but the actor', async () => {
    const file = copy();
    tamper(file, `UPDATE audit_log SET actor = 'cli:someone-else' WHERE id = 2;`);
    const result = await runCli(['audit', 'verify', '--db', file]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('BROKEN at id 2');
  });

  it('finds a deleted row, naming the row after the gap', async () => {
    const file = copy();
    tamper(file, 'DELETE FROM audit_log WHERE id = 2;');
    const result = await runCli(['audit', 'verify', '--db', file]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('audit log BROKEN at id 3: expected id 2 next, found 3: rows are missing');
  });

  it('finds two swapped rows', async () => {
    const file = copy();
    tamper(
      file,
      `CREATE TEMP TABLE t AS SELECT * FROM audit_log WHERE id IN (2, 4);
       UPDATE audit_log SET at = (SELECT at FROM t WHERE id = 4), actor = (SELECT actor FROM t WHERE id = 4), action = (SELECT action FROM t WHERE id = 4), subject = (SELECT subject FROM t WHERE id = 4), detail = (SELECT detail FROM t WHERE id = 4), prev_hash = (SELECT prev_hash FROM t WHERE id = 4), hash = (SELECT hash FROM t WHERE id = 4) WHERE id = 2;
       UPDATE audit_log SET at = (SELECT at FROM t WHERE id = 2), actor = (SELECT actor FROM t WHERE id = 2), action = (SELECT action FROM t WHERE id = 2), subject = (SELECT subject FROM t WHERE id = 2), detail = (SELECT detail FROM t WHERE id = 2), prev_hash = (SELECT prev_hash FROM t WHERE id = 2), hash = (SELECT hash FROM t WHERE id = 2) WHERE id = 4;`,
    );
    const result = await runCli(['audit', 'verify', '--db', file]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('audit log BROKEN at id 2');
  });

  it('exports JSON lines with the detail as an object, and CSV with a header', async () => {
    const jsonl = await runCli(['audit', 'export', '--db', original]);
    expect(jsonl.code).toBe(0);
    const rows = jsonl.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(rows).toHaveLength(5);
    expect(rows[0]).toMatchObject({ id: 1, actor: 'cli:mallory-free-zone', action: 'operator.note', subject: 'checkout/production', detail: { text: 'scaled canary by hand, step 1' } });
    expect(rows[1]!.prev_hash).toBe(rows[0]!.hash);

    const csv = await runCli(['audit', 'export', '--format', 'csv', '--db', original]);
    const lines = csv.stdout.trim().split('\n');
    expect(lines[0]).toBe('id,at,actor,action,subject,detail,prev_hash,hash');
    expect(lines[1]).toContain(',"{""text"":""scaled canary by hand, step 1""}",');
    expect(lines).toHaveLength(6);
  });

  it('exports only rows since a given time', async () => {
    const all = (await runCli(['audit', 'export', '--db', original])).stdout.trim().split('\n');
    const third = JSON.parse(all[2]!) as { at: string };
    const since = await runCli(['audit', 'export', '--since', third.at, '--db', original]);
    expect(since.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { id: number }).id)).toEqual([3, 4, 5]);
    const future = await runCli(['audit', 'export', '--since', '2999-01-01T00:00:00Z', '--db', original]);
    expect(future).toMatchObject({ code: 0, stdout: '' });
  });

  it('rejects bad arguments with usage and exit 2', async () => {
    const badFormat = await runCli(['audit', 'export', '--format', 'xml', '--db', original]);
    expect(badFormat.code).toBe(2);
    expect(badFormat.stderr).toContain('--format: "xml" is not one of jsonl, csv');
    expect(badFormat.stderr).toContain('usage: lifeguard audit export');

    const badSince = await runCli(['audit', 'export', '--since', 'yesterday', '--db', original]);
    expect(badSince.code).toBe(2);
    expect(badSince.stderr).toContain('--since: "yesterday" is not a time');

    const badSubject = await runCli(['audit', 'note', 'x', '--subject', 'checkout', '--db', original]);
    expect(badSubject.code).toBe(2);
    expect(badSubject.stderr).toContain('--subject: "checkout" is not of the form <service>/<environment>');

    const missingDb = await runCli(['audit', 'verify', '--db', join(tempDir(), 'none.db')]);
    expect(missingDb.code).toBe(2);
    expect(missingDb.stderr).toMatch(/database .*none\.db does not exist/);
  });
});

describe('lifeguard CLI', () => {
  it('answers unknown commands and flags with usage and exit 2', async () => {
    const unknown = await runCli(['deploy', 'checkout']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "deploy checkout"');
    expect(unknown.stderr).toContain('usage: lifeguard <command> [options]');

    const flag = await runCli(['history', 'checkout', '--envv', 'production']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("Unknown option '--envv'");
    expect(flag.stderr).toContain('usage: lifeguard history <service>');

    const missing = await runCli(['history']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('missing argument');
  });

  it('prints help for every command', async () => {
    for (const words of [['start'], ['config', 'check'], ['analyze'], ['history'], ['audit', 'verify'], ['audit', 'export'], ['audit', 'note']]) {
      const result = await runCli([...words, '--help']);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^usage: lifeguard ${words.join(' ')}`));
    }
  });

  it('checks the example config and fails a broken one with path: message lines', async () => {
    const ok = await runCli(['config', 'check', '--config', 'lifeguard.example.yaml']);
    expect(ok).toMatchObject({ code: 0, stdout: 'lifeguard.example.yaml: valid (1 service, 4 metric templates)\n' });

    const missing = await runCli(['config', 'check'], { LIFEGUARD_CONFIG: '/nonexistent/lifeguard.yaml' });
    expect(missing).toMatchObject({ code: 2, stderr: '(file): cannot read /nonexistent/lifeguard.yaml: file not found\n' });
  });

  it('prints an empty history until releases exist', async () => {
    const db = join(tempDir(), 'lifeguard.db');
    openStore(db).close();
    const result = await runCli(['history', 'checkout', '--env', 'production', '--since', '2026-11-01T00:00:00Z', '--until', '2026-11-11T00:00:00Z', '--db', db], { LIFEGUARD_CONFIG: 'lifeguard.example.yaml' });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^no releases, rollbacks or hotfixes recorded for checkout in production since 2026-11-01T00:00:00.000Z\n/);
    expect(result.stdout).toContain('Deployment frequency: 0.00 a day (0 promoted in 10 days)');
  });

  it('never creates a database to read from, and names a file that is not a Lifeguard database', async () => {
    const dir = tempDir();
    const missing = join(dir, 'typo.db');
    const history = await runCli(['history', 'checkout', '--db', missing], { LIFEGUARD_CONFIG: 'lifeguard.example.yaml' });
    expect(history.code).toBe(2);
    expect(history.stderr).toContain(`database ${missing} does not exist`);
    expect(existsSync(missing)).toBe(false);

    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'root:x:0:0:root:/root:/bin/bash\n'.repeat(100));
    const notDb = await runCli(['audit', 'verify', '--db', text]);
    expect(notDb.code).toBe(2);
    expect(notDb.stderr).toContain(`cannot open database ${text}: file is not a database`);

    const other = join(dir, 'other.db');
    execFileSync('sqlite3', [other, 'CREATE TABLE t (x);']);
    const foreign = await runCli(['audit', 'export', '--db', other]);
    expect(foreign.code).toBe(2);
    expect(foreign.stderr).toContain(`${other} is not a Lifeguard database`);

    const directory = await runCli(['audit', 'verify', '--db', dir]);
    expect(directory.code).toBe(2);
    expect(directory.stderr).toContain(`database ${dir} is not a file`);
  });

  it('refuses a read-only database directory at start-up, naming it, before anything else happens', () => {
    const dir = join(tempDir(), 'read-only');
    mkdirSync(dir, { mode: 0o555 });
    // Root writes anywhere; without the capability that lets it, the directory is read-only for root too.
    const asUser = process.getuid?.() === 0 ? ['setpriv', '--bounding-set=-dac_override,-dac_read_search', '--'] : [];
    const lifeguard = (args: string[]) => {
      const [command, ...rest] = [...asUser, process.execPath, '--import', 'tsx', 'src/cli.ts', ...args];
      return spawnSync(command!, rest, {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        env: { PATH: process.env.PATH, SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: 'secret', LIFEGUARD_DB: join(dir, 'lifeguard.db'), PORT: '0' },
      });
    };
    const expected = `database directory ${dir} is not writable by this process: fix its permissions or point LIFEGUARD_DB (or --db) elsewhere`;
    const start = lifeguard(['start', '--config', 'lifeguard.example.yaml', '--host', '127.0.0.1']);
    expect(start.status).toBe(2);
    expect(start.stderr).toContain(`lifeguard start: ${expected}`);
    const note = lifeguard(['audit', 'note', 'hand fix']);
    expect(note.status).toBe(2);
    expect(note.stderr).toContain(expected);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('lists the sub-commands of a command family named alone', async () => {
    const result = await runCli(['audit']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('lifeguard audit: name one of: verify, export, note');
  });
});
