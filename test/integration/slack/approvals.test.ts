import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PEOPLE, SIGNING_SECRET, responses, startHarness, type Harness } from '../../support/slack-standin/harness.js';
import { buttonClick, viewSubmission } from '../../support/slack-standin/payloads.js';
import { interactionBody, postSigned } from '../../support/slack-standin/sign.js';
import type { RecordedCall } from '../../support/slack-standin/web-api.js';

function manualClock(start: string) {
  let now = new Date(start).getTime();
  return { now: () => new Date(now), advance: (ms: number) => void (now += ms) };
}

describe('approvals in Slack', () => {
  let harness: Harness;
  const clock = manualClock('2026-11-22T10:00:00Z');

  beforeAll(async () => {
    harness = await startHarness({ clock });
  });
  afterAll(async () => {
    await harness.close();
  });

  /** Sends a command and returns the card it posts: request id, channel and ts. */
  async function request(command: string, text: string): Promise<{ id: string; channel: string; ts: string }> {
    const before = harness.standin.topLevelPosts().length;
    const sent = await harness.command(command, text);
    expect(sent.status).toBe(200);
    const post = await harness.standin.waitFor(() => harness.standin.topLevelPosts()[before]);
    // The requester is told once the card's ts is stored with the request.
    await harness.standin.waitFor(() => responses(harness.standin, sent.responseUrl).find((r) => String(r.text).includes('is posted in')));
    const blocks = post.args.blocks as { type: string; elements?: { action_id?: string; value?: string }[] }[];
    const approve = blocks.flatMap((b) => b.elements ?? []).find((e) => e.action_id === 'approval.approve');
    return { id: approve!.value!, channel: String(post.response.channel), ts: String(post.response.ts) };
  }

  async function click(user: string, card: { id: string; channel: string; ts: string }, actionId = 'approval.approve') {
    return harness.click({ user, actionId, value: card.id, channel: card.channel, messageTs: card.ts });
  }

  async function ephemeral(responseUrl: string): Promise<string> {
    const posted = await harness.standin.waitFor(() => responses(harness.standin, responseUrl)[0]);
    expect(posted.response_type).toBe('ephemeral');
    return String(posted.text);
  }

  function updatesOf(card: { ts: string }): RecordedCall[] {
    return harness.standin.okCalls('chat.update').filter((c) => c.args.ts === card.ts);
  }

  it('refuses self-approval and a user without the role, ephemerally and audited, leaving the card alone', async () => {
    const card = await request('/release', 'checkout 1.5.0');
    const self = await click(PEOPLE.requester, card);
    expect(self.status).toBe(200);
    expect(await ephemeral(self.responseUrl)).toContain('You asked for this release of checkout in production, so you cannot approve it yourself');
    const stranger = await click(PEOPLE.nobody, card);
    expect(await ephemeral(stranger.responseUrl)).toContain('Only *release-manager* may approve');
    expect(updatesOf(card)).toEqual([]);
    const denials = harness.audit().filter((r) => r.action === 'approval.denied');
    expect(denials.map((d) => [d.actor, JSON.parse(d.detail).why])).toEqual([
      [PEOPLE.requester, 'requester'],
      [PEOPLE.nobody, 'no-role'],
    ]);
  });

  it('two approvers clicking at once when one is needed give one approval and one "already approved"', async () => {
    const card = await request('/release', 'checkout 1.6.0');
    const [alice, frank] = await Promise.all([click(PEOPLE.alice, card), click(PEOPLE.frank, card)]);
    const update = await harness.standin.waitFor(() => updatesOf(card)[0]);
    const shown = JSON.stringify(update.args.blocks);
    const winner = shown.includes(`<@${PEOPLE.alice}>`) ? PEOPLE.alice : PEOPLE.frank;
    const loserUrl = winner === PEOPLE.alice ? frank.responseUrl : alice.responseUrl;
    expect(shown).toContain(`Approved by <@${winner}> as *release-manager*`);
    expect(shown).not.toContain('approval.approve');
    // The cluster is away in this harness: the granted release cannot start, and its thread says so.
    const note = await harness.standin.waitFor(() => harness.standin.okCalls('chat.postMessage').find((c) => c.args.thread_ts === card.ts));
    expect(String(note.args.text)).toContain(`Request #${card.id} is approved but did not start`);
    expect(await ephemeral(loserUrl)).toContain(`Already approved by <@${winner}>`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(updatesOf(card)).toHaveLength(1);
    const granted = harness.audit().filter((r) => r.action === 'approval.granted' && JSON.parse(r.detail).request === Number(card.id));
    expect(granted).toHaveLength(1);
  });

  it('a click Slack delivers again (x-slack-retry-num) counts once', async () => {
    const card = await request('/rollback', 'checkout reason="latency regression"');
    const body = interactionBody(
      buttonClick({ user: PEOPLE.oscar, actionId: 'approval.approve', value: card.id, channel: card.channel, messageTs: card.ts, responseUrl: harness.standin.responseUrl(), triggerId: harness.standin.triggerId() }),
    );
    const first = await postSigned(`${harness.url}/slack/events`, SIGNING_SECRET, body);
    const retried = await postSigned(`${harness.url}/slack/events`, SIGNING_SECRET, body, { headers: { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' } });
    expect([first.status, retried.status]).toEqual([200, 200]);
    await harness.standin.waitFor(() => updatesOf(card)[0]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(updatesOf(card)).toHaveLength(1);
    const votes = harness.audit().filter((r) => r.action === 'approval.approved' && JSON.parse(r.detail).request === Number(card.id));
    expect(votes).toHaveLength(1);
  });

  it('an expired request refuses clicks and its card says so', async () => {
    const card = await request('/release', 'checkout 1.7.0');
    clock.advance(4 * 60 * 60_000);
    const late = await click(PEOPLE.alice, card);
    expect(await ephemeral(late.responseUrl)).toContain('expired');
    const update = await harness.standin.waitFor(() => updatesOf(card)[0]);
    expect(JSON.stringify(update.args.blocks)).toContain('Expired: nobody approved in time');
    expect(harness.audit().some((r) => r.action === 'approval.expired' && JSON.parse(r.detail).request === Number(card.id))).toBe(true);
  });

  it('the expiry sweep expires requests nobody clicked and takes the buttons off their cards', async () => {
    const card = await request('/release', 'checkout 1.8.0');
    clock.advance(4 * 60 * 60_000);
    expect(await harness.lifeguard.cards.sweep()).toBeGreaterThanOrEqual(1);
    const update = await harness.standin.waitFor(() => updatesOf(card)[0]);
    expect(JSON.stringify(update.args.blocks)).toContain('Expired: nobody approved in time');
    expect(JSON.stringify(update.args.blocks)).not.toContain('approval.approve');
    expect(await harness.lifeguard.cards.sweep()).toBe(0);
    expect(harness.audit().filter((r) => r.action === 'approval.expired' && JSON.parse(r.detail).request === Number(card.id))).toHaveLength(1);
  });

  it('Reject asks why in a modal, then refuses the rollback and shows who and why on the card', async () => {
    const card = await request('/rollback', 'checkout reason="error spike after 1.5.0"');
    const rejected = await click(PEOPLE.oscar, card, 'approval.reject');
    const opened = await harness.standin.waitFor(() => harness.standin.okCalls('views.open').find((c) => c.args.trigger_id === rejected.triggerId));
    const view = opened.args.view as { callback_id: string; private_metadata: string };
    const submitted = await harness.interact(
      viewSubmission({ user: PEOPLE.oscar, callbackId: view.callback_id, privateMetadata: view.private_metadata, values: { reason: { value: { type: 'plain_text_input', value: 'the spike is a known upstream issue' } } } }),
    );
    expect(submitted.status).toBe(200);
    const update = await harness.standin.waitFor(() => updatesOf(card)[0]);
    const shown = JSON.stringify(update.args.blocks);
    expect(shown).toContain(`Rejected by <@${PEOPLE.oscar}> as *on-call*`);
    expect(shown).toContain('the spike is a known upstream issue');
    expect(harness.audit().filter((r) => r.action === 'approval.refused')).toHaveLength(1);
  });

  it('a high-urgency hotfix needs a team lead and a platform owner, in either order', async () => {
    const card = await request('/hotfix', 'checkout 1.4.3 urgency=high reason="card payments failing"');
    await click('U02CAROL', card);
    const first = await harness.standin.waitFor(() => updatesOf(card)[0]);
    expect(JSON.stringify(first.args.blocks)).toContain('Still needed: one approval from each of *platform-owner*');
    await click('U03DAVE', card);
    const second = await harness.standin.waitFor(() => updatesOf(card)[1]);
    expect(JSON.stringify(second.args.blocks)).toContain(':white_check_mark: Approved');
  });
});
