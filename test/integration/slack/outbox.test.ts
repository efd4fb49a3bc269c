import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { webApi } from '@slack/bolt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.js';
import { createTelemetry, type Telemetry } from '../../../src/metrics.js';
import { openStore, type SqliteStore } from '../../../src/adapters/sqlite/store.js';
import { sqliteRepositories } from '../../../src/adapters/sqlite/repositories.js';
import { slackDelivery } from '../../../src/adapters/slack/delivery.js';
import { outboxClientOptions } from '../../../src/adapters/slack/web-client.js';
import { startOutboxSender, type OutboxSender, type OutboxTuning } from '../../../src/flows/outbox-sender.js';
import type { Note, OperationView, OutboxEntry } from '../../../src/domain/chat-messages.js';
import type { Plan } from '../../../src/domain/plans.js';
import type { CardDelivery, Leadership, Store } from '../../../src/ports.js';
import { SlackStandin } from '../../support/slack-standin/web-api.js';
import { useTempDirs } from '../../support/tmp.js';
import { until } from '../../support/until.js';

const CHANNELS = [
  { id: 'C0CHECKOUT', name: 'checkout-releases', botIsMember: true },
  { id: 'C0INCIDENT', name: 'incidents', botIsMember: true },
  { id: 'C0LOCKED', name: 'locked', botIsMember: false },
];
/** Quick enough for a test, shaped as in production. */
const FAST: OutboxTuning = { backoffMs: 100, maxBackoffMs: 1_000, minIntervalMs: 20, pollMs: 200 };

const note = (headline: string, lines: string[] = []): Note => ({ headline, lines, tone: 'info' });
const noteEntry = (key: string, channel = 'C0CHECKOUT', extra: Partial<OutboxEntry> = {}): OutboxEntry => ({ key, channel, message: { kind: 'note', note: note(key) }, ...extra });

