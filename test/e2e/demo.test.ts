import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/cli.js';

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

/** The text between the line starting with `from` and the next line starting with `until` (or the end). */
function section(out: string, from: string, until: string): string {
  const lines = out.split('\n');
  const start = lines.findIndex((l) => l.startsWith(from));
  if (start < 0) throw new Error(`no line starting with "${from}" in:\n${out}`);
  const end = lines.findIndex((l, i) => i > start && l.startsWith(until));
  return lines.slice(start, end < 0 ? undefined : end).join('\n');
}

describe('npm run demo -- --once', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'lifeguard-demo-test-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('plays the release, the approval and the rollback request, prints what Lifeguard posted, and exits 0 with nothing left behind', async () => {
    const result = await run('npm', ['run', '--silent', 'demo', '--', '--once'], { ...process.env, PORT: '0' });
    expect(result.err.replace(/^npm warn.*\n/gm, '')).toBe('');
    expect(result.code).toBe(0);
    const out = result.out;

    const release = section(out, '▶ @bob: /release checkout 1.5.0', '▶ ');
    expect(release).toContain('Lifeguard showed @bob only:\n    │ ⏳ Preparing the release card for checkout 1.5.0 in production…');
    expect(release).toMatch(/Lifeguard posted message \d+\.\d+ in #checkout-releases:\n {4}│ ■ Release checkout 1\.5\.0 → production\n/);
    expect(release).toContain('│ Requested by: @bob');
    expect(release).toContain('│ Version: unknown → 1.5.0');
    expect(release).toContain('│ State: ⏳ Waiting for approval');
    expect(release).toContain('│ □ 5%  →  □ 25%  →  □ 50% (pause for Promote)  →  □ 100%');
    expect(release).toContain('│ Still needed: 1 approval from release-manager. The requester cannot approve their own request.');
    expect(release).toContain('│ [ Approve ] [ Reject ]');
    expect(release).toMatch(/│ ✅ Request #1 is posted in #checkout-releases\./);

    const approval = section(out, '▶ @alice: clicks Approve on request #1', '▶ ');
    const posted = /Lifeguard posted message (\d+\.\d+) in #checkout-releases/.exec(release)![1];
    expect(approval).toContain(`Lifeguard updated message ${posted} in #checkout-releases:`);
    expect(approval).toContain('│ State: ✅ Approved');
    expect(approval).toMatch(/│ ✅ Approved by @alice as release-manager \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    expect(approval).toContain('Approval recorded. Lifeguard cannot carry this out yet in this version: nothing was changed in the cluster.');
    expect(approval).not.toContain('[ Approve ]');

    const rollback = section(out, '▶ @oscar: /rollback checkout reason="demo"', 'This version of Lifeguard');
    expect(rollback).toMatch(/Lifeguard posted message \d+\.\d+ in #checkout-releases:\n {4}│ ■ Rollback checkout in production\n/);
    expect(rollback).toContain('│ Reason\n    │ demo');
    expect(rollback).toContain('│ Still needed: 1 approval from release-manager or on-call.');
    expect(out).toContain('it does not execute releases or rollbacks yet');

    const analysis = section(out, '── Canary analysis against Prometheus', '── ');
    expect(analysis).toMatch(/npx lifeguard analyze checkout --env production --at \d+ --weight 25\ncheckout\/production: FAIL as of /);
    expect(analysis).toMatch(/^error-rate \*\s+high\s+0\.04\s+0\.01\s+4\s/m);
    expect(analysis).toMatch(/^success-rate\s+pass\s/m);
    expect(analysis).toContain('(exit 1: 0 pass, 1 fail, 3 inconclusive)');

    const audit = section(out, '── The audit log', 'Demo played through');
    expect(audit).toMatch(/^\s+2 {2}alice\s+approval\.approved\s+checkout\/production$/m);
    const db = /audit log intact: 4 rows verified \((.+)\)/.exec(audit)?.[1];
    expect(db).toBeDefined();
    expect(existsSync(dirname(db!))).toBe(false);
  });

  it('says so and goes on without canary analysis when Prometheus is not installed', async () => {
    // A PATH that has node and nothing else: no prometheus, no promtool.
    const onlyNode = mkdtempSync(join(scratch, 'path-'));
    symlinkSync(process.execPath, join(onlyNode, 'node'));
    const result = await run(process.execPath, ['--import', 'tsx', 'test/support/demo/main.ts', '--once'], { HOME: process.env.HOME, PATH: onlyNode, PORT: '0' });
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    expect(result.out).toContain('prometheus and promtool not found on PATH: going on without Prometheus, so without canary analysis');
    expect(section(result.out, '── Canary analysis against Prometheus', '── ')).toContain('Skipped: prometheus and promtool not installed.');
    expect(result.out).toMatch(/│ ■ Rollback checkout in production/);
  });
});
