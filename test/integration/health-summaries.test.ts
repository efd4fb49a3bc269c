import { join } from 'node:path';
import { webApi } from '@slack/bolt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { openStore, type SqliteStore } from '../../src/adapters/sqlite/store.js';
import { sqliteRepositories } from '../../src/adapters/sqlite/repositories.js';
import { PrometheusClient } from '../../src/adapters/prometheus/client.js';
import { slackDelivery } from '../../src/adapters/slack/delivery.js';
import { outboxClientOptions } from '../../src/adapters/slack/web-client.js';
import { healthSummaryParts } from '../../src/adapters/slack/blocks/health-summary.js';
import { startOutboxSender, type OutboxSender } from '../../src/flows/outbox-sender.js';
import { HealthSummaryFlow } from '../../src/flows/health-summaries.js';
import { newOperation } from '../../src/domain/operation.js';
import { RequestFlow, type RequestFlowDeps } from '../../src/flows/requests.js';
import { ReleaseRules } from '../../src/flows/release-rules.js';
import type { Store } from '../../src/ports.js';
import { httpHistory, steady } from '../support/http-history.js';
import { startPrometheus, type RunningPrometheus } from '../support/prometheus.js';
import { SlackStandin, type RecordedCall } from '../support/slack-standin/web-api.js';
import { useTempDirs } from '../support/tmp.js';
import { until } from '../support/until.js';
import { startFixture, type Fixture } from './kubernetes/fixture.js';

// The checkout service's stable pods (version="baseline") served 100 requests a second with 0.5 % errors for the
// 30 minutes before AT; every summary here is run as of a time in that history.
const AT = 1_700_004_000;
const at = (minutesLater = 0) => new Date((AT + minutesLater * 60) * 1000);
const CHANNELS = [
  { id: 'C0CHECKOUT', name: 'checkout-releases', botIsMember: true },
  { id: 'C0SRE', name: 'sre', botIsMember: true },
];

