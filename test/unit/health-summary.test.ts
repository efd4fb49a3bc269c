import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { healthSummarySchema, metricNow, missingParts, summarySchedules, type EnvironmentHealth, type HealthSummary } from '../../src/domain/health-summary.js';
import { healthSummaryParts, healthSummaryPost } from '../../src/adapters/slack/blocks/health-summary.js';
import type { SlackMessage } from '../../src/adapters/slack/blocks/fit.js';
import { blockProblem } from '../support/slack-standin/limits.js';
import { scheduleHealthSummaries } from '../../src/scheduler.js';

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const example = (): Doc => parse(readFileSync('lifeguard.example.yaml', 'utf8')) as Doc;

function errorsOf(mutate: (doc: Doc) => void): string[] {
  const doc = example();
  mutate(doc);
  try {
    parseConfig(doc);
  } catch (error) {
    if (error instanceof ConfigError) return error.errors;
    throw error;
  }
  return [];
}

function acceptedBySlack(message: SlackMessage): void {
  expect(blockProblem(message.blocks)).toBeUndefined();
  expect(message.text.length).toBeLessThanOrEqual(3000);
}

const AT = '2026-11-23T09:00:00.000Z';
const template = { kind: 'prometheus' as const, query: 'q{{variant}}', window: 60_000, critical: false, weight: 1, perTrafficShare: false, step: 15_000, minSamples: 50, significance: 0.05, tolerance: 0.1 };

function healthy(environment: string, version = '1.5.0'): EnvironmentHealth {
  return {
    environment,
    cluster: { ok: true, version, revision: 7, canaryWeight: 0 },
    store: {
      ok: true,
      active: null,
      verdict: null,
      lastRelease: { operationId: 12, kind: 'release', fromVersion: '1.4.2', toVersion: version, state: 'succeeded', at: '2026-11-20T14:30:00.000Z' },
      lastRollback: { operationId: 9, kind: 'release', fromVersion: '1.4.3', toVersion: '1.4.2', state: 'rolled-back', at: '2026-11-10T08:00:00.000Z' },
    },
    metrics: {
      ok: true,
      rows: [
        { metric: 'error-rate', value: 0.0042, bounds: '≤ 0.03', state: 'within' },
        { metric: 'latency-p99', value: 0.2134, bounds: '', state: 'unbounded' },
        { metric: 'success-rate', value: 0.9958, bounds: '≥ 0.95', state: 'within' },
        { metric: 'throughput', value: 182.4, bounds: '', state: 'unbounded' },
      ],
    },
  };
}

function summary(services: HealthSummary['services'], extra: Partial<HealthSummary> = {}): HealthSummary {
  return healthSummarySchema.parse({ channel: '#checkout-releases', at: AT, part: { index: 1, of: 1 }, services, freezes: { ok: true, list: [] }, ...extra });
}

const textOf = (message: SlackMessage) => JSON.stringify(message.blocks);

