import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import { rollUp } from '../../src/domain/rollup.js';
import type { CanaryTarget } from '../../src/flows/canary-analysis.js';
import { intervalToCron } from '../../src/domain/schedule.js';
import { startAnalysisScheduler } from '../../src/scheduler.js';

const silent = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} };

function configWithInterval(interval: string) {
  const raw = parse(readFileSync('lifeguard.example.yaml', 'utf8')) as {
    services: { checkout: { environments: Record<string, { analysis: { interval: string } }> } };
  };
  for (const env of Object.values(raw.services.checkout.environments)) env.analysis.interval = interval;
  return parseConfig(raw);
}

describe('intervalToCron', () => {
  it('aligns intervals that divide a minute, an hour or a day on the clock', () => {
    expect(intervalToCron(30_000)).toBe('*/30 * * * * *');
    expect(intervalToCron(5 * 60_000)).toBe('0 */5 * * * *');
    expect(intervalToCron(6 * 3_600_000)).toBe('0 0 */6 * * *');
    expect(intervalToCron(24 * 3_600_000)).toBe('0 0 0 * * *');
  });

  it('refuses an interval that cannot tick evenly, saying which would', () => {
    expect(() => intervalToCron(45_000)).toThrow('analysis.interval 45s cannot be scheduled on the clock');
    expect(() => intervalToCron(1_500)).toThrow('analysis.interval 1500ms');
  });
});

describe('startAnalysisScheduler', () => {
  it('reports a tick that throws and keeps its job', async () => {
    const errors: string[] = [];
    const scheduler = startAnalysisScheduler({
      config: configWithInterval('30s'),
      logger: silent,
      activeCanaries: async () => {
        throw new Error('store closed');
      },
      judge: async () => [],
      onVerdicts: () => {},
      onError: (error, job) => errors.push(`${job}: ${(error as Error).message}`),
    });
    await scheduler.tick('production every 30s', new Date());
    await scheduler.stop();
    expect(errors).toEqual(['production every 30s: store closed']);
    expect(scheduler.stats().find((s) => s.job === 'production every 30s')).toMatchObject({ ticks: 1, running: false });
  });

  it('skips and counts a tick due while the last still runs, never stacking, judging at each tick time', async () => {
    const judged: { at: Date; targets: CanaryTarget[] }[] = [];
    const delivered: string[] = [];
    const errors: unknown[] = [];
    let running = 0;
    let mostAtOnce = 0;
    const scheduler = startAnalysisScheduler({
      config: configWithInterval('1s'),
      logger: silent,
      activeCanaries: async (environment) => (environment === 'production' ? [{ service: 'checkout', trafficShare: 25 }] : []),
      judge: async (targets, at) => {
        running++;
        mostAtOnce = Math.max(mostAtOnce, running);
        judged.push({ at, targets });
        // The first tick is slow: the next two come due while it runs.
        await new Promise((resolve) => setTimeout(resolve, judged.length === 1 ? 2_300 : 10));
        running--;
        return targets.map((t) => rollUp({ service: t.service, environment: t.environment, evaluatedAt: at, metrics: [], score: t.score, trafficShare: t.trafficShare }));
      },
      onError: (error) => errors.push(error),
      onVerdicts: (verdicts, at) => {
        delivered.push(...verdicts.map((v) => `${v.service}/${v.environment}@${at.toISOString()}`));
      },
    });
    // Until the tick after the slow one has run (node-cron fires on whole seconds, so timing varies by up to 1 s).
    const deadline = Date.now() + 8_000;
    while (judged.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    await scheduler.stop();

    const production = scheduler.stats().find((s) => s.job === 'production every 1s')!;
    expect(errors).toEqual([]);
    expect(production.skipped).toBeGreaterThanOrEqual(1);
    expect(mostAtOnce).toBe(1);
    expect(judged.length).toBe(production.ticks);
    expect(judged.every(({ at }) => at.getMilliseconds() === 0)).toBe(true);
    const seconds = judged.map(({ at }) => at.getTime() / 1000);
    expect(seconds[1]! - seconds[0]!).toBeGreaterThanOrEqual(2);
    expect(judged[0]!.targets).toMatchObject([{ service: 'checkout', environment: 'production', trafficShare: 25 }]);
    expect(delivered[0]).toBe(`checkout/production@${judged[0]!.at.toISOString()}`);
    expect(scheduler.stats().find((s) => s.job === 'staging every 1s')!.skipped).toBe(0);
  });

  it('replays a tick as of a given time', async () => {
    const seen: Date[] = [];
    const errors: unknown[] = [];
    const scheduler = startAnalysisScheduler({
      config: configWithInterval('30s'),
      logger: silent,
      activeCanaries: async () => [{ service: 'checkout', trafficShare: 5 }],
      judge: async (_targets, at) => {
        seen.push(at);
        return [];
      },
      onVerdicts: () => {},
      onError: (error) => errors.push(error),
    });
    const at = new Date('2023-11-14T22:33:20Z');
    await scheduler.tick('production every 30s', at);
    await scheduler.stop();
    expect(seen).toEqual([at]);
    expect(errors).toEqual([]);
    await expect(scheduler.tick('qa every 30s', at)).rejects.toThrow('no analysis job "qa every 30s" (jobs: staging every 30s, production every 30s)');
  });
});
