import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PEOPLE, responses, startHarness, type Harness } from '../../support/slack-standin/harness.js';
import { buttonClick, viewSubmission } from '../../support/slack-standin/payloads.js';
import type { RecordedCall } from '../../support/slack-standin/web-api.js';

/**
 * Issue 8, findings 1 and 4: every value Slack sends is checked on the server as if the client had checked
 * nothing. Clicks and modal submissions are built as Slack builds them, then spoiled one field at a time.
 */
describe('values from Slack, checked on the server', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness();
  });
  afterAll(async () => {
    await harness.close();
  });

  type Card = { id: string; channel: string; ts: string };

  async function request(command: string, text: string): Promise<Card> {
    const before = harness.standin.okCalls('chat.postMessage').length;
    const sent = await harness.command(command, text);
    expect(sent.status).toBe(200);
    // The card, not a note in an earlier card's thread.
    const post = await harness.standin.waitFor(() => harness.standin.okCalls('chat.postMessage').slice(before).find((c) => c.args.thread_ts === undefined));
    await harness.standin.waitFor(() => responses(harness.standin, sent.responseUrl).find((r) => String(r.text).includes('is posted in')));
    const blocks = post.args.blocks as { elements?: { action_id?: string; value?: string }[] }[];
    const approve = blocks.flatMap((b) => b.elements ?? []).find((e) => e.action_id === 'approval.approve');
    return { id: approve!.value!, channel: String(post.response.channel), ts: String(post.response.ts) };
  }

  async function ephemeral(responseUrl: string): Promise<string> {
    const posted = await harness.standin.waitFor(() => responses(harness.standin, responseUrl)[0]);
    expect(posted.response_type).toBe('ephemeral');
    return String(posted.text);
  }

  const updatesOf = (card: Card): RecordedCall[] => harness.standin.okCalls('chat.update').filter((c) => c.args.ts === card.ts);
  const auditOf = (id: string, action: string) => harness.audit().filter((r) => r.action === action && JSON.parse(r.detail).request === Number(id));
  const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

  // The endpoint guard refuses it before Bolt (400, one security line); the handler's own check stays for Socket Mode.
  it('a click whose user has no id is refused with a log line, nothing recorded and no 500', async () => {
    const card = await request('/release', 'checkout 1.5.0');
    const auditBefore = harness.audit().length;
    const payload = buttonClick({ user: PEOPLE.alice, actionId: 'approval.approve', value: card.id, channel: card.channel, messageTs: card.ts, responseUrl: harness.standin.responseUrl(), triggerId: harness.standin.triggerId() });
    const sent = await harness.interact({ ...payload, user: { team_id: 'T0LIFEGUARD', name: 'alice' } });
    expect(sent.status).toBe(400);
    await harness.standin.waitFor(() => harness.logLines.find((l) => l.includes('refused a request to /slack/events: not a Slack request Lifeguard serves')));
    await settle();
    expect(harness.audit()).toHaveLength(auditBefore);
    expect(updatesOf(card)).toEqual([]);
  });

  it('a slash command whose user_id is not a Slack user id is refused and opens nothing', async () => {
    const posts = harness.standin.okCalls('chat.postMessage').length;
    const auditBefore = harness.audit().length;
    const sent = await harness.command('/release', 'checkout 2.1.0', 'U1><!channel');
    expect(sent.status).toBe(200);
    const reply = JSON.parse(sent.body) as { response_type: string; text: string };
    expect(reply.response_type).toBe('ephemeral');
    expect(reply.text).toContain('could not read this command (user_id is not a Slack user id)');
    await settle();
    expect(harness.standin.okCalls('chat.postMessage')).toHaveLength(posts);
    expect(harness.audit()).toHaveLength(auditBefore);
    expect(harness.logLines.some((l) => l.includes('refused a slash command'))).toBe(true);
  });

  it('a reject form whose private_metadata is not JSON is answered in the form and changes nothing', async () => {
    const card = await request('/rollback', 'checkout reason="latency regression"');
    const auditBefore = harness.audit().length;
    const submitted = await harness.interact(
      viewSubmission({ user: PEOPLE.oscar, callbackId: 'approval.reject_reason', privateMetadata: '{"requestId": 1,', values: { reason: { value: { type: 'plain_text_input', value: 'a fine reason' } } } }),
    );
    expect(submitted.status).toBe(200);
    const answer = JSON.parse(submitted.body || '{}') as { response_action?: string; errors?: Record<string, string> };
    expect(answer.response_action).toBe('errors');
    expect(answer.errors?.reason).toContain('close this form and click Reject on the card again');
    expect(harness.logLines.some((l) => l.includes('refused a reject form') && l.includes('private_metadata'))).toBe(true);
    await settle();
    expect(harness.audit()).toHaveLength(auditBefore);
    expect(updatesOf(card)).toEqual([]);
  });

  it('reject reasons are trimmed of invisible characters and bounded as the form is; a bad one is answered in the form', async () => {
    const card = await request('/rollback', 'checkout reason="error spike after 1.5.0"');
    const clicked = await harness.click({ user: PEOPLE.oscar, actionId: 'approval.reject', value: card.id, channel: card.channel, messageTs: card.ts });
    const opened = await harness.standin.waitFor(() => harness.standin.okCalls('views.open').find((c) => c.args.trigger_id === clicked.triggerId));
    const view = opened.args.view as { callback_id: string; private_metadata: string };
    const submit = (reason: string | undefined) =>
      harness.interact(
        viewSubmission({
          user: PEOPLE.oscar,
          callbackId: view.callback_id,
          privateMetadata: view.private_metadata,
          values: reason === undefined ? {} : { reason: { value: { type: 'plain_text_input', value: reason } } },
        }),
      );

    const refused: [string | undefined, string][] = [
      [undefined, 'at least 3'],
      ['', 'at least 3'],
      ['\u200b\u200b\u200b\u200b\u200b', 'at least 3'],
      ['\u2060\ufeff\u200c\u200d \u00a0\u3000\t\n', 'at least 3'],
      ['ok\u200b\u200b\u200b', 'at least 3'],
      ['x'.repeat(100_000), 'at most 500'],
    ];
    for (const [reason, problem] of refused) {
      const answer = await submit(reason);
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body || '{}'), JSON.stringify(reason?.slice(0, 20))).toMatchObject({ response_action: 'errors', errors: { reason: expect.stringContaining(problem) } });
    }
    await settle();
    expect(auditOf(card.id, 'approval.rejected')).toEqual([]);
    expect(updatesOf(card)).toEqual([]);

    const accepted = await submit('\u200b\ufeff  the spike is a known upstream issue \u2060\n');
    expect(accepted.body).toBe('');
    const update = await harness.standin.waitFor(() => updatesOf(card)[0]);
    expect(JSON.stringify(update.args.blocks)).toContain('“the spike is a known upstream issue”');
    expect(auditOf(card.id, 'approval.rejected').map((r) => JSON.parse(r.detail).reason)).toEqual(['the spike is a known upstream issue']);
  });

  it('button values are read strictly: 0x1, " 1", 1e0, 01, -1 or 1.0 never stand for request 1', async () => {
    const card = await request('/release', 'checkout 1.6.0');
    const n = Number(card.id);
    const spoiled = [`0x${n.toString(16)}`, ` ${n}`, `${n} `, `${n}e0`, `0${n}`, `-${n}`, `${n}.0`, `+${n}`, `${n}\u200b`];
    for (const value of spoiled) {
      const clicked = await harness.click({ user: PEOPLE.alice, actionId: 'approval.approve', value, channel: card.channel, messageTs: card.ts });
      expect(clicked.status).toBe(200);
      expect(await ephemeral(clicked.responseUrl), JSON.stringify(value)).toContain('is not a request number');
    }
    await settle();
    expect(auditOf(card.id, 'approval.approved')).toEqual([]);
    expect(updatesOf(card)).toEqual([]);
    expect(harness.audit().filter((r) => r.action === 'approval.denied' && JSON.parse(r.detail).why === 'bad-input')).toHaveLength(spoiled.length);

    await harness.click({ user: PEOPLE.alice, actionId: 'approval.approve', value: card.id, channel: card.channel, messageTs: card.ts });
    await harness.standin.waitFor(() => updatesOf(card)[0]);
    expect(auditOf(card.id, 'approval.approved')).toHaveLength(1);
  });

  it('a click acts only on the request its card belongs to', async () => {
    const a = await request('/release', 'checkout 1.7.0');
    const b = await request('/release', 'checkout 1.8.0');
    const crossed = await harness.click({ user: PEOPLE.alice, actionId: 'approval.approve', value: b.id, channel: a.channel, messageTs: a.ts });
    expect(await ephemeral(crossed.responseUrl)).toContain(`not on request #${b.id}'s card`);
    const elsewhere = await harness.click({ user: PEOPLE.alice, actionId: 'approval.approve', value: b.id, channel: 'C0RELEASES', messageTs: b.ts });
    expect(await ephemeral(elsewhere.responseUrl)).toContain(`not on request #${b.id}'s card`);
    await settle();
    expect(auditOf(b.id, 'approval.approved')).toEqual([]);
    expect([...updatesOf(a), ...updatesOf(b)]).toEqual([]);
    expect(auditOf(b.id, 'approval.denied').map((r) => [r.actor, JSON.parse(r.detail).why])).toEqual([
      [PEOPLE.alice, 'wrong-card'],
      [PEOPLE.alice, 'wrong-card'],
    ]);
  });

  it('a request whose card was never posted takes no click at all', async () => {
    harness.standin.failNext('chat.postMessage', { error: 'not_in_channel' });
    const sent = await harness.command('/release', 'checkout 1.9.0');
    const told = await harness.standin.waitFor(() => responses(harness.standin, sent.responseUrl).find((r) => String(r.text).includes('is recorded')));
    const id = /request #(\d+) is recorded/i.exec(String(told.text))![1]!;
    const other = await request('/release', 'checkout 1.9.1');
    const clicked = await harness.click({ user: PEOPLE.alice, actionId: 'approval.approve', value: id, channel: other.channel, messageTs: other.ts });
    expect(await ephemeral(clicked.responseUrl)).toContain(`request #${id} has no card`);
    await settle();
    expect(auditOf(id, 'approval.approved')).toEqual([]);
    expect(auditOf(id, 'approval.denied').map((r) => JSON.parse(r.detail).why)).toEqual(['no-card']);
  });

  it('a button value is echoed escaped: <!channel> pings nobody', async () => {
    const card = await request('/release', 'checkout 2.0.0');
    const urls: string[] = [];
    for (const actionId of ['release.promote', 'release.abort', 'approval.approve', 'approval.reject']) {
      const clicked = await harness.click({ user: PEOPLE.alice, actionId, value: '<!channel>', channel: card.channel, messageTs: card.ts });
      urls.push(clicked.responseUrl);
      expect(await ephemeral(clicked.responseUrl), actionId).toContain('&lt;!channel&gt;');
    }
    await settle();
    const sentToSlack = JSON.stringify([...urls.flatMap((u) => responses(harness.standin, u)), ...harness.standin.calls.map((c) => c.args)]);
    expect(sentToSlack).not.toContain('<!channel>');
  });
});