describe('health summary schedules', () => {
  it('default: each service channel gets its own services on slack.healthSummaryCron, once a day at 09:00 UTC', () => {
    const doc = example();
    doc.services.payments = { ...doc.services.checkout, channel: '#payments' };
    doc.services.cart = { ...doc.services.checkout };
    expect(summarySchedules(parseConfig(doc))).toEqual([
      { channel: '#checkout-releases', cron: '0 9 * * *', services: ['checkout', 'cart'] },
      { channel: '#payments', cron: '0 9 * * *', services: ['payments'] },
    ]);
    doc.slack.healthSummaryCron = '30 7 * * 1-5';
    expect(summarySchedules(parseConfig(doc)).map((s) => s.cron)).toEqual(['30 7 * * 1-5', '30 7 * * 1-5']);
  });

  it('slack.healthSummaries replaces the default; an entry without services covers them all', () => {
    const doc = example();
    doc.services.payments = { ...doc.services.checkout, channel: '#payments' };
    doc.slack.healthSummaries = [{ channel: '#sre', cron: '0 8 * * *' }, { channel: '#payments', cron: '0 10 * * 1', services: ['payments'] }];
    expect(summarySchedules(parseConfig(doc))).toEqual([
      { channel: '#sre', cron: '0 8 * * *', services: ['checkout', 'payments'] },
      { channel: '#payments', cron: '0 10 * * 1', services: ['payments'] },
    ]);
  });

  it('rejects an unknown service, a bad cron and an empty services list, each by its path', () => {
    expect(errorsOf((d) => (d.slack.healthSummaries = [{ channel: '#sre', cron: '0 8 * * *', services: ['checkuot'] }]))).toEqual([
      'slack.healthSummaries.0.services.0: unknown service "checkuot" (known: checkout)',
    ]);
    expect(errorsOf((d) => (d.slack.healthSummaries = [{ channel: '#sre', cron: 'daily' }]))[0]).toMatch(/^slack\.healthSummaries\.0\.cron: not a cron expression/);
    expect(errorsOf((d) => (d.slack.healthSummaries = [{ channel: '#sre', cron: '0 8 * * *', services: [] }]))[0]).toMatch(/^slack\.healthSummaries\.0\.services: list at least one service/);
  });
});

describe('health summary view model', () => {
  it('classifies a metric now against its absolute bounds only', () => {
    const bounded = { ...template, max: 0.03, min: 0.001 };
    expect(metricNow('e', bounded, { kind: 'value', value: 0.01, warnings: [] })).toEqual({ metric: 'e', value: 0.01, bounds: '≥ 0.001, ≤ 0.03', state: 'within' });
    expect(metricNow('e', bounded, { kind: 'value', value: 0.05, warnings: [] }).state).toBe('high');
    expect(metricNow('e', bounded, { kind: 'value', value: 0, warnings: [] }).state).toBe('low');
    expect(metricNow('l', { ...template, maxRatioToBaseline: 2 }, { kind: 'value', value: 0.2, warnings: [] })).toMatchObject({ state: 'unbounded', bounds: '' });
    expect(metricNow('e', bounded, { kind: 'nodata', warnings: [] })).toMatchObject({ state: 'nodata', value: null });
    expect(metricNow('e', bounded, { kind: 'error', errorType: 'bad_data', message: 'parse error', warnings: [] })).toMatchObject({ state: 'error', detail: 'parse error' });
  });

  it('names each missing part once per reason, with where it is missing', () => {
    const down = { ok: false as const, why: 'Prometheus did not answer: connect ECONNREFUSED 127.0.0.1:9' };
    const s = summary([
      { service: 'checkout', environments: [{ ...healthy('staging'), metrics: down }, { ...healthy('production'), metrics: down, cluster: { ok: false, why: 'the cluster did not answer within 30 s' } }] },
    ]);
    expect(missingParts(s)).toEqual([
      { part: 'metrics', why: down.why, where: ['checkout/staging', 'checkout/production'] },
      { part: 'cluster', why: 'the cluster did not answer within 30 s', where: ['checkout/production'] },
    ]);
  });
});

