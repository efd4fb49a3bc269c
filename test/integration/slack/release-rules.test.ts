import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PEOPLE, responses, startHarness, type Harness } from '../../support/slack-standin/harness.js';
import { manualClock } from '../../support/memory-ports.js';

/*
 * Freezes through the real Bolt app, with the example config's weekend freeze ("0 18 * * 5" for 60h, UTC) and a
 * clock on a Sunday morning inside it: what is refused, what goes ahead marked, and the release managers' commands.
 */
describe('freezes in Slack', () => {
  let harness: Harness;
  const clock = manualClock('2026-11-22T10:00:00Z');

  beforeAll(async () => {
    harness = await startHarness({ clock, keepFreezes: true, statusTimeoutMs: 2_000 });
  });
  afterAll(async () => {
    await harness.close();
  });

  /** The last answer sent to a command's response_url once `done` accepts it. */
  async function answer(command: string, text: string, user: string = PEOPLE.requester, done: (text: string) => boolean = () => true): Promise<string> {
    const sent = await harness.command(command, text, user);
    expect(sent.status).toBe(200);
    const found = await harness.standin.waitFor(() => responses(harness.standin, sent.responseUrl).map((r) => String(r.text)).find(done), 15_000);
    return found;
  }

  const posted = (text: string) => text.includes('is posted in');

  it('refuses a release in the weekend freeze with its reason and its end in UTC, audited', async () => {
    const text = await answer('/release', 'checkout 1.5.0', PEOPLE.requester, (t) => t.includes('refused'));
    expect(text).toContain('A release of checkout `1.5.0` in production is refused: production is frozen, “weekend freeze”, scheduled `0 18 * * 5` (UTC), until 2026-11-23 06:00 UTC');
    expect(harness.standin.topLevelPosts()).toEqual([]);
    const refusal = harness.audit().find((r) => r.action === 'request.refused')!;
    expect(refusal.actor).toBe(PEOPLE.requester);
    expect(JSON.parse(refusal.detail)).toMatchObject({ kind: 'release', why: 'freeze', version: '1.5.0', freeze: { reason: 'weekend freeze', endsAt: '2026-11-23T06:00:00.000Z' } });
  });

  it('lets a high hotfix through marked as made during the freeze, refuses a medium one, and always posts a rollback', async () => {
    await answer('/hotfix', 'checkout 1.4.3 urgency=high reason="checkout fails for PayPal"', PEOPLE.requester, posted);
    const card = JSON.stringify(harness.standin.topLevelPosts().at(-1)!.args.blocks);
    expect(card).toContain('*Made during a freeze*: “weekend freeze”, until 2026-11-23 06:00 UTC');
    expect(await answer('/hotfix', 'checkout 1.4.4 urgency=medium reason="copy change"', PEOPLE.requester, (t) => t.includes('refused'))).toContain('Only critical and high hotfixes go ahead during a freeze');
    await answer('/rollback', 'checkout reason="errors after the deploy"', PEOPLE.oscar, posted);
  });

  it('freeze, status and unfreeze are for release managers; denials are told and audited', async () => {
    expect(await answer('/release', 'freeze staging 90m reason="load test"', PEOPLE.requester)).toContain('Not frozen: only release-manager may freeze');
    const frozen = await answer('/release', 'freeze staging 90m reason="load test"', PEOPLE.alice);
    expect(frozen).toContain('staging is frozen until 2026-11-22 11:30 UTC: “load test”');
    expect(await answer('/release', 'checkout 1.5.0 env=staging', PEOPLE.requester, (t) => t.includes('refused'))).toContain('“load test”, started by <@U01ALICE>, until 2026-11-22 11:30 UTC');

    const status = await answer('/release', 'status', PEOPLE.requester, (t) => t.includes('Freezes in force'));
    expect(status).toContain(':snowflake: *production*: “weekend freeze”');
    expect(status).toContain(':snowflake: *staging*: “load test”');

    expect(await answer('/release', 'unfreeze staging', PEOPLE.requester)).toContain('only release-manager may unfreeze');
    // frank holds the role through @release-managers.
    expect(await answer('/release', 'unfreeze staging', PEOPLE.frank)).toBe(':white_check_mark: Ended the freeze of staging started by hand. Releases in staging may go ahead.');
    expect(await answer('/release', 'unfreeze production', PEOPLE.frank)).toContain('Still in force, from the config\'s schedule: “weekend freeze” until 2026-11-23 06:00 UTC');
    expect(await answer('/release', 'unhold checkout 1.5.0', PEOPLE.requester)).toContain('only release-manager may unhold');
    expect(await answer('/release', 'unhold checkout 1.5.0', PEOPLE.alice)).toContain('Nothing to lift: `1.5.0` of checkout is not held');

    const actions = harness.audit().map((r) => [r.actor, r.action]);
    expect(actions).toEqual(
      expect.arrayContaining([
        [PEOPLE.requester, 'freeze.denied'],
        [PEOPLE.alice, 'freeze.started'],
        [PEOPLE.requester, 'unfreeze.denied'],
        [PEOPLE.frank, 'freeze.ended'],
        [PEOPLE.requester, 'unhold.denied'],
        [PEOPLE.alice, 'hold.lifted'],
      ]),
    );
  });

  it('bad input gets what was wrong and the usage; a Freeze click on no operation is refused and audited', async () => {
    const sent = await harness.command('/release', 'freeze production reason="x"', PEOPLE.alice);
    const reply = JSON.parse(sent.body) as { text: string; blocks: unknown[] };
    expect(JSON.stringify(reply)).toContain('say how long the freeze lasts');
    expect(JSON.stringify(reply.blocks)).toContain('/release unfreeze &lt;environment&gt;');
    const click = await harness.click({ user: PEOPLE.alice, actionId: 'incident.freeze', value: '99', channel: 'C0INCIDENT', messageTs: '1763800000.000100' });
    expect(click.status).toBe(200);
    const told = await harness.standin.waitFor(() => responses(harness.standin, click.responseUrl)[0]);
    expect(String(told.text)).toContain('Not frozen: there is no operation #99');
    expect(harness.audit().filter((r) => r.action === 'freeze.denied').map((r) => JSON.parse(r.detail).why)).toContain('not-found');
  });
});
