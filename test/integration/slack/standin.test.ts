import { webApi } from '@slack/bolt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webClientOptions } from '../../../src/adapters/slack/web-client.js';
import { SlackStandin } from '../../support/slack-standin/web-api.js';

/** The stand-in answers the real Web API client as Slack does. */
describe('Slack Web API stand-in', () => {
  let standin: SlackStandin;
  let client: webApi.WebClient;

  beforeAll(async () => {
    standin = await SlackStandin.start({ users: ['U01ALICE'], channels: [{ id: 'C0CHECKOUT', name: 'checkout-releases', botIsMember: true }, { id: 'C0ELSEWHERE', name: 'elsewhere', botIsMember: false }] });
    client = new webApi.WebClient(standin.botToken, webClientOptions(standin.apiUrl));
  });
  afterAll(async () => {
    await standin.close();
  });

  const code = (promise: Promise<unknown>) => promise.then(() => 'ok', (e: { data?: { error?: string } }) => e.data?.error ?? String(e));

  it('checks the token', async () => {
    expect(await code(new webApi.WebClient(undefined, webClientOptions(standin.apiUrl)).auth.test())).toBe('not_authed');
    expect(await code(new webApi.WebClient('xoxb-wrong', webClientOptions(standin.apiUrl)).auth.test())).toBe('invalid_auth');
    expect(await client.auth.test()).toMatchObject({ ok: true, user_id: 'U0LIFEGUARD' });
  });

  it('posts, updates and refuses as Slack does', async () => {
    const posted = await client.chat.postMessage({ channel: '#checkout-releases', text: 'hello' });
    expect(posted).toMatchObject({ ok: true, channel: 'C0CHECKOUT', ts: expect.stringMatching(/^\d{10}\.\d{6}$/) });
    expect(await client.chat.update({ channel: 'C0CHECKOUT', ts: posted.ts!, text: 'edited' })).toMatchObject({ ok: true, text: 'edited' });
    expect(await code(client.chat.update({ channel: 'C0CHECKOUT', ts: '1.000001', text: 'x' }))).toBe('message_not_found');
    expect(await code(client.chat.postMessage({ channel: '#nowhere', text: 'x' }))).toBe('channel_not_found');
    expect(await code(client.chat.postMessage({ channel: 'C0ELSEWHERE', text: 'x' }))).toBe('not_in_channel');
    expect(await code(client.chat.postMessage({ channel: 'C0CHECKOUT', text: '' }))).toBe('no_text');
    const tooMany = Array.from({ length: 51 }, () => ({ type: 'divider' as const }));
    expect(await code(client.chat.postMessage({ channel: 'C0CHECKOUT', text: 'x', blocks: tooMany }))).toBe('invalid_blocks');
    const longSection = [{ type: 'section' as const, text: { type: 'mrkdwn' as const, text: 'x'.repeat(3001) } }];
    expect(await code(client.chat.postMessage({ channel: 'C0CHECKOUT', text: 'x', blocks: longSection }))).toBe('invalid_blocks');
    expect(await client.chat.postEphemeral({ channel: 'C0CHECKOUT', user: 'U01ALICE', text: 'psst' })).toMatchObject({ ok: true });
  });

  it('answers users, conversations, modals and failures on demand', async () => {
    expect(await client.users.info({ user: 'U01ALICE' })).toMatchObject({ ok: true, user: { id: 'U01ALICE' } });
    expect(await code(client.users.info({ user: 'U404' }))).toBe('user_not_found');
    expect(await client.conversations.info({ channel: 'C0CHECKOUT' })).toMatchObject({ channel: { name: 'checkout-releases', is_member: true } });
    const view = { type: 'modal' as const, title: { type: 'plain_text' as const, text: 'Why?' }, blocks: [] };
    expect(await client.views.open({ trigger_id: standin.triggerId(), view })).toMatchObject({ ok: true });
    expect(await code(client.views.open({ trigger_id: 'made-up', view }))).toBe('expired_trigger_id');
    standin.failNext('users.info', { error: 'fatal_error' });
    expect(await code(client.users.info({ user: 'U01ALICE' }))).toBe('fatal_error');
  });

  it('keeps message metadata and reads it back in history and threads only when asked, by channel id', async () => {
    const tagged = { event_type: 'lifeguard_outbox', event_payload: { key: 'k1' } };
    const since = (Date.now() / 1000 - 1).toFixed(6);
    const root = await client.chat.postMessage({ channel: '#checkout-releases', text: 'root', metadata: tagged });
    const reply = await client.chat.postMessage({ channel: 'C0CHECKOUT', thread_ts: root.ts!, text: 'reply', metadata: { ...tagged, event_payload: { key: 'k2' } } });
    const history = await client.conversations.history({ channel: 'C0CHECKOUT', oldest: since, include_all_metadata: true });
    expect(history.messages?.[0]).toMatchObject({ ts: root.ts, metadata: tagged });
    expect(history.messages?.some((m) => m.ts === reply.ts)).toBe(false);
    expect((await client.conversations.history({ channel: 'C0CHECKOUT', oldest: since })).messages?.[0]?.metadata).toBeUndefined();
    expect((await client.conversations.history({ channel: 'C0CHECKOUT', oldest: root.ts!, inclusive: false })).messages).toEqual([]);
    const thread = await client.conversations.replies({ channel: 'C0CHECKOUT', ts: root.ts!, include_all_metadata: true });
    expect(thread.messages?.map((m) => [m.ts, (m.metadata?.event_payload as { key?: string } | undefined)?.key])).toEqual([
      [root.ts, 'k1'],
      [reply.ts, 'k2'],
    ]);
    expect(await code(client.conversations.history({ channel: '#checkout-releases' }))).toBe('channel_not_found');
    expect(await code(client.conversations.replies({ channel: 'C0CHECKOUT', ts: '1.000001' }))).toBe('thread_not_found');
    expect(await code(client.conversations.history({ channel: 'C0ELSEWHERE' }))).toBe('not_in_channel');
    const first = await client.conversations.list({ limit: 1 });
    expect(first.channels?.map((c) => c.name)).toEqual(['checkout-releases']);
    expect((await client.conversations.list({ limit: 1, cursor: first.response_metadata!.next_cursor! })).channels?.map((c) => c.name)).toEqual(['elsewhere']);
  });

  it('fails every call for a while, one outage after another, then recovers', async () => {
    const quiet = new webApi.WebClient(standin.botToken, { ...webClientOptions(standin.apiUrl), retryConfig: { retries: 0 }, logLevel: webApi.LogLevel.ERROR });
    const status = (promise: Promise<unknown>) => promise.then(() => 200, (e: { statusCode?: number; retryAfter?: number }) => (e.retryAfter !== undefined ? 429 : e.statusCode));
    standin.failFor('*', { status: 500 }, 300);
    standin.failFor('*', { status: 429, retryAfter: 1 }, 300);
    expect(await status(quiet.auth.test())).toBe(500);
    expect(await status(quiet.chat.postMessage({ channel: 'C0CHECKOUT', text: 'x' }))).toBe(500);
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(await status(quiet.chat.postMessage({ channel: 'C0CHECKOUT', text: 'x' }))).toBe(429);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await status(quiet.chat.postMessage({ channel: 'C0CHECKOUT', text: 'x' }))).toBe(200);
  });

  it('takes an external file upload in its three steps', async () => {
    const content = Buffer.from('post-mortem draft\n');
    const uploaded = await client.files.uploadV2({ channel_id: 'C0CHECKOUT', filename: 'postmortem.md', file: content, title: 'Post-mortem draft' });
    expect(uploaded.ok).toBe(true);
    expect(standin.okCalls('files.getUploadURLExternal')).toHaveLength(1);
    expect(standin.callsTo('upload')[0]!.args.bytes).toBe(content.length);
    expect(standin.okCalls('files.completeUploadExternal')[0]!.args.channel_id).toBe('C0CHECKOUT');
  });
});