describe('health summary in Slack', () => {
  it('one service with a live canary, a freeze and an unreadable environment', () => {
    const production: EnvironmentHealth = {
      ...healthy('production', '1.4.2'),
      cluster: { ok: true, version: '1.4.2', revision: 3, canaryWeight: 25 },
      store: {
        ...(healthy('production').store as Extract<EnvironmentHealth['store'], { ok: true }>),
        active: { operationId: 14, kind: 'release', step: 2, steps: 4, weight: 25 },
        verdict: { verdict: 'pass', at: '2026-11-23T08:59:30.000Z', reasons: ['score 100 ≥ 80'] },
      },
      metrics: { ok: true, rows: [{ metric: 'error-rate', value: 0.041, bounds: '≤ 0.03', state: 'high' }, { metric: 'success-rate', value: null, bounds: '≥ 0.95', state: 'nodata' }] },
    };
    const staging: EnvironmentHealth = { ...healthy('staging'), cluster: { ok: false, why: 'connect ECONNREFUSED 127.0.0.1:6443' } };
    const post = healthSummaryPost(
      summary([{ service: 'checkout', environments: [staging, production] }], { freezes: { ok: true, list: [{ environment: 'production', reason: 'weekend <freeze>', until: '2026-11-23T06:00:00.000Z' }] } }),
    );
    acceptedBySlack(post);
    expect(post.text).toBe('Health summary of 1 service; missing: cluster state');
    expect(textOf(post)).toContain('canary live: step 2 of 4, 25 % of traffic');
    expect(textOf(post)).toContain('weekend &lt;freeze&gt;');
    expect(post).toMatchSnapshot();
  });

  it('with Prometheus down it says metrics are unavailable, and why', () => {
    const down = { ok: false as const, why: 'Prometheus did not answer: connect ECONNREFUSED 127.0.0.1:9' };
    const post = healthSummaryPost(summary([{ service: 'checkout', environments: [{ ...healthy('staging'), metrics: down }, { ...healthy('production'), metrics: down }] }]));
    acceptedBySlack(post);
    expect(post.text).toBe('Health summary of 1 service; missing: metrics');
    expect(textOf(post)).toContain('metrics of checkout/staging, checkout/production: Prometheus did not answer: connect ECONNREFUSED 127.0.0.1:9');
    expect(textOf(post).match(/metrics unavailable/g)).toHaveLength(2);
    expect(post).toMatchSnapshot();
  });

  it('50 services in two environments are split into parts, in order, each within Slack limits and none cut', () => {
    const services = Array.from({ length: 50 }, (_, i) => ({ service: `service-${String(i).padStart(2, '0')}`, environments: [healthy('staging'), healthy('production')] }));
    const parts = healthSummaryParts(summary(services, { freezes: { ok: true, list: [{ environment: 'production', reason: 'weekend freeze', until: null }] } }));
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.map((p) => p.part)).toEqual(parts.map((_, i) => ({ index: i + 1, of: parts.length })));
    expect(parts.flatMap((p) => p.services.map((s) => s.service))).toEqual(services.map((s) => s.service));
    const posts = parts.map(healthSummaryPost);
    for (const post of posts) {
      acceptedBySlack(post);
      expect(textOf(post)).not.toContain('not shown');
    }
    expect(posts.filter((p) => textOf(p).includes('Freezes in force'))).toHaveLength(1);
    expect(posts[1]!.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: `Health summary (2 of ${parts.length})` } });
    expect(posts.map((p) => ({ blocks: p.blocks.length, text: p.text }))).toMatchSnapshot();
  });

  it('a summary that fits stays one message', () => {
    const parts = healthSummaryParts(summary([{ service: 'checkout', environments: [healthy('staging'), healthy('production')] }]));
    expect(parts).toHaveLength(1);
    expect(parts[0]!.part).toEqual({ index: 1, of: 1 });
  });
});

describe('scheduleHealthSummaries', () => {
  it('runs each summary on its cron as of the scheduled whole second, and only on the leader', async () => {
    const runs: { channel: string; at: Date }[] = [];
    let leader = false;
    const silent = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} };
    const jobs = scheduleHealthSummaries(
      [{ channel: '#a', cron: '* * * * * *', services: ['checkout'] }],
      async (schedule, at) => void runs.push({ channel: schedule.channel, at }),
      { leadership: { isLeader: () => leader }, logger: silent },
    );
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(runs).toEqual([]);
    leader = true;
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    await jobs.stop();
    expect(runs.length).toBeGreaterThanOrEqual(1);
    for (const run of runs) {
      expect(run.channel).toBe('#a');
      expect(run.at.getTime() % 1000).toBe(0);
    }
  });
});
