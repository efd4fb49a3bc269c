import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
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

/** What is left in a TMPDIR besides tsx's compile cache. */
const leftBehind = (tmp: string) => readdirSync(tmp).filter((name) => !name.startsWith('tsx-'));

async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
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
    const tmp = mkdtempSync(join(scratch, 'tmp-'));
    const result = await run('npm', ['run', '--silent', 'demo', '--', '--once'], { ...process.env, PORT: '0', TMPDIR: tmp });
    expect(result.err.replace(/^npm warn.*\n/gm, '')).toBe('');
    expect(result.code).toBe(0);
    const out = result.out;

    const status = section(out, '▶ @bob: /release status checkout', '▶ ');
    expect(status).toContain('│ checkout/staging: 1.4.2 (revision 3)\n    │ checkout/production: 1.4.2 (revision 3)');

    const release = section(out, '▶ @bob: /release checkout 1.5.0', '▶ ');
    expect(release).toContain('Lifeguard showed @bob only:\n    │ ⏳ Preparing the release card for checkout 1.5.0 in production…');
    expect(release).toMatch(/Lifeguard posted message \d+\.\d+ in #checkout-releases:\n {4}│ ■ Release checkout 1\.5\.0 → production\n/);
    expect(release).toContain('│ Requested by: @bob');
    expect(release).toContain('│ Version: 1.4.2 → 1.5.0');
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
    expect(rollback).toContain('│ Now: revision 3: registry.example.com/shop/checkout:1.4.2\n    │ After: revision 2: registry.example.com/shop/checkout:1.4.1');
    expect(rollback).toContain('│ Traffic: no canary running; stable keeps 100%');
    expect(rollback).toContain('│ Reason\n    │ demo');
    expect(rollback).toContain('│ Still needed: 1 approval from release-manager or on-call.');
    expect(out).toContain('it does not execute releases or rollbacks yet');

    const analysis = section(out, '── Canary analysis against Prometheus', '── ');
    expect(analysis).toMatch(/npx lifeguard analyze checkout --env production --at \d+ --weight 25\ncheckout\/production: FAIL as of /);
    expect(analysis).toMatch(/^error-rate \*\s+high\s+0\.04\s+0\.01\s+4\s/m);
    expect(analysis).toMatch(/^success-rate\s+pass\s/m);
    expect(analysis).toContain('(exit 1: 0 pass, 1 fail, 3 inconclusive)');

    const audit = section(out, '── The audit log', 'Demo played through');
    expect(audit).toMatch(/^\s+3 {2}alice\s+approval\.approved\s+checkout\/production$/m);
    const db = /audit log intact: 6 rows verified \((.+)\)/.exec(audit)?.[1];
    expect(db).toBeDefined();
    expect(existsSync(dirname(db!))).toBe(false);
    expect(leftBehind(tmp)).toEqual([]);
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

  it('keeps running for the user: demo:slash sends their command and click, Ctrl-C stops everything and removes its files', async () => {
    const tmp = mkdtempSync(join(scratch, 'tmp-'));
    const env = { ...process.env, PORT: '0', TMPDIR: tmp };
    const demo = spawn(process.execPath, ['--import', 'tsx', 'test/support/demo/main.ts'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    demo.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => demo.on('close', resolve));
    try {
      await until(() => out.includes('What Lifeguard posts to Slack from now on'));
      expect(out).toContain('npm run demo:slash -- "/release status checkout"');
      expect(out).toMatch(/kubectl --kubeconfig \S+\/kubeconfig -n shop rollout history deploy\/checkout/);

      const status = await run('npm', ['run', '--silent', 'demo:slash', '--', '/release status checkout'], env);
      expect(status.code).toBe(0);
      expect(status.out).toContain('@bob in #checkout-releases: /release status checkout');
      expect(status.out).toContain('Lifeguard showed @bob only (replacing its previous note):\n  │ checkout/staging: 1.4.2 (revision 3)\n  │ checkout/production: 1.4.2 (revision 3)');

      const click = await run('npm', ['run', '--silent', 'demo:slash', '--', '--user', 'frank', '--approve', '2'], env);
      expect(click.code).toBe(0);
      expect(click.out).toContain('@frank clicks Approve on request #2');
      await until(() => /Lifeguard updated message \S+ in #checkout-releases:\n(.*\n)*? {2}│ ✅ Approved by @frank as release-manager/.test(out));
    } finally {
      demo.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(out).toContain('Ctrl-C: stopping…\nStopped: Lifeguard, the stand-ins and Prometheus are down, temporary files removed.');
    expect(leftBehind(tmp)).toEqual([]);
  });
});
