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

  it('takes an external file upload in its three steps', async () => {
    const content = Buffer.from('post-mortem draft\n');
    const uploaded = await client.files.uploadV2({ channel_id: 'C0CHECKOUT', filename: 'postmortem.md', file: content, title: 'Post-mortem draft' });
    expect(uploaded.ok).toBe(true);
    expect(standin.okCalls('files.getUploadURLExternal')).toHaveLength(1);
    expect(standin.callsTo('upload')[0]!.args.bytes).toBe(content.length);
    expect(standin.okCalls('files.completeUploadExternal')[0]!.args.channel_id).toBe('C0CHECKOUT');
  });
});
