import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/cli.js';

/*
 * `npm run demo` as its user sees it: what it prints, how it ends, and what it leaves behind. The releases run for
 * real (seconds per step), so every wait is a deadline on the output, generous for a loaded machine.
 */

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

/** What `npm run demo:slash` runs, without npm (the PATH of a test may hold node alone). */
const slash = (args: string[], env: NodeJS.ProcessEnv) => run(process.execPath, ['--import', 'tsx', 'test/support/demo/slash.ts', ...args], env);

/** What is left in a TMPDIR besides tsx's compile cache. */
const leftBehind = (tmp: string) => readdirSync(tmp).filter((name) => !name.startsWith('tsx-'));

/** Processes whose command line names `dir`: Prometheus keeps its storage under the demo's TMPDIR. */
function processesUsing(dir: string): string[] {
  const ps = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return ps.split('\n').filter((line) => line.includes(dir));
}

async function until(condition: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The text from the first line starting with `from` to the next line starting with one of `ends` (or the end). */
function section(out: string, from: string, ...ends: string[]): string {
  const lines = out.split('\n');
  const start = lines.findIndex((l) => l.startsWith(from));
  if (start < 0) throw new Error(`no line starting with "${from}" in:\n${out}`);
  const end = lines.findIndex((l, i) => i > start && ends.some((e) => l.startsWith(e)));
  return lines.slice(start, end < 0 ? undefined : end).join('\n');
}

/** The values on a row of a printed metric table: `│   error-rate    0.1     0.005  …`. */
function tableRow(text: string, metric: string): string[] {
  const row = text.split('\n').find((l) => new RegExp(`│\\s+${metric}\\s`).test(l));
  if (!row) throw new Error(`no ${metric} row in:\n${text}`);
  return row.replace(/^.*│\s+/, '').split(/\s{2,}/);
}

describe('npm run demo', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'lifeguard-demo-test-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it(
    '-- --once: a release promoted with a Promote click, a bad one rolled back by Lifeguard itself, the audit log intact, exit 0 with nothing left behind',
    async () => {
      const tmp = mkdtempSync(join(scratch, 'tmp-'));
      const result = await run('npm', ['run', '--silent', 'demo', '--', '--once'], { ...process.env, PORT: '0', TMPDIR: tmp });
      expect(result.err.replace(/^npm warn.*\n/gm, '')).toBe('');
      expect(result.code).toBe(0);
      const out = result.out;
      expect(out).toContain('Prometheus on http://127.0.0.1:');
      expect(section(out, '▶ @bob: /release status checkout', '▶ ')).toContain('│ checkout/production: 1.4.2 (revision 3)');

      // The good release: asked, approved, stepped through with its verdicts, promoted by alice at 50 %.
      const good = section(out, '▶ @bob: /release checkout 1.5.0', '▶ @bob: /release checkout 1.6.0-bad');
      expect(good).toMatch(/Lifeguard posted message \d+\.\d+ in #checkout-releases:\n {4}│ ■ Release checkout 1\.5\.0 → production\n/);
      expect(good).toContain('│ Version: 1.4.2 → 1.5.0');
      expect(good).toContain('│ [ Approve ] [ Reject ]');
      expect(good).toContain('▶ @alice: clicks Approve on request #1');
      // Redraws queued while an earlier one is in flight are merged, so the first after the click may be any step's.
      expect(good).toMatch(/│ State: ▶ Running at \d+%\n(.*\n)*? {4}│ ✅ Approved by @alice as release-manager/);
      for (const note of ['Step 1 of 4: 5 % of traffic on the canary', 'Step 2 of 4: 25 %', 'Step 3 of 4: 50 %', '✅ Analysis passed at 5 %', 'At 50 %: waiting for Promote']) {
        expect(good).toContain(note);
      }
      expect(good).toContain('▶ @alice: clicks Promote on the card (operation #1)');
      expect(good.indexOf('At 50 %: waiting for Promote')).toBeLessThan(good.indexOf('clicks Promote'));
      expect(good).toContain('│ ✅ Promoted by @alice at 50 %');
      expect(good).toContain('│ ✅ Promoted: the stable runs 1.5.0, all traffic on it, canary scaled to 0');
      const card = section(good, 'The release card as it stands now:', '▶ ');
      expect(card).toContain('│ State: ✅ Promoted');
      expect(card).toContain('│ ✅ 5%  →  ✅ 25%  →  ✅ 50% (pause for Promote)  →  ✅ 100%');
      expect(card).not.toMatch(/\[ (Promote|Pause|Abort) \]/);
      expect(section(good, '▶ @bob: /release status checkout', '▶ ')).toMatch(/│ checkout\/production: 1\.5\.0 \(revision 4\)$/m);

      // The bad release: nobody clicks after the approval; Lifeguard rolls it back and tells #incidents why.
      const bad = section(out, '▶ @bob: /release checkout 1.6.0-bad', '▶ @oscar');
      expect(bad).toContain('▶ @alice: clicks Approve on request #2');
      expect(bad).not.toContain('clicks Promote');
      expect(bad).toMatch(/│ ❌ Rolling back automatically: /);
      const incident = section(bad, 'The incident post in #incidents as it stands now:', '▶ ');
      expect(incident).toContain('│ ■ 🚨 Automated rollback: checkout in production');
      expect(incident).toContain('│ Version: 1.5.0 → 1.6.0-bad');
      expect(incident).toContain('│ Outcome: ✅ Rolled back');
      const [, canary, baseline, threshold] = tableRow(incident, 'error-rate');
      // The bounds it broke: the absolute 3 %, or 1.5× the baseline, or both.
      expect(threshold).toMatch(/≤ 0\.03|≤ 1\.5× baseline/);
      expect(Number(canary)).toBeGreaterThan(1.5 * Number(baseline));
      expect(Number(baseline)).toBeLessThan(0.03);
      for (const step of ['Breach started', 'Rollback decided', 'Traffic drained', 'Rolled back', 'Verified healthy']) {
        expect(incident).toMatch(new RegExp(`│ ✅ ${step} \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC`));
      }
      expect(bad).toContain('│ State: ↩️  Rolled back');

      // The rollback request is planned from the cluster as it is now, approved, and carried out as the card said.
      const rollback = section(out, '▶ @oscar: /rollback checkout', '── ');
      expect(rollback).toContain('│ Now: revision 4: registry.example.com/shop/checkout:1.5.0\n    │ After: revision 3: registry.example.com/shop/checkout:1.4.2');
      expect(rollback).toMatch(/│ .*Rolled back and verified/);
      expect(rollback).toContain('Manual rollback: checkout in production');
      // `kubectl rollout undo` semantics: revision 3's template comes back as the newest revision, 5.
      expect(section(rollback, '▶ @bob: /release status checkout', '▶ ')).toMatch(/│ checkout\/production: 1\.4\.2 \(revision 5\)$/m);

      const audit = section(out, '── The audit log', 'Demo played through');
      expect(audit).toMatch(/^\s+\d+ {2}alice\s+operation\.promoted_step\s+checkout\/production$/m);
      expect(audit).toMatch(/^\s+\d+ {2}lifeguard\s+rollback\.automated\s+checkout\/production$/m);
      const db = /audit log intact: \d+ rows verified \((.+)\)/.exec(audit)?.[1];
      expect(db).toBeDefined();
      expect(out).toContain('Demo played through; everything is stopped and its files removed.');

      expect(existsSync(dirname(db!))).toBe(false);
      expect(leftBehind(tmp)).toEqual([]);
      expect(processesUsing(tmp)).toEqual([]);
    },
    420_000,
  );

  it('without prometheus: says so, shows the release pausing for want of analysis, keeps running for demo:slash, and Ctrl-C removes everything', async () => {
    const tmp = mkdtempSync(join(scratch, 'tmp-'));
    // A PATH that has node and nothing else: no prometheus.
    const onlyNode = mkdtempSync(join(scratch, 'path-'));
    symlinkSync(process.execPath, join(onlyNode, 'node'));
    const env = { HOME: process.env.HOME, PATH: onlyNode, PORT: '0', TMPDIR: tmp };
    const demo = spawn(process.execPath, ['--import', 'tsx', 'test/support/demo/main.ts', '--script'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    demo.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    demo.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => demo.on('close', resolve));
    try {
      await until(() => out.includes('What Lifeguard posts to Slack from now on'), 'the scenario did not play through', 240_000);
      expect(out).toContain('prometheus not found on PATH: going on without it, so Lifeguard cannot judge a canary');
      expect(out).toContain('│ ⚠️  Paused: the canary could not be judged 3 times in a row');
      expect(out).toContain('│ State: ⏸ Paused at 5%');
      expect(out).not.toContain('Promoted');
      expect(out).toContain('│ checkout/production: 1.4.2 (revision 3), canary at 5%');
      expect(out).toMatch(/kubectl --kubeconfig \S+\/kubeconfig -n shop rollout history deploy\/checkout/);
      expect(out).toContain('npm run demo:slash -- --user alice "/release abort 1"');

      const abort = await slash(['--user', 'alice', '/release abort 1'], env);
      expect(abort.code).toBe(0);
      expect(abort.out).toContain('@alice in #checkout-releases: /release abort 1');
      await until(() => out.includes('│ ❌ Aborted by @alice: rolling back'), 'the abort did not reach the thread', 60_000);
      await until(() => out.includes('│ State: 🛑 Aborted'), 'the card never showed the release aborted', 120_000);

      const request = await slash(['--user', 'oscar', '/rollback checkout to=1 reason="try an older one"'], env);
      expect(request.code).toBe(0);
      expect(request.out).toContain('Request #2 is posted in #checkout-releases.');
      const click = await slash(['--user', 'frank', '--approve', '2'], env);
      expect(click.code).toBe(0);
      expect(click.out).toContain('@frank clicks Approve on request #2');
      await until(() => /│ ✅ Approved by @frank as release-manager/.test(out), 'the card never showed frank\'s approval', 60_000);
      // Carried out: without Prometheus the stable is verified by its pods' readiness.
      await until(() => out.includes('Rolled back and verified: metrics inconclusive'), 'the approved rollback did not run', 120_000);
    } finally {
      demo.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(err).toBe('');
    expect(out).toContain('Ctrl-C: stopping…\nStopped: Lifeguard and the stand-ins are down, temporary files removed.');
    expect(leftBehind(tmp)).toEqual([]);
    expect(processesUsing(tmp)).toEqual([]);
  }, 420_000);
});
