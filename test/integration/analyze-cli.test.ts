import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../src/cli/dispatch.js';
import { COMMANDS } from '../../src/cli/commands.js';
import { createAnalyzeCommand } from '../../src/cli/analyze.js';
import { verdictSchema } from '../../src/domain/verdict.js';
import { httpHistory, steady } from '../support/http-history.js';
import { startPrometheus, type RunningPrometheus } from '../support/prometheus.js';
import { startFixture } from './kubernetes/fixture.js';

const run = promisify(execFile);

// checkout: healthy for 40 minutes, until its canary's error ratio doubles 11 minutes before END.
const END = 1_700_003_600;
const HEALTHY_AT = END - 15 * 60;

let prometheus: RunningPrometheus;
let scratch: string;

beforeAll(async () => {
  prometheus = await startPrometheus(
    httpHistory(
      [{ app: 'checkout', canary: { ...steady(25, 0.01), errorRatio: (ago) => (ago < 11 * 60 ? 0.02 : 0.01) }, baseline: steady(75, 0.01) }],
      { end: END, duration: 40 * 60 },
    ),
  );
  scratch = mkdtempSync(join(tmpdir(), 'lifeguard-analyze-'));
});
afterAll(async () => {
  await prometheus?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

async function lifeguard(argv: string[], command = COMMANDS) {
  const out: string[] = [];
  const err: string[] = [];
  const env = { PROMETHEUS_URL: prometheus.url, LIFEGUARD_CONFIG: 'lifeguard.example.yaml' };
  const code = await dispatch(command, argv, { out: (t) => out.push(t), err: (t) => err.push(t), env });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('lifeguard analyze against a real Prometheus', () => {
  it('prints the verdict with its evidence as JSON and exits 1 on a failing canary (the real binary)', async () => {
    const result = await run('node_modules/.bin/tsx', ['src/cli.ts', 'analyze', 'checkout', '--env', 'production', '--at', String(END), '--weight', '25', '--json'], {
      env: { ...process.env, PROMETHEUS_URL: prometheus.url, LIFEGUARD_CONFIG: 'lifeguard.example.yaml' },
    }).then(
      (r) => ({ code: 0, stdout: r.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
    );
    expect(result.code).toBe(1);
    const verdict = verdictSchema.parse(JSON.parse(result.stdout));
    expect(verdict).toMatchObject({ service: 'checkout', environment: 'production', verdict: 'fail', evaluatedAt: new Date(END * 1000).toISOString(), trafficShare: 25 });
    const errors = verdict.metrics.find((m) => m.metric === 'error-rate')!;
    expect(errors).toMatchObject({ classification: 'high', comparison: { test: 'two-proportions', outcome: 'significant' } });
    expect(errors.canary).toBeCloseTo(0.02, 3);
    expect(errors.baseline).toBeCloseTo(0.01, 3);
    expect(errors.queries.map((q) => q.query).join('\n')).toContain('app="checkout",version="canary"');
    expect(errors.rules.find((r) => r.rule === 'maxRatioToBaseline')).toMatchObject({ outcome: 'breach', threshold: 1.5, forMs: 300_000 });
  });

  it('reads the traffic share from the cluster when --weight is omitted (the real binary, the Kubernetes stand-in)', async () => {
    const kube = await startFixture();
    try {
      await kube.cluster.workloads.scaleCanary(kube.production, 1);
      await kube.cluster.traffic.set(kube.production, 25);
      const result = await run('node_modules/.bin/tsx', ['src/cli.ts', 'analyze', 'checkout', '--env', 'production', '--at', String(HEALTHY_AT), '--json'], {
        env: { ...process.env, PROMETHEUS_URL: prometheus.url, LIFEGUARD_CONFIG: 'lifeguard.example.yaml', KUBECONFIG: kube.kubeconfig },
      });
      const verdict = verdictSchema.parse(JSON.parse(result.stdout));
      expect(verdict).toMatchObject({ verdict: 'pass', trafficShare: 25 });
      expect(verdict.metrics.find((m) => m.metric === 'throughput')).toMatchObject({ classification: 'pass' });
    } finally {
      await kube.standin.stop();
    }
  });

  it('exits 0 and prints a readable table for a healthy canary, as of an RFC 3339 time', async () => {
    const result = await lifeguard(['analyze', 'checkout', '--env', 'production', '--at', new Date(HEALTHY_AT * 1000).toISOString(), '--weight', '25']);
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    const lines = result.out.split('\n');
    expect(lines[0]).toBe(`checkout/production: PASS as of ${new Date(HEALTHY_AT * 1000).toISOString()} (traffic share 25%, score 100 (pass ≥ 80, marginal ≥ 60))`);
    expect(lines[2]).toMatch(/^metric\s+result\s+canary\s+baseline\s+ratio\s+thresholds\s+breaching$/);
    expect(lines.find((l) => l.startsWith('error-rate *'))).toMatch(/^error-rate \*\s+pass\s+0\.01\s+0\.01\s+1\s+≤ 0\.03, ≤ 1\.5× base for 5m\s+-$/);
    expect(lines.find((l) => l.startsWith('throughput *'))).toMatch(/pass\s+100\s+100\s+1\s+≥ 0\.5× base for 10m/);
  });

  it('exits 3, inconclusive, when the traffic share is neither given nor readable', async () => {
    const result = await lifeguard(['analyze', 'checkout', '--env', 'production', '--at', String(HEALTHY_AT), '--json']);
    expect(result.code).toBe(3);
    const verdict = verdictSchema.parse(JSON.parse(result.out));
    expect(verdict.verdict).toBe('inconclusive');
    expect(verdict.metrics.find((m) => m.metric === 'throughput')).toMatchObject({ classification: 'nodata' });
  });

  it('takes the traffic share from the injected source when --weight is omitted', async () => {
    const asked: string[] = [];
    const analyze = createAnalyzeCommand({
      trafficShare: async (service, env) => {
        asked.push(`${service}/${env}`);
        return 25;
      },
    });
    const result = await lifeguard(['analyze', 'checkout', '--env', 'production', '--at', String(HEALTHY_AT)], [analyze]);
    expect(asked).toEqual(['checkout/production']);
    expect(result.code).toBe(0);
  });

  it('warns and judges without the share when the injected source fails', async () => {
    const analyze = createAnalyzeCommand({
      trafficShare: async () => {
        throw new Error('connect ECONNREFUSED 127.0.0.1:6443');
      },
    });
    const result = await lifeguard(['analyze', 'checkout', '--env', 'production', '--at', String(HEALTHY_AT)], [analyze]);
    expect(result.code).toBe(3);
    expect(result.err).toBe(
      'lifeguard analyze: could not read the traffic share of checkout/production (connect ECONNREFUSED 127.0.0.1:6443); metrics judged per share will have no data',
    );
  });

  it('exits 3, never 1, when the analysis itself breaks', async () => {
    const broken = new Error('metrics backend misconfigured');
    const analyze = createAnalyzeCommand({ metrics: () => ({ instant: () => Promise.reject(broken), range: () => Promise.reject(broken) }) });
    const result = await lifeguard(['analyze', 'checkout', '--env', 'production', '--at', String(HEALTHY_AT), '--weight', '25'], [analyze]);
    expect(result).toMatchObject({ code: 3, out: '', err: 'lifeguard analyze: the analysis of checkout/production could not run: metrics backend misconfigured' });
  });

  it('exits 2 with a clear message on usage and config errors', async () => {
    const missingEnv = await lifeguard(['analyze', 'checkout']);
    expect(missingEnv).toMatchObject({ code: 2, err: expect.stringContaining('--env is required') });
    const badTime = await lifeguard(['analyze', 'checkout', '--env', 'production', '--at', 'yesterday']);
    expect(badTime).toMatchObject({ code: 2, err: expect.stringContaining('--at: "yesterday" is not a time (use RFC 3339') });
    const badWeight = await lifeguard(['analyze', 'checkout', '--env', 'production', '--weight', '140']);
    expect(badWeight).toMatchObject({ code: 2, err: expect.stringContaining('--weight: "140" is not a percentage') });
    const unknown = await lifeguard(['analyze', 'payments', '--env', 'production']);
    expect(unknown).toMatchObject({ code: 2, err: expect.stringContaining('unknown service "payments" (known: checkout)') });
    const noEnv = await lifeguard(['analyze', 'checkout', '--env', 'qa']);
    expect(noEnv).toMatchObject({ code: 2, err: expect.stringContaining('service "checkout" has no environment "qa"') });
    const broken = join(scratch, 'broken.yaml');
    writeFileSync(broken, 'metrics: {}\n');
    const badConfig = await lifeguard(['analyze', 'checkout', '--env', 'production', '--config', broken]);
    expect(badConfig.code).toBe(2);
    expect(badConfig.err).toContain('slack: required');
  });
});
