import { describe, expect, it } from 'vitest';
import { PEOPLE, useReleaseStack } from '../support/release-stack.js';

/*
 * Must-show 3 of issue #11, end to end: a hotfix's path follows its urgency. `critical`, approved by one member
 * of the on-call user group, goes straight to the stable Deployment and is watched: a version that breaks its
 * metrics is rolled back with no click. `high` needs a team lead and a platform owner, then runs a fast canary:
 * 50 % then 100 %, with no promote pause.
 */

/** The example config's team lead and platform owner, by user id. */
const CAROL = 'U02CAROL';
const DAVE = 'U03DAVE';

describe('hotfixes by urgency, end to end', () => {
  const stack = useReleaseStack();

  /** Every version of a card Slack showed: the post and each update. */
  const cardVersions = (card: { ts: string }) =>
    [...stack().slack.okCalls('chat.postMessage').filter((c) => String(c.response.ts) === card.ts), ...stack().slack.okCalls('chat.update').filter((c) => c.args.ts === card.ts)].map((c) =>
      JSON.stringify(c.args.blocks),
    );

  it('critical: one on-call approval, the stable updated directly (no canary), rolled back automatically when it breaks', async () => {
    const before = await stack().cluster();
    const card = await stack().request('/hotfix', 'checkout 1.5.0-bad urgency=critical reason="card payments failing"');
    await stack().click(PEOPLE.oscar, 'approval.approve', card.requestId, card);
    const started = await stack().waitFor(() => stack().operationOf(card.requestId), 'one on-call approval did not start the critical hotfix');
    expect(started).toMatchObject({ kind: 'hotfix', strategy: 'rolling', approvedBy: [PEOPLE.oscar] });
    expect(cardVersions(card).some((c) => c.includes(`Approved by <@${PEOPLE.oscar}> as *on-call*`))).toBe(true);

    // Straight to the stable: its image becomes the hotfix's while the canary keeps its image, empty, with no traffic.
    const hotfixImage = before.stable.image.replace(/:[^:]+$/, ':1.5.0-bad');
    const updated = await stack().waitFor(async () => {
      const now = await stack().cluster();
      return now.stable.image === hotfixImage ? now : undefined;
    }, 'the stable never ran the hotfix', 60_000);
    expect(updated.canary.image).toBe(before.canary.image);
    expect(updated.canary.replicas.desired).toBe(0);
    expect(updated.traffic.canary).toBe(0);

    const done = await stack().ended(card.requestId, 'the broken hotfix was not rolled back', 150_000);
    expect(done.state).toBe('rolled-back');
    expect(done.rollback).toMatchObject({ trigger: 'watch', afterPromotion: true });
    expect(done.rollback!.failing.length).toBeGreaterThan(0);
    // The canary was never deployed, nor given traffic.
    const actions = stack().audit().filter((r) => r.action === 'operation.action' && r.detail.operation === done.id).map((r) => (r.detail.action as { type: string }).type);
    expect(actions).toContain('set-stable-image');
    expect(actions).not.toContain('deploy-canary');
    expect(stack().audit().filter((r) => r.action === 'operation.step' && r.detail.operation === done.id && Number(r.detail.weight) < 100)).toEqual([]);

    const after = await stack().cluster();
    expect(after.stable.image).toBe(before.stable.image);
    expect(after.traffic).toMatchObject({ stable: 100, canary: 0 });
    expect(stack().threadTexts(card).some((t) => t.includes('Rolling back automatically'))).toBe(true);
    await stack().waitFor(() => stack().incidents().find((p) => p.includes('Automated rollback after promotion') && p.includes(`Operation #${done.id}`)), 'no incident post for the hotfix');
  }, 240_000);

  it('high: one approval is not enough, the second role grants; it runs 50 % then 100 % with no promote pause', async () => {
    const card = await stack().request('/hotfix', 'checkout 1.5.1 urgency=high reason="refunds double-charged"');
    await stack().click(CAROL, 'approval.approve', card.requestId, card);
    await stack().waitFor(() => cardVersions(card).find((c) => c.includes('Still needed: one approval from each of *platform-owner*')), 'the card does not ask for the platform owner');
    expect(stack().operationOf(card.requestId)).toBeUndefined();

    await stack().click(DAVE, 'approval.approve', card.requestId, card);
    const started = await stack().waitFor(() => stack().operationOf(card.requestId), 'the second role did not start the high hotfix');
    expect(started).toMatchObject({ kind: 'hotfix', strategy: 'canary', steps: [50, 100], pauseForApprovalAt: [] });
    expect(started.approvedBy.sort()).toEqual([CAROL, DAVE].sort());

    const atHalf = await stack().waitFor(() => (stack().operationOf(card.requestId)!.weight === 50 ? stack().cluster() : undefined), 'the hotfix never reached 50 %', 90_000);
    expect(atHalf.traffic.canary).toBe(50);
    expect(atHalf.canary.image).toMatch(/:1\.5\.1$/);

    const done = await stack().ended(card.requestId, 'the high hotfix did not end', 150_000);
    expect(done.state).toBe('promoted');
    expect(done.promotions).toEqual([]);
    expect(stack().audit().filter((r) => r.action === 'operation.awaiting_promotion' && r.detail.operation === done.id)).toEqual([]);
    const steps = stack().audit().filter((r) => r.action === 'operation.step' && r.detail.operation === done.id).map((r) => r.detail.weight);
    expect(steps).toEqual([50, 100]);
    expect((await stack().cluster()).stable.image).toMatch(/:1\.5\.1$/);
  }, 240_000);
});