describe('the outbox sender delivering to Slack (the stand-in, through the real WebClient)', () => {
  const tempDir = useTempDirs();
  let standin: SlackStandin;
  let sqlite: SqliteStore;
  let store: Store;
  let logLines: string[];
  let telemetry: Telemetry;
  let sender: OutboxSender | undefined;
  let client: webApi.WebClient;
  const operations = new Map<number, { requestId: number; view: OperationView }>();

  beforeEach(async () => {
    standin = await SlackStandin.start({ channels: CHANNELS.map((c) => ({ ...c })) });
    sqlite = openStore(join(tempDir(), 'lifeguard.db'));
    store = sqliteRepositories(sqlite);
    logLines = [];
    telemetry = createTelemetry({ processMetrics: false });
    client = new webApi.WebClient(standin.botToken, { ...outboxClientOptions(standin.apiUrl), logLevel: webApi.LogLevel.ERROR });
    operations.clear();
  });
  afterEach(async () => {
    await sender?.stop();
    sender = undefined;
    sqlite.close();
    await standin.close();
  });

  function start(options: { tuning?: OutboxTuning; leadership?: Leadership } = {}): OutboxSender {
    const log = createLogger({
      level: 'info',
      destination: new Writable({
        write(chunk, _e, done) {
          logLines.push(String(chunk));
          done();
        },
      }),
    });
    sender = startOutboxSender({
      store,
      chat: slackDelivery(client),
      cardView: (id): CardDelivery | undefined => {
        const operation = operations.get(id);
        const request = operation && store.approvals.get(operation.requestId);
        return request && operation && { request, operation: operation.view };
      },
      log,
      metrics: telemetry,
      tuning: options.tuning ?? FAST,
      ...(options.leadership ? { leadership: options.leadership } : {}),
    });
    return sender;
  }

  function enqueue(...entries: OutboxEntry[]): void {
    store.transaction(() => entries.forEach((entry) => store.outbox.enqueue(entry, new Date())));
    sender?.kick();
  }

  const idle = (timeoutMs = 20_000) => until(() => (store.outbox.backlog(new Date()).depth === 0 || undefined), timeoutMs);
  /** The outbox keys of the messages in a channel (or a thread), in the order Slack holds them. */
  const keysIn = (channel: string, threadTs?: string) =>
    [...(standin.messages.get(channel)?.values() ?? [])]
      .filter((m) => (threadTs === undefined ? m.thread_ts === undefined : m.thread_ts === threadTs))
      .map((m) => (m.metadata as { event_payload?: { key?: string } } | undefined)?.event_payload?.key);
  const postsOf = (key: string) => standin.okCalls('chat.postMessage').filter((c) => (c.args.metadata as { event_payload?: { key?: string } } | undefined)?.event_payload?.key === key);
  const audit = () => sqlite.db.prepare("SELECT action, subject, detail FROM audit_log WHERE action = 'slack.post_failed' ORDER BY id").all() as { action: string; subject: string; detail: string }[];

  async function scrape(): Promise<Record<string, number>> {
    const text = await telemetry.registry.metrics();
    return Object.fromEntries([...text.matchAll(/^(lifeguard_outbox_\w+) (\S+)$/gm)].map((m) => [m[1]!, Number(m[2])]));
  }

  it('Slack answering 500 and then 429: every message arrives once, in order per channel, soon after Slack is back', async () => {
    standin.failFor('*', { status: 500 }, 3_000);
    standin.failFor('*', { status: 429, retryAfter: 1 }, 1_000);
    const outageEnds = Date.now() + 4_000;
    start();
    const release = Array.from({ length: 6 }, (_, i) => noteEntry(`release-${i}`));
    const incident = Array.from({ length: 3 }, (_, i) => noteEntry(`incident-${i}`, '#incidents'));
    enqueue(release[0]!, incident[0]!, release[1]!);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await scrape()).toMatchObject({ lifeguard_outbox_depth: 3 });
    expect((await scrape()).lifeguard_outbox_oldest_age_seconds).toBeGreaterThanOrEqual(1.4);
    enqueue(...release.slice(2, 4), ...incident.slice(1), ...release.slice(4));

    await idle();
    const drained = Date.now();
    expect(keysIn('C0CHECKOUT')).toEqual(release.map((e) => e.key));
    expect(keysIn('C0INCIDENT')).toEqual(incident.map((e) => e.key));
    for (const entry of [...release, ...incident]) expect(postsOf(entry.key)).toHaveLength(1);
    // Soon after: within the backoff cap (1 s here) and the Retry-After (1 s) of the end, plus the sends themselves.
    expect(drained - outageEnds).toBeLessThan(3_000);
    expect(new Set(standin.calls.map((c) => c.status))).toEqual(new Set([500, 429, 200]));
    // A post whose answer was a 500 may have landed: it was looked for before it was sent again.
    expect(standin.okCalls('conversations.history').length).toBeGreaterThan(0);
    expect(standin.okCalls('conversations.list')).toHaveLength(1);
    expect(audit()).toEqual([]);
    expect(await scrape()).toEqual({ lifeguard_outbox_depth: 0, lifeguard_outbox_oldest_age_seconds: 0 });
    const check = spawnSync('promtool', ['check', 'metrics'], { input: await telemetry.registry.metrics(), encoding: 'utf8', timeout: 20_000 });
    expect(check.stdout + check.stderr).toBe('');
  }, 30_000);

  it('honours Retry-After for the channel that got the 429, while another channel goes on', async () => {
    standin.failFor('chat.postMessage', { status: 429, retryAfter: 2 }, 500, { channel: 'C0CHECKOUT' });
    start();
    enqueue(noteEntry('a-1'), noteEntry('b-1', 'C0INCIDENT'), noteEntry('a-2'), noteEntry('b-2', 'C0INCIDENT'), noteEntry('b-3', 'C0INCIDENT'));
    await idle();
    const calls = standin.callsTo('chat.postMessage').filter((c) => c.args.channel === 'C0CHECKOUT');
    const limited = calls.find((c) => c.status === 429)!;
    const next = calls[calls.indexOf(limited) + 1]!;
    expect(next.at - limited.at).toBeGreaterThanOrEqual(1_950);
    const firstCheckout = postsOf('a-1')[0]!.at;
    for (const key of ['b-1', 'b-2', 'b-3']) expect(postsOf(key)[0]!.at).toBeLessThan(firstCheckout);
    expect(keysIn('C0CHECKOUT')).toEqual(['a-1', 'a-2']);
  });

  it('Slack answering 500 for 20 s and then 429: nothing is given up, and the backlog leaves within seconds of the end (default tuning)', async () => {
    standin.failFor('*', { status: 500 }, 20_000);
    standin.failFor('*', { status: 429, retryAfter: 1 }, 2_000);
    const outageEnds = Date.now() + 22_000;
    start({ tuning: {} });
    const entries = [noteEntry('s-1'), noteEntry('s-2', 'C0INCIDENT'), noteEntry('s-3'), noteEntry('s-4')];
    enqueue(...entries.slice(0, 2));
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    enqueue(...entries.slice(2));
    await idle(40_000);
    expect(keysIn('C0CHECKOUT')).toEqual(['s-1', 's-3', 's-4']);
    expect(keysIn('C0INCIDENT')).toEqual(['s-2']);
    for (const entry of entries) expect(postsOf(entry.key)).toHaveLength(1);
    expect(audit()).toEqual([]);
    // The backoff cap (4 s), a Retry-After (1 s) and one second between posts to a channel.
    expect(Date.now() - outageEnds).toBeLessThan(9_000);
  }, 60_000);

  it('after a crash between Slack taking a post and the commit, the post is found by its key and not sent again', async () => {
    // What the crashed process left: Slack has the messages, the outbox has them attempted with no outcome.
    const top = await client.chat.postMessage({ channel: 'C0INCIDENT', text: 'posted before the crash', metadata: { event_type: 'lifeguard_outbox', event_payload: { key: 'crash-top' } } });
    const root = await client.chat.postMessage({ channel: 'C0CHECKOUT', text: 'release card' });
    const reply = await client.chat.postMessage({ channel: 'C0CHECKOUT', thread_ts: root.ts!, text: 'step posted before the crash', metadata: { event_type: 'lifeguard_outbox', event_payload: { key: 'crash-thread' } } });
    enqueue(noteEntry('crash-top', '#incidents'), noteEntry('crash-thread', 'C0CHECKOUT', { threadTs: root.ts! }), noteEntry('never-sent', 'C0CHECKOUT', { threadTs: root.ts! }));
    for (const head of store.outbox.heads()) store.outbox.markAttempted(head.id, new Date());
    const posted = standin.okCalls('chat.postMessage').length;

    start();
    await idle();
    expect(standin.okCalls('chat.postMessage').slice(posted).map((c) => c.args.text)).toEqual(['never-sent']);
    expect(keysIn('C0INCIDENT')).toEqual(['crash-top']);
    expect(keysIn('C0CHECKOUT', root.ts!)).toEqual(['crash-thread', 'never-sent']);
    const sent = sqlite.db.prepare('SELECT key, sent_channel, sent_ts FROM outbox ORDER BY id').all();
    expect(sent).toEqual([
      { key: 'crash-top', sent_channel: 'C0INCIDENT', sent_ts: top.ts },
      { key: 'crash-thread', sent_channel: 'C0CHECKOUT', sent_ts: reply.ts },
      { key: 'never-sent', sent_channel: 'C0CHECKOUT', sent_ts: expect.any(String) },
    ]);
    expect(logLines.some((l) => l.includes('is in Slack already; not posting it again') && l.includes('crash-top'))).toBe(true);
  });

  it('an entry in doubt that Slack will not let us look for is given up rather than risk posting it twice', async () => {
    standin.failNext('conversations.history', { error: 'missing_scope' });
    enqueue(noteEntry('unsure'), noteEntry('next'));
    store.outbox.markAttempted(store.outbox.heads()[0]!.id, new Date());
    start();
    await idle();
    expect(postsOf('unsure')).toEqual([]);
    expect(keysIn('C0CHECKOUT')).toEqual(['next']);
    expect(audit().map((r) => JSON.parse(r.detail))).toEqual([{ method: 'conversations.history', channel: 'C0CHECKOUT', error: 'missing_scope', key: 'unsure', message: 'note', attempts: 1 }]);
  });

  it('entries of one slot are one message: the first posts it, later ones update it in place', async () => {
    start();
    const incident = (key: string, verified: boolean): OutboxEntry => ({ key, slot: 'incident:7', channel: '#incidents', message: { kind: 'note', note: note(verified ? 'Rolled back and verified' : 'Rolling back') } });
    enqueue(incident('incident:7:decided', false));
    await idle();
    const ts = String(standin.okCalls('chat.postMessage')[0]!.response.ts);
    expect(store.outbox.slotMessage('incident:7')).toEqual({ channel: 'C0INCIDENT', ts });

    enqueue(incident('incident:7:drained', false), incident('incident:7:verified', true));
    await idle();
    expect(standin.okCalls('chat.postMessage')).toHaveLength(1);
    // The drained version was already out of date when its turn came: only the newest is drawn.
    expect(standin.okCalls('chat.update').map((c) => [c.args.channel, c.args.ts])).toEqual([['C0INCIDENT', ts]]);
    expect(String(standin.messages.get('C0INCIDENT')!.get(ts)!.text)).toBe('Rolled back and verified');
  });

  it('a message Slack refuses for good is given up, audited and logged, and the channel goes on', async () => {
    standin.failNext('chat.postMessage', { error: 'invalid_blocks' });
    start();
    const verdict = { service: 'checkout', environment: 'production', evaluatedAt: '2026-11-22T10:00:00Z', verdict: 'pass' as const, reasons: [], score: 100, scoreThresholds: { pass: 90, marginal: 75 }, trafficShare: 25, metrics: [] };
    enqueue({ key: 'refused', channel: 'C0CHECKOUT', message: { kind: 'note', note: { ...note('refused'), verdict } } }, noteEntry('after'));
    await idle();
    enqueue(noteEntry('locked-1', 'C0LOCKED'), noteEntry('locked-2', 'C0LOCKED'));
    await idle();
    expect(keysIn('C0CHECKOUT')).toEqual(['after']);
    expect(audit().map((r) => [r.subject, JSON.parse(r.detail)])).toEqual([
      ['checkout/production', { method: 'chat.postMessage', channel: 'C0CHECKOUT', error: 'invalid_blocks', key: 'refused', message: 'note', attempts: 1 }],
      ['C0LOCKED', { method: 'chat.postMessage', channel: 'C0LOCKED', error: 'not_in_channel', key: 'locked-1', message: 'note', attempts: 1 }],
      ['C0LOCKED', { method: 'chat.postMessage', channel: 'C0LOCKED', error: 'not_in_channel', key: 'locked-2', message: 'note', attempts: 1 }],
    ]);
    expect(logLines.filter((l) => l.includes('Slack refused an outbox message for good'))).toHaveLength(3);
    expect(await telemetry.registry.getSingleMetricAsString('lifeguard_slack_post_failures_total')).toContain('lifeguard_slack_post_failures_total{method="chat.postMessage",error="not_in_channel"} 2');
  });

  it('a card entry redraws the request card in place from the store as it is when delivered', async () => {
    const plan: Plan = { kind: 'release', service: 'checkout', environment: 'production', version: '1.5.0', strategy: 'canary', running: null, steps: [5, 25, 50, 100], pauseForApprovalAt: [50] };
    const requestId = store.approvals.insert({
      kind: 'release',
      service: 'checkout',
      environment: 'production',
      requester: 'U09BOB',
      requirement: { mode: 'any', roles: ['release-manager'], count: 1 },
      plan,
      state: 'granted',
      createdAt: new Date(),
      expiresAt: new Date(Date.now() + 3_600_000),
    });
    const card = await client.chat.postMessage({ channel: 'C0CHECKOUT', text: 'the request card', blocks: [{ type: 'actions', elements: [{ type: 'button', action_id: 'approval.approve', text: { type: 'plain_text', text: 'Approve' }, value: String(requestId) }] }] });
    const view: OperationView = {
      id: 12,
      kind: 'release',
      state: 'running',
      headline: 'Step 1 of 4: 5% of traffic on the canary',
      steps: [
        { weight: 5, state: 'current' },
        { weight: 25, state: 'pending' },
        { weight: 50, state: 'pending', pause: true },
        { weight: 100, state: 'pending' },
      ],
      weight: 5,
      controls: ['pause', 'abort'],
    };
    operations.set(12, { requestId, view });
    const cardEntry = (key: string): OutboxEntry => ({ key, channel: 'C0CHECKOUT', updateTs: card.ts!, message: { kind: 'card', operationId: 12 } });
    enqueue(cardEntry('op12:card:1'));
    // The engine moved on before the sender got to it: the card shows where the operation is now.
    operations.set(12, { requestId, view: { ...view, state: 'paused', headline: 'Step 3 of 4: waiting for Promote at 50%', weight: 50, controls: ['promote', 'abort'], why: 'Paused for Promote at 50% as configured' } });
    start();
    await idle();
    expect(standin.okCalls('chat.postMessage')).toHaveLength(1);
    const shown = JSON.stringify(standin.messages.get('C0CHECKOUT')!.get(card.ts!)!.blocks);
    expect(shown).toContain('Paused at 50%');
    expect(shown).toContain('Paused for Promote at 50% as configured');
    expect(shown).toContain('"action_id":"release.promote"');
    expect(shown).toContain('"value":"12"');
    expect(shown).not.toContain('approval.approve');

    operations.set(12, { requestId, view: { ...view, state: 'promoted', headline: 'Promoted: 1.5.0 serves all traffic', weight: 0, controls: [], steps: view.steps.map((s) => ({ ...s, state: 'done' as const })) } });
    enqueue(cardEntry('op12:card:2'));
    await idle();
    const final = JSON.stringify(standin.messages.get('C0CHECKOUT')!.get(card.ts!)!.blocks);
    expect(final).toContain(':white_check_mark: Promoted');
    expect(final).not.toContain('"type":"actions"');
    expect(standin.okCalls('chat.update').map((c) => c.args.ts)).toEqual([card.ts, card.ts]);

    // An operation the store no longer knows cannot be drawn: given up, not retried for ever.
    enqueue({ key: 'op99:card', channel: 'C0CHECKOUT', updateTs: card.ts!, message: { kind: 'card', operationId: 99 } });
    await idle();
    expect(audit().map((r) => JSON.parse(r.detail).error)).toEqual(['operation_not_found']);
  });

  it('sends only while this replica leads, and stop() waits for the call in flight', async () => {
    let listener: (leader: boolean) => void = () => undefined;
    let leader = false;
    const leadership = { isLeader: () => leader, onChange: (l: (leader: boolean) => void) => void (listener = l), signal: new AbortController().signal, start: () => undefined, stop: async () => undefined };
    start({ leadership });
    enqueue(noteEntry('led-1'));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(standin.callsTo('chat.postMessage')).toHaveLength(0);
    leader = true;
    listener(true);
    await idle();
    expect(keysIn('C0CHECKOUT')).toEqual(['led-1']);

    standin.failFor('chat.postMessage', { status: 500 }, 60_000);
    enqueue(noteEntry('led-2'));
    await until(() => standin.callsTo('chat.postMessage').find((c) => c.status === 500));
    leader = false;
    listener(false);
    await sender!.stop();
    const calls = standin.calls.length;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(standin.calls.length).toBe(calls);
  });
});
