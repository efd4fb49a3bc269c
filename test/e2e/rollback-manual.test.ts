import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { PEOPLE, useReleaseStack } from '../support/release-stack.js';

/*
 * Must-shows 1 and 2 of issue #11, end to end: a `/rollback` needing one approver (production's rollback rule:
 * release-manager or on-call, one of them) is refused to its requester, counted once for a double click, and
 * does what `kubectl rollout undo` does, told in its thread and the incident channel with its timeline; and a
 * `/rollback` while a canary release is at 25 % stops the release, drains the canary before the stable changes,
 * and completes.
 */

/** How the incident post writes a time: Slack's date token with the epoch second. */
const slackTime = (iso: string | null | undefined) => `<!date^${Math.floor(Date.parse(iso!) / 1000)}^`;

describe('a manual rollback, end to end', () => {
  // Steps long enough that the release is still at 25 % when the rollback is asked for and approved.
  const stack = useReleaseStack({ stepDuration: '20s' });

  it('the requester cannot approve it; a double click by the on-call rolls back once, as kubectl rollout undo would, told with its timings', async () => {
    const before = await stack().cluster();
    const historyBefore = await stack().rolloutHistory();
    // `kubectl rollout undo` goes to the newest revision before the current one; it comes back as the next number.
    const previous = Math.max(...historyBefore.map((r) => r.revision).filter((r) => r !== before.stable.revision));
    const previousImage = before.history.find((r) => r.revision === previous)!.images.app!;
    const newest = Math.max(...historyBefore.map((r) => r.revision)) + 1;
    expect(previousImage).not.toBe(before.stable.image);

    const card = await stack().request('/rollback', 'checkout reason="error spike after 1.4.2"');

    const self = await stack().click(PEOPLE.requester, 'approval.approve', card.requestId, card);
    const refusal = await stack().waitFor(() => stack().answers(self.responseUrl)[0], 'the requester’s own approval got no answer');
    expect(refusal).toContain('you cannot approve it yourself');
    expect(stack().operationOf(card.requestId)).toBeUndefined();

    // Oscar, on call through @oncall, clicks Approve twice at once.
    const clicks = await Promise.all([0, 1].map(() => stack().click(PEOPLE.oscar, 'approval.approve', card.requestId, card)));
    expect(clicks.map((c) => c.status)).toEqual([200, 200]);
    const done = await stack().ended(card.requestId, 'the approved rollback did not end', 120_000);
    expect(done).toMatchObject({ kind: 'rollback', state: 'rolled-back', approvedBy: [PEOPLE.oscar], rollback: { trigger: 'manual', by: PEOPLE.requester } });

    // One rollback: one operation for the request, one decision, one grant.
    expect(stack().operations().filter((o) => o.requestId === card.requestId)).toHaveLength(1);
    expect(stack().audit().filter((r) => r.action === 'rollback.manual')).toHaveLength(1);
    expect(stack().audit().filter((r) => r.action === 'approval.granted' && r.detail.request === card.requestId)).toHaveLength(1);
    // The click that lost is told it changed nothing.
    const echo = await stack().waitFor(() => clicks.flatMap((c) => stack().answers(c.responseUrl)).find((t) => /already approved/i.test(t)), 'the second click was not answered');
    expect(echo).toMatch(/changed nothing|You already approved/);

    // As kubectl's undo: the previous revision's template is now the newest revision, and the stable runs its image.
    const historyAfter = await stack().rolloutHistory();
    const moved = historyBefore.find((r) => r.revision === previous)!;
    expect(historyAfter).toEqual([...historyBefore.filter((r) => r.revision !== previous), { revision: newest, changeCause: moved.changeCause }]);
    const image = await stack().kubectl('-n', 'shop', 'get', 'deployment/checkout', '-o', 'jsonpath={.spec.template.spec.containers[?(@.name=="app")].image}');
    expect(image.stdout).toBe(previousImage);
    const after = await stack().cluster();
    expect(after.stable).toMatchObject({ image: previousImage, revision: newest });
    expect(after.traffic).toMatchObject({ stable: 100, canary: 0 });

    // The card's thread tells each step, in order.
    const thread = stack().threadTexts(card);
    const steps = [
      `Rolling back to \`${done.to!.version}\` (revision ${previous}), requested by <@${PEOPLE.requester}>: error spike after 1.4.2`,
      'Traffic drained: all of it on the stable',
      `Stable rolled back to \`${done.to!.version}\``,
      'Rolled back and verified',
    ];
    const at = steps.map((step) => thread.findIndex((t) => t.includes(step)));
    expect(at.every((i) => i >= 0), `thread: ${JSON.stringify(thread)}`).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);

    // The incident channel: one post, titled as a manual rollback, with the time of each step of the timeline.
    const incident = await stack().waitFor(() => stack().incidents().find((p) => p.includes('Manual rollback') && p.includes('*Verified healthy* <!date')), 'no incident post with the whole timeline');
    expect(stack().incidents()).toHaveLength(1);
    const rb = done.rollback!;
    for (const [label, iso] of [['Rollback decided', rb.decidedAt], ['Traffic drained', rb.drainedAt], ['Rolled back', rb.restoredAt], ['Verified healthy', rb.verifiedAt]] as const) {
      expect(incident).toContain(`*${label}* ${slackTime(iso)}`);
    }
    expect(incident).toContain(`<@${PEOPLE.oscar}>`);
  }, 240_000);

  it('a /rollback while a canary release is at 25 % stops the release, drains the canary before the stable changes, and completes', async () => {
    const release = await stack().release('1.5.0');
    await stack().waitFor(() => (stack().operationOf(release.requestId)!.weight === 25 ? true : undefined), 'the release never reached 25 %', 120_000);
    expect((await stack().cluster()).traffic.canary).toBe(25);
    const stableBefore = (await stack().cluster()).stable;

    const card = await stack().request('/rollback', 'checkout reason="checkout latency doubled"');
    const since = performance.now();
    await stack().click(PEOPLE.frank, 'approval.approve', card.requestId, card);
    const rollback = await stack().waitFor(() => stack().operationOf(card.requestId), 'the approved rollback did not start');

    // The release ends where it was, said in its own thread and on its card.
    const stopped = await stack().ended(release.requestId, 'the release was not stopped', 30_000);
    expect(stopped.state).toBe('aborted');
    expect(stopped.outcome).toContain(`aborted by rollback #${rollback.id}`);
    const note = await stack().waitFor(() => stack().threadTexts(release).find((t) => t.includes(`rollback #${rollback.id}`)), 'the release thread was not told');
    expect(note).toContain(`Stopped at 25 % of traffic: rollback #${rollback.id}`);
    await stack().waitFor(() => (stack().cardNow({ ...release }).includes(`Aborted by rollback #${rollback.id}`) ? true : undefined), 'the release card does not show the rollback');

    const done = await stack().ended(card.requestId, 'the rollback did not end', 120_000);
    expect(done.state).toBe('rolled-back');

    // Traffic went to the stable first: the rollback's writes, in the order it made them and the cluster got them.
    const actions = stack()
      .audit()
      .filter((r) => r.action === 'operation.action' && r.detail.operation === rollback.id)
      .map((r) => (r.detail.action as { type: string; canary?: number }));
    expect(actions[0]).toEqual({ type: 'set-weight', canary: 0 });
    expect(actions.findIndex((a) => a.type === 'undo-stable')).toBeGreaterThan(0);
    const writes = stack().kube.requests.filter((r) => r.at >= since && r.method === 'PATCH' && r.status < 300 && r.name === 'checkout');
    const firstRoute = writes.findIndex((r) => r.resource === 'virtualservices');
    const firstStable = writes.findIndex((r) => r.resource === 'deployments');
    expect(firstRoute).toBeGreaterThanOrEqual(0);
    expect(firstStable).toBeGreaterThan(firstRoute);

    const after = await stack().cluster();
    expect(after.traffic).toMatchObject({ stable: 100, canary: 0 });
    expect(after.canary.replicas.desired).toBe(0);
    expect(after.stable.image).toBe(done.to!.image);
    expect(after.stable.image).not.toBe(stableBefore.image);
    await stack().waitFor(() => stack().incidents().find((p) => p.includes('Manual rollback') && p.includes(`Operation #${rollback.id}`) && p.includes('*Verified healthy* <!date')), 'no incident post for the second rollback');
  }, 300_000);
});
