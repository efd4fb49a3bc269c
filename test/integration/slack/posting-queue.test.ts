import { Writable } from 'node:stream';
import { App } from '@slack/bolt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.js';
import { createTelemetry } from '../../../src/metrics.js';
import { PostingQueue } from '../../../src/adapters/slack/posting-queue.js';
import { UsergroupDirectory } from '../../../src/adapters/slack/usergroups.js';
import { webClientOptions } from '../../../src/adapters/slack/web-client.js';
import { note } from '../../../src/adapters/slack/blocks/replies.js';
import type { AuditEntry } from '../../../src/ports.js';
import { SlackStandin } from '../../support/slack-standin/web-api.js';

describe('Slack Web API client behaviour against the stand-in', () => {
  let standin: SlackStandin;
  let audited: AuditEntry[];
  let logLines: string[];
  const log = () =>
    createLogger({
      level: 'info',
      destination: new Writable({
        write(chunk, _e, done) {
          logLines.push(String(chunk));
          done();
        },
      }),
    });

  function client() {
    // The same client construction as the app: our retry policy, 429s surfaced to the caller.
    return new App({ token: standin.botToken, signingSecret: 'x', clientOptions: webClientOptions(standin.apiUrl), tokenVerificationEnabled: false }).client;
  }

  function queue(minIntervalMs = 50) {
    return new PostingQueue({
      client: client(),
      audit: { append: (entry) => (audited.push(entry), { ...entry, id: audited.length, at: '', prevHash: '', hash: '' }) },
      log: log(),
      metrics: createTelemetry({ processMetrics: false }),
      minIntervalMs,
    });
  }

  beforeEach(async () => {
    standin = await SlackStandin.start({
      usergroups: [
        { id: 'S01RM', handle: 'release-managers', users: ['U05FRANK'] },
        { id: 'S02OC', handle: 'oncall', users: ['U06OSCAR'] },
      ],
    });
    audited = [];
    logLines = [];
  });
  afterEach(async () => {
    await standin.close();
  });

  it('a 429 on chat.postMessage delays the message by Retry-After and keeps the channel in order', async () => {
    standin.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    const posts = queue();
    const started = Date.now();
    const deliveries = await Promise.all(['first', 'second', 'third'].map((text) => posts.send({ kind: 'post', channel: 'C0CHECKOUT', message: note(text) })));
    expect(deliveries.every((d) => d.ok)).toBe(true);
    const calls = standin.callsTo('chat.postMessage');
    expect(calls.map((c) => [c.status, c.args.text])).toEqual([
      [429, 'first'],
      [200, 'first'],
      [200, 'second'],
      [200, 'third'],
    ]);
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(1000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    const stored = [...standin.messages.get('C0CHECKOUT')!.values()].map((m) => m.text);
    expect(stored).toEqual(['first', 'second', 'third']);
  });

  it('spaces posts to one channel but not across channels', async () => {
    const posts = queue(1_000);
    await Promise.all([
      posts.send({ kind: 'post', channel: 'C0CHECKOUT', message: note('a1') }),
      posts.send({ kind: 'post', channel: 'C0CHECKOUT', message: note('a2') }),
      posts.send({ kind: 'post', channel: 'C0RELEASES', message: note('b1') }),
    ]);
    const at = (text: string) => standin.calls.find((c) => c.args.text === text)!.at;
    expect(at('a2') - at('a1')).toBeGreaterThanOrEqual(990);
    // The other channel's post does not queue behind the first channel's spacing.
    expect(at('b1')).toBeLessThan(at('a2'));
  });

  it('a post that still fails is logged and audited, and the queue goes on', async () => {
    standin.failNext('chat.postMessage', { error: 'channel_not_found' });
    const posts = queue();
    const [failed, next] = await Promise.all([
      posts.send({ kind: 'post', channel: 'C0CHECKOUT', message: note('lost'), subject: 'checkout/production' }),
      posts.send({ kind: 'post', channel: 'C0CHECKOUT', message: note('after') }),
    ]);
    expect(failed).toEqual({ ok: false, error: 'channel_not_found' });
    expect(next.ok).toBe(true);
    expect(audited).toEqual([
      { actor: 'lifeguard', action: 'slack.post_failed', subject: 'checkout/production', detail: { method: 'chat.postMessage', channel: 'C0CHECKOUT', error: 'channel_not_found', text: 'lost' } },
    ]);
    expect(logLines.some((l) => l.includes('Slack message could not be delivered') && l.includes('channel_not_found'))).toBe(true);
  });

  it('a 500 is retried a bounded number of times by our client policy', async () => {
    standin.failNext('chat.postMessage', { status: 500 }, 2);
    const delivery = await queue().send({ kind: 'post', channel: 'C0CHECKOUT', message: note('eventually') });
    expect(delivery.ok).toBe(true);
    expect(standin.callsTo('chat.postMessage').map((c) => c.status)).toEqual([500, 500, 200]);

    standin.failNext('chat.postMessage', { status: 500 }, 10);
    const given = await queue().send({ kind: 'post', channel: 'C0CHECKOUT', message: note('never') });
    expect(given).toMatchObject({ ok: false });
    expect(standin.callsTo('chat.postMessage').filter((c) => c.args.text === 'never')).toHaveLength(4);
  });

  it('usergroups resolve through usergroups.list and usergroups.users.list, cached for the TTL', async () => {
    let now = 0;
    const roles = { 'release-manager': ['U01ALICE', '@release-managers'], 'on-call': ['@oncall'], 'team-lead': ['U02CAROL'] };
    const directory = new UsergroupDirectory({ client: client(), roles, log: log(), ttlMs: 60_000, now: () => now });
    expect(await directory.rolesOf('U05FRANK', ['release-manager', 'on-call'])).toEqual(['release-manager']);
    expect(await directory.rolesOf('U06OSCAR', ['release-manager', 'on-call'])).toEqual(['on-call']);
    expect(await directory.rolesOf('U01ALICE', ['release-manager'])).toEqual(['release-manager']);
    expect(standin.callsTo('usergroups.list')).toHaveLength(1);
    expect(standin.callsTo('usergroups.users.list')).toHaveLength(2);

    standin.usergroups[0]!.users.push('U07NEW');
    expect(await directory.rolesOf('U07NEW', ['release-manager'])).toEqual([]);
    now += 60_000;
    expect(await directory.rolesOf('U07NEW', ['release-manager'])).toEqual(['release-manager']);
    expect(standin.callsTo('usergroups.users.list')).toHaveLength(3);

    const unknownGroup = new UsergroupDirectory({ client: client(), roles: { 'on-call': ['@nightwatch'] }, log: log() });
    expect(await unknownGroup.rolesOf('U06OSCAR', ['on-call'])).toEqual([]);
    expect(logLines.some((l) => l.includes('it grants no role until it can be read') && l.includes('nightwatch'))).toBe(true);

    standin.failNext('usergroups.list', { error: 'invalid_auth' });
    now += 60_000;
    expect(await directory.rolesOf('U05FRANK', ['release-manager'])).toEqual(['release-manager']);
    expect(logLines.some((l) => l.includes('using its last known members'))).toBe(true);
  });
});
