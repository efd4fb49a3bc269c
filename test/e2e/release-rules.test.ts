import { describe, expect, it } from 'vitest';
import { PEOPLE, useReleaseStack } from '../support/release-stack.js';
import type { RecordedCall } from '../support/slack-standin/web-api.js';

/*
 * Must-shows 4 and 6 of issue #11, end to end: after the automated rollback of 1.5.0-bad that version is held
 * (refused, naming the rollback; forced by a release manager, marked on the card); the incident post's Freeze
 * button stops the line; in a freeze a release is refused with the reason and the end, a critical hotfix is
 * allowed and marked, and a rollback's card is posted.
 */
describe('freezes and holds, end to end', () => {
  const stack = useReleaseStack({ rollbackCooldown: '10m' });

  /** A slash command and the first of its answers that `done` accepts (the ack comes first). */
  async function answer(command: string, text: string, user: string, done: (answer: string) => boolean): Promise<string> {
    const sent = await stack().command(command, text, user);
    expect(sent.status).toBe(200);
    return stack().waitFor(() => stack().answers(sent.responseUrl).find(done), `no answer to ${command} ${text}`, 30_000);
  }

  /** The first top-level post after the `before`th in the service's channel. */
  function postAfter(before: number): Promise<RecordedCall> {
    return stack().waitFor(() => stack().slack.topLevelPosts().slice(before).find((c) => c.args.channel === '#checkout-releases'), 'no card was posted', 30_000);
  }

  it('a rolled-back version is held: refused naming the rollback, forced only by a release manager and marked', async () => {
    const card = await stack().release('1.5.0-bad');
    const done = await stack().ended(card.requestId, 'the bad release did not end', 120_000);
    expect(done.state).toBe('rolled-back');
    await stack().waitFor(() => stack().outbox().find((e) => e.channel === '#incidents' && e.sent), 'the incident post was not delivered');

    const refused = await answer('/release', 'checkout 1.5.0-bad', PEOPLE.requester, (a) => a.includes('refused'));
    expect(refused).toContain(`rolled back by operation #${done.id}`);
    expect(refused).toContain(done.rollback!.why.slice(0, 30));
    expect(refused).toMatch(/<https:\/\/slack\.com\/archives\/C0INCIDENT\/p\d+\|incident post>/);
    expect(stack().audit().find((r) => r.action === 'request.refused' && r.detail.why === 'hold')).toMatchObject({ actor: PEOPLE.requester, detail: { hold: { operation: done.id } } });

    const notAllowed = await answer('/release', 'checkout 1.5.0-bad force=true', PEOPLE.requester, (a) => a.includes('force=true'));
    expect(notAllowed).toContain('Only *release-manager* may use `force=true`');

    const before = stack().slack.topLevelPosts().length;
    await answer('/release', 'checkout 1.5.0-bad force=true', PEOPLE.frank, (a) => a.includes('is posted in'));
    const forced = JSON.stringify((await postAfter(before)).args.blocks);
    expect(forced).toContain(`*Forced past the hold* of rollback #${done.id} by <@${PEOPLE.frank}>`);
    expect(stack().audit().find((r) => r.action === 'request.hold_forced')).toMatchObject({ actor: PEOPLE.frank, detail: { version: '1.5.0-bad', hold: { operation: done.id } } });
  }, 240_000);

  it("the incident post's Freeze button stops the line, for release managers only", async () => {
    const incident = stack().slack.topLevelPosts().find((c) => c.args.channel === '#incidents')!;
    const post = { channel: String(incident.response.channel), ts: String(incident.response.ts) };
    const operationId = stack().operations()[0]!.id;
    const stranger = await stack().click(PEOPLE.requester, 'incident.freeze', operationId, post);
    expect(await stack().waitFor(() => stack().answers(stranger.responseUrl)[0], 'no answer to the stranger')).toContain('only release-manager may freeze');
    const manager = await stack().click(PEOPLE.frank, 'incident.freeze', operationId, post);
    expect(await stack().waitFor(() => stack().answers(manager.responseUrl)[0], 'no answer to the release manager')).toContain('production is frozen until someone runs `/release unfreeze production`');
    const refused = await answer('/release', 'checkout 1.6.0', PEOPLE.requester, (a) => a.includes('refused'));
    expect(refused).toContain(`stop the line after rollback #${operationId}`);
    expect(await answer('/release', 'unfreeze production', PEOPLE.frank, (a) => a.includes('Ended'))).toContain('Releases in production may go ahead');
  }, 60_000);

  it('in a freeze window a release is refused with the reason and end, a critical hotfix is allowed and marked, a rollback is posted', async () => {
    const frozen = await answer('/release', 'freeze production 2h reason="sale weekend"', PEOPLE.alice, (a) => a.includes('frozen'));
    const end = /frozen until (\d{4}-\d\d-\d\d \d\d:\d\d UTC)/.exec(frozen)![1]!;

    const refused = await answer('/release', 'checkout 1.6.0', PEOPLE.requester, (a) => a.includes('refused'));
    expect(refused).toContain('“sale weekend”');
    expect(refused).toContain(`until ${end}`);
    expect(stack().audit().filter((r) => r.action === 'request.refused' && r.detail.why === 'freeze').at(-1)).toMatchObject({ detail: { version: '1.6.0', freeze: { reason: 'sale weekend' } } });

    let before = stack().slack.topLevelPosts().length;
    await answer('/hotfix', 'checkout 1.4.3 urgency=critical reason="card payments fail"', PEOPLE.requester, (a) => a.includes('is posted in'));
    expect(JSON.stringify((await postAfter(before)).args.blocks)).toContain(`*Made during a freeze*: “sale weekend”, until ${end}`);
    expect(await answer('/hotfix', 'checkout 1.4.4 urgency=low reason="copy change"', PEOPLE.requester, (a) => a.includes('refused'))).toContain('Only critical and high hotfixes go ahead');

    before = stack().slack.topLevelPosts().length;
    await answer('/rollback', 'checkout reason="back to the last good one"', PEOPLE.oscar, (a) => a.includes('is posted in'));
    expect(JSON.stringify((await postAfter(before)).args.blocks)).toContain('back to the last good one');

    const status = await answer('/release', 'status checkout', PEOPLE.requester, (a) => a.includes('Freezes in force'));
    expect(status).toContain('“sale weekend”, started by <@U01ALICE>');
    expect(status).toContain('`1.5.0-bad`');
  }, 60_000);
});
