import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PEOPLE, responses, startHarness, type Harness } from '../../support/slack-standin/harness.js';

/** Issue 8, finding 7: what the people in Slack are told when Slack itself fails after something was recorded. */
describe('Slack failing after a decision was recorded', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness();
  });
  afterAll(async () => {
    await harness.close();
  });

  async function request(text: string): Promise<{ id: string; channel: string; ts: string }> {
    const before = harness.standin.topLevelPosts().length;
    const sent = await harness.command('/release', text);
    const post = await harness.standin.waitFor(() => harness.standin.topLevelPosts()[before]);
    await harness.standin.waitFor(() => responses(harness.standin, sent.responseUrl).find((r) => String(r.text).includes('is posted in')));
    const blocks = post.args.blocks as { elements?: { action_id?: string; value?: string }[] }[];
    const approve = blocks.flatMap((b) => b.elements ?? []).find((e) => e.action_id === 'approval.approve');
    return { id: approve!.value!, channel: String(post.response.channel), ts: String(post.response.ts) };
  }

  it('a Slack 500 on the card update after an approval tells the approver, and the next sweep redraws the card', async () => {
    const card = await request('checkout 1.5.0');
    // The Web API client retries a 5xx three times: four failures in a row are a card update that failed.
    harness.standin.failNext('chat.update', { status: 500 }, 4);
    const clicked = await harness.click({ user: PEOPLE.alice, actionId: 'approval.approve', value: card.id, channel: card.channel, messageTs: card.ts });
    const told = await harness.standin.waitFor(() => responses(harness.standin, clicked.responseUrl)[0], 15_000);
    expect(told.response_type).toBe('ephemeral');
    expect(String(told.text)).toContain(`Your approval of request #${card.id} is recorded`);
    expect(String(told.text)).toContain('could not redraw the card');
    expect(harness.standin.okCalls('chat.update').filter((c) => c.args.ts === card.ts)).toEqual([]);

    await harness.lifeguard.cards.sweep();
    const redrawn = await harness.standin.waitFor(() => harness.standin.okCalls('chat.update').find((c) => c.args.ts === card.ts));
    const shown = JSON.stringify(redrawn.args.blocks);
    expect(shown).toContain(`Approved by <@${PEOPLE.alice}>`);
    expect(shown).not.toContain('approval.approve');
    await harness.lifeguard.cards.sweep();
    expect(harness.standin.okCalls('chat.update').filter((c) => c.args.ts === card.ts)).toHaveLength(1);
  }, 30_000);

  it('when Slack will not open the reject form, the rejecter is told and nothing is recorded', async () => {
    const card = await request('checkout 1.5.1');
    harness.standin.failNext('views.open', { error: 'expired_trigger_id' });
    const clicked = await harness.click({ user: PEOPLE.alice, actionId: 'approval.reject', value: card.id, channel: card.channel, messageTs: card.ts });
    const told = await harness.standin.waitFor(() => responses(harness.standin, clicked.responseUrl)[0]);
    expect(String(told.text)).toContain('Slack did not open the form that asks why (expired_trigger_id). Click Reject again');
    expect(harness.audit().filter((r) => r.action === 'approval.rejected')).toEqual([]);
  });

  it('when the final reply fails, the error says the request was recorded, not that nothing was changed', async () => {
    harness.standin.failNext('response_url', { status: 500 });
    const before = harness.standin.topLevelPosts().length;
    const sent = await harness.command('/release', 'checkout 1.6.0');
    const card = await harness.standin.waitFor(() => harness.standin.topLevelPosts()[before]);
    const path = new URL(sent.responseUrl).pathname;
    const delivered = () => harness.standin.callsTo('response_url').filter((c) => c.args.url === path && c.status === 200);
    const told = (await harness.standin.waitFor(() => delivered()[0])).args;
    const id = (card.args.blocks as { elements?: { action_id?: string; value?: string }[] }[]).flatMap((b) => b.elements ?? []).find((e) => e.action_id === 'approval.approve')!.value!;
    const shown = JSON.stringify(told);
    expect(shown).not.toContain('Nothing was changed');
    expect(shown).toContain(`Request #${id} is recorded`);
    expect(harness.audit().filter((r) => r.action === 'approval.requested' && JSON.parse(r.detail).request === Number(id))).toHaveLength(1);
  });
});
