import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sqliteRepositories } from '../../src/adapters/sqlite/repositories.js';
import { openStore } from '../../src/adapters/sqlite/store.js';
import { runCli, type CliResult } from '../support/cli.js';
import { tenOperations } from '../support/history-fixture.js';
import { useTempDirs } from '../support/tmp.js';

const tempDir = useTempDirs();
/** A CLI fed hostile input that hangs is killed after this, and the test fails on its exit code. */
const BOUND = { timeoutMs: 15_000 };

const stderrLines = (result: CliResult) => result.stderr.trimEnd().split('\n');

/** Exit 2 and exactly one line on stderr, which matches `reason`. */
function refusedInOneLine(result: CliResult, reason: RegExp): void {
  expect(result.code).toBe(2);
  expect(stderrLines(result)).toHaveLength(1);
  expect(result.stderr.trimEnd()).toMatch(reason);
}

describe('lifeguard with a flag where the command should be', () => {
  it('names the flag, shows the overview and exits 2', async () => {
    const result = await runCli(['--bogus']);
    expect(result.code).toBe(2);
    expect(stderrLines(result)[0]).toBe('lifeguard: unknown option "--bogus"');
    expect(result.stderr).toContain('usage: lifeguard <command> [options]');

    const early = await runCli(['--config', 'lifeguard.example.yaml', 'config', 'check']);
    expect(early.code).toBe(2);
    expect(stderrLines(early)[0]).toBe('lifeguard: option "--config" goes after the command: lifeguard <command> --config');
  });
});

describe('time arguments out of range', () => {
  const outOfRange = /^lifeguard (audit export|analyze): --(since|at): "[^"]+" is out of range \(use a time from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z\)$/;

  it('are usage errors (exit 2) for audit export --since and analyze --at, whichever way they are written', async () => {
    const db = join(tempDir(), 'lifeguard.db');
    openStore(db).close();
    for (const since of ['99999999999999999999', '300000000000', '99999999d']) {
      const result = await runCli(['audit', 'export', '--since', since, '--db', db]);
      expect(result.code).toBe(2);
      expect(stderrLines(result)[0]).toMatch(outOfRange);
      expect(result.stderr).not.toContain('Invalid time value');
    }
    const analyze = await runCli(['analyze', 'checkout', '--env', 'production', '--at', '99999999999999999999', '--weight', '25', '--config', 'lifeguard.example.yaml']);
    expect(analyze.code).toBe(2);
    expect(stderrLines(analyze)[0]).toMatch(outOfRange);
  });
});

describe('config check of hostile files', () => {
  it('refuses a YAML alias bomb in one line', async () => {
    const file = join(tempDir(), 'bomb.yaml');
    const levels = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
    for (const [i, name] of [...'bcdefghi'].entries()) levels.push(`${name}: &${name} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(', ')}]`);
    writeFileSync(file, `${levels.join('\n')}\n`);
    refusedInOneLine(await runCli(['config', 'check', '--config', file], {}, undefined, BOUND), /^\(yaml\): too many alias expansions \(limit 100\)/);
  });

  it('refuses a device and a pipe without reading them', async () => {
    refusedInOneLine(await runCli(['config', 'check', '--config', '/dev/zero'], {}, undefined, BOUND), /^\(file\): \/dev\/zero is not a regular file \(a device\)/);
    const fifo = join(tempDir(), 'lifeguard.yaml');
    execFileSync('mkfifo', [fifo]);
    refusedInOneLine(await runCli(['config', 'check', '--config', fifo], {}, undefined, BOUND), /is not a regular file \(a pipe\)/);
  });

  it('refuses a 30 MB file by its size, never echoing it', async () => {
    const file = join(tempDir(), 'huge.yaml');
    writeFileSync(file, `slack: "${'A'.repeat(30 * 1024 * 1024)}"\n`);
    const result = await runCli(['config', 'check', '--config', file], {}, undefined, BOUND);
    refusedInOneLine(result, /^\(file\): config file .*huge\.yaml is 31457290 bytes, larger than the 1 MiB limit$/);
  });

  it('echoes at most 80 characters of a long value in an error line', async () => {
    const file = join(tempDir(), 'long.yaml');
    const example = execFileSync('cat', ['lifeguard.example.yaml'], { encoding: 'utf8' });
    writeFileSync(file, example.replace(/^prometheus:\n {2}url: .*$/m, `prometheus:\n  url: "${'A'.repeat(500_000)}"`));
    const result = await runCli(['config', 'check', '--config', file], {}, undefined, BOUND);
    expect(result.code).toBe(2);
    expect(stderrLines(result)).toEqual([`prometheus.url: must be an http(s) URL (got "${'A'.repeat(80)}…")`]);
  });

  it('refuses nesting deeper than 64 levels in one line', async () => {
    const file = join(tempDir(), 'deep.yaml');
    writeFileSync(file, `slack: ${'['.repeat(200_000)}\n`);
    refusedInOneLine(await runCli(['config', 'check', '--config', file], {}, undefined, BOUND), /^\(yaml\): line 1: nested deeper than 64 levels$/);
  });
});

describe('lifeguard history names', () => {
  const config = { LIFEGUARD_CONFIG: 'lifeguard.example.yaml' };

  it('refuses a service or environment that neither the config nor the database knows, with the nearest name', async () => {
    const db = join(tempDir(), 'lifeguard.db');
    openStore(db).close();
    const env = await runCli(['history', 'checkout', '--env', 'nope', '--db', db], config);
    expect(env.code).toBe(2);
    expect(stderrLines(env)[0]).toBe('lifeguard history: checkout has no environment "nope": it runs in staging, production');
    const typo = await runCli(['history', 'checkout', '--env', 'prodution', '--db', db], config);
    expect(stderrLines(typo)[0]).toBe('lifeguard history: checkout has no environment "prodution": did you mean production?');
    const service = await runCli(['history', 'chekout', '--db', db], config);
    expect(service.code).toBe(2);
    expect(stderrLines(service)[0]).toBe('lifeguard history: unknown service "chekout": did you mean checkout?');
  });

  it('still reads the history of a service taken out of the config', async () => {
    const db = join(tempDir(), 'lifeguard.db');
    const store = openStore(db);
    const [release] = tenOperations();
    store.transaction(() => sqliteRepositories(store).operations.insert({ ...release!, service: 'legacy-cart' }));
    store.close();
    const result = await runCli(['history', 'legacy-cart', '--env', 'production', '--since', '2026-10-01T00:00:00Z', '--db', db], config);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^1\s+release\s+production\s+1\.0\.0\s+1\.1\.0\s+promoted\s+U09BOB\s+U01ALICE\s+2026-11-01T10:00:00\.000Z\s+40m$/m);
    const json = await runCli(['history', 'legacy-cart', '--since', '2026-10-01T00:00:00Z', '--json', '--db', db], config);
    expect(JSON.parse(json.stdout)).toMatchObject({ service: 'legacy-cart', environment: null, operations: [{ id: 1, state: 'promoted', durationMs: 2_400_000 }] });
  });

});