describe('health summaries against the Kubernetes stand-in, a real Prometheus and the Slack stand-in', () => {
  const tempDir = useTempDirs();
  let kube: Fixture;
  let prometheus: RunningPrometheus;
  let slack: SlackStandin;
  let sqlite: SqliteStore;
  let store: Store;
  let sender: OutboxSender;
  let flow: HealthSummaryFlow;
  let config: Config;

  beforeAll(async () => {
    [kube, prometheus, slack] = await Promise.all([
      startFixture(),
      startPrometheus(httpHistory([{ app: 'checkout', baseline: steady(100, 0.005) }], { end: AT, duration: 30 * 60 })),
      SlackStandin.start({ channels: CHANNELS.map((c) => ({ ...c })) }),
    ]);
    const doc = parse(readFileSync('lifeguard.example.yaml', 'utf8')) as { slack: Record<string, unknown> };
    doc.slack.healthSummaries = [
      { channel: '#checkout-releases', cron: '0 9 * * *' },
      { channel: '#sre', cron: '0 9 * * *', services: ['checkout'] },
    ];
    config = parseConfig({ ...doc, prometheus: { url: prometheus.url, timeout: '2s' } });
    sqlite = openStore(join(tempDir(), 'lifeguard.db'));
    store = sqliteRepositories(sqlite);
    const log = pino({ level: 'silent' });
    const client = new webApi.WebClient(slack.botToken, { ...outboxClientOptions(slack.apiUrl), logLevel: webApi.LogLevel.ERROR });
    sender = startOutboxSender({ store, chat: slackDelivery(client), cardView: () => undefined, log, tuning: { backoffMs: 100, maxBackoffMs: 1_000, minIntervalMs: 20, pollMs: 200 } });
    // status() reads only the config and the cluster: the rest of a request's machinery plays no part in it.
    const requests = new RequestFlow({ config, workloads: kube.cluster.workloads, readTimeoutMs: 5_000 } as unknown as RequestFlowDeps);
    flow = new HealthSummaryFlow({
      config,
      status: (service) => requests.status(service),
      metrics: new PrometheusClient({ url: prometheus.url, timeoutMs: 2_000, retries: 0, backoffMs: 10 }),
      store,
      rules: new ReleaseRules({ config, store, roles: { rolesOf: async () => [] }, clock: { now: () => new Date() } }),
      paginate: healthSummaryParts,
      kick: () => sender.kick(),
      log,
      readTimeoutMs: 5_000,
    });
  }, 60_000);
  afterAll(async () => {
    await sender?.stop();
    sqlite?.close();
    await Promise.all([slack?.close(), prometheus?.stop(), kube?.standin.stop()]);
  });

  const keyOf = (call: RecordedCall) => (call.args.metadata as { event_payload?: { key?: string } } | undefined)?.event_payload?.key ?? '';
  /** The summary posts of the run as of `when`, by channel id. */
  const postsOf = (when: Date) => slack.okCalls('chat.postMessage').filter((c) => keyOf(c).includes(`:${when.toISOString()}:`));
  const delivered = () => until(() => (store.outbox.backlog(new Date()).depth === 0 || undefined));
  const shown = (call: RecordedCall) => JSON.stringify(call.args.blocks);

  it('posts one message per channel with each environment’s version and metrics; a second run of the same time posts nothing', async () => {
    expect(await flow.runNow(at())).toBe(2);
    await delivered();
    const posts = postsOf(at());
    expect(posts.map((p) => p.response.channel).sort()).toEqual(['C0CHECKOUT', 'C0SRE']);
    for (const post of posts) {
      expect(post.args.text).toBe('Health summary of 1 service');
      expect(shown(post)).toContain('• *staging*: `1.4.2` (revision 3) · no canary');
      expect(shown(post)).toContain('• *production*: `1.4.2` (revision 3) · no canary');
      expect(shown(post)).toContain('error-rate 0.005 (≤ 0.03) :white_check_mark:');
      expect(shown(post)).toContain('success-rate 0.995 (≥ 0.95) :white_check_mark:');
      expect(shown(post)).toContain('throughput 100');
      expect(shown(post)).toContain('last release: none recorded · last rollback: none recorded');
    }

    expect(await flow.runNow(at())).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(postsOf(at())).toHaveLength(2);
  });

  it('with Slack answering 429 the summary waits and arrives once', async () => {
    const when = at(1);
    slack.failFor('chat.postMessage', { status: 429, retryAfter: 1 }, 1_500);
    expect(await flow.runNow(when)).toBe(2);
    await delivered();
    expect(slack.callsTo('chat.postMessage').filter((c) => keyOf(c).includes(when.toISOString()) && c.response.ok !== true).length).toBeGreaterThan(0);
    expect(postsOf(when).map((p) => p.response.channel).sort()).toEqual(['C0CHECKOUT', 'C0SRE']);
  });

  it('with Prometheus stopped it still posts, saying the metrics are unavailable and why', async () => {
    await prometheus.stop();
    const when = at(2);
    expect(await flow.runNow(when)).toBe(2);
    await delivered();
    const posts = postsOf(when);
    expect(posts).toHaveLength(2);
    for (const post of posts) {
      expect(post.args.text).toBe('Health summary of 1 service; missing: metrics');
      expect(shown(post)).toContain('• metrics of checkout/staging, checkout/production: Prometheus did not answer');
      expect(shown(post).match(/_metrics unavailable: Prometheus was not read_/g)).toHaveLength(2);
      expect(shown(post)).toContain('• *production*: `1.4.2` (revision 3) · no canary');
    }
  });

  it('shows a live canary with its step and latest verdict, and the last release and rollback with their age', async () => {
    const start = (version: string) => ({
      id: 0, requestId: null, kind: 'release' as const, strategy: 'canary' as const, service: 'checkout', environment: 'production',
      from: { version: '1.4.2', image: 'shop/checkout:1.4.2', revision: 3 }, to: { version, image: `shop/checkout:${version}` },
      steps: [5, 25, 50, 100], pauseForApprovalAt: [], requestedBy: 'U09BOB', approvedBy: [], card: null,
    });
    const decidedAt = at(-2 * 24 * 60).toISOString();
    const bad = store.operations.insert(newOperation(start('1.5.0-bad'), at(-2 * 24 * 60 - 20)));
    store.operations.update({
      ...bad,
      state: 'rolled-back',
      finishedAt: decidedAt,
      rollback: { trigger: 'verdict', by: 'lifeguard', why: 'error-rate 8 %', afterPromotion: false, stepReached: 1, weightReached: 5, failing: [], breachStartedAt: null, decidedAt, drainedAt: null, restoredAt: null, verifiedAt: null },
    });
    const running = store.operations.insert(newOperation(start('1.5.0'), at(-30)));
    store.operations.update({ ...running, step: 1, weight: 25, analysis: { passes: 2, inconclusiveRun: 0, last: { verdict: 'pass', at: at(-1).toISOString(), reasons: ['score 100 ≥ 80'] } } });
    await kube.cluster.workloads.scaleCanary(kube.production, 1);
    await kube.cluster.traffic.set(kube.production, 25);

    const when = at(4);
    expect(await flow.runNow(when)).toBe(2);
    await delivered();
    const [post] = postsOf(when);
    expect(shown(post!)).toContain('• *production*: `1.4.2` (revision 3) · canary live: step 2 of 4, 25 % of traffic');
    expect(shown(post!)).toContain('latest analysis: *pass*, 5 min ago: score 100 ≥ 80');
    expect(shown(post!)).toContain('last release: `1.4.2` → `1.5.0` running, 34 min ago · last rollback: `1.5.0-bad` → `1.4.2` rolled-back, 2 d ago');
    expect(shown(post!)).toContain('• *staging*: `1.4.2` (revision 3) · no canary');
  });

  it('with the cluster stopped as well it still posts, naming the cluster state as missing', async () => {
    await kube.standin.stop();
    const when = at(3);
    expect(await flow.runNow(when)).toBe(2);
    await delivered();
    const posts = postsOf(when);
    expect(posts).toHaveLength(2);
    for (const post of posts) {
      expect(post.args.text).toBe('Health summary of 1 service; missing: cluster state, metrics');
      expect(shown(post)).toContain('• *production*: _version unknown: the cluster was not read_');
    }
  });
});
