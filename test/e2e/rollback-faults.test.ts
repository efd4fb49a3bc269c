import { describe, expect, it } from 'vitest';
import { PEOPLE, useReleaseStack } from '../support/release-stack.js';

/*
 * Must-show 5 of issue #11, end to end: a rollback meets a Kubernetes API server that answers 409 Conflict (a
 * competing writer, for real) and 500: it re-reads, backs off, retries and completes. An API server that answers
 * 500 for good: the rollback keeps trying for `rollbackRetryTimeout`, then ends failed and escalates in the
 * incident channel, paging the on-call role, with the steps left to do by hand.
 */

const STABLE = '/apis/apps/v1/namespaces/shop/deployments/checkout';
const RETRY_TIMEOUT_MS = 15_000;

describe('a rollback against a failing API server, end to end', () => {
  const stack = useReleaseStack({ rollbackRetryTimeout: `${RETRY_TIMEOUT_MS / 1000}s` });

  it('409 Conflict and 500 on the stable’s rollback: retried, and the rollback completes', async () => {
    const before = await stack().cluster();
    const card = await stack().request('/rollback', 'checkout reason="payment errors after 1.4.2"');
    // Two competing writes (a real resourceVersion conflict each), then 500 on more attempts than one call retries.
    const faults = [
      stack().kube.inject({ path: STABLE, method: 'PATCH', concurrentWrite: true, times: 2 }),
      stack().kube.inject({ path: STABLE, method: 'PATCH', status: 500, times: 6 }),
    ];
    try {
      await stack().click(PEOPLE.oscar, 'approval.approve', card.requestId, card);
      const done = await stack().ended(card.requestId, 'the rollback did not end', 120_000);
      expect(done.state).toBe('rolled-back');

      const answers = stack().kube.requests.filter((r) => r.method === 'PATCH' && r.path === STABLE).map((r) => r.status);
      expect(answers.filter((s) => s === 409).length).toBeGreaterThanOrEqual(2);
      expect(answers.filter((s) => s === 500)).toHaveLength(6);
      expect(answers.at(-1)).toBe(200);
      // The cluster failed one whole attempt: recorded, and tried again after a back-off.
      const failures = stack().audit().filter((r) => r.action === 'operation.action_failed' && r.detail.operation === done.id);
      expect(failures.length).toBeGreaterThanOrEqual(1);
      expect(String(failures[0]!.detail.error)).toContain('500');

      const after = await stack().cluster();
      expect(after.stable.image).toBe(done.to!.image);
      expect(after.stable.image).not.toBe(before.stable.image);
      expect(after.traffic).toMatchObject({ stable: 100, canary: 0 });
      await stack().waitFor(() => stack().incidents().find((p) => p.includes(`Operation #${done.id}`) && p.includes('*Verified healthy* <!date')), 'no incident post for the rollback');
    } finally {
      faults.forEach((remove) => remove());
    }
  }, 180_000);

  it('500 for good: the rollback ends failed after rollbackRetryTimeout and escalates with the kubectl steps left', async () => {
    const before = await stack().cluster();
    const card = await stack().request('/rollback', 'checkout reason="checkout returns 502"');
    const remove = stack().kube.inject({ path: STABLE, method: 'PATCH', status: 500 });
    try {
      await stack().click(PEOPLE.oscar, 'approval.approve', card.requestId, card);
      const done = await stack().ended(card.requestId, 'the rollback never gave up', 120_000);
      expect(done.state).toBe('failed');
      expect(done.outcome).toContain('the cluster failed every attempt for 15 s');

      // Bounded: it tried for the whole timeout, and gave up within one back-off (16 s at most) and one attempt after.
      const rb = done.rollback!;
      const tried = Date.parse(done.finishedAt!) - Date.parse(rb.decidedAt);
      expect(tried).toBeGreaterThanOrEqual(RETRY_TIMEOUT_MS);
      expect(tried).toBeLessThan(RETRY_TIMEOUT_MS + 16_000 + 10_000);
      expect(stack().kube.requests.filter((r) => r.method === 'PATCH' && r.path === STABLE && r.status === 500).length).toBeGreaterThan(5);

      // Traffic was drained before the stable was touched; the stable is as it was.
      const after = await stack().cluster();
      expect(after.traffic).toMatchObject({ stable: 100, canary: 0 });
      expect(after.stable.image).toBe(before.stable.image);

      // The thread and the incident channel: what was done, what was not, the commands to finish by hand.
      const undo = `kubectl -n shop rollout undo deployment/checkout --to-revision=${done.to!.revision}`;
      const note = await stack().waitFor(() => stack().thread(card).find((c) => String(c.args.text).includes('The rollback cannot finish')), 'the thread was not told');
      expect(JSON.stringify(note.args.blocks)).toContain(undo);
      const incident = await stack().waitFor(() => stack().incidents().find((p) => p.includes(`Operation #${done.id}`) && p.includes('Escalated')), 'no escalation in the incident channel');
      expect(incident).toContain('Manual rollback');
      expect(incident).toContain('Done: traffic moved to the stable.');
      expect(incident).toContain(undo);
      expect(incident).toContain('kubectl -n shop rollout status deployment/checkout');
      expect(incident).toContain('*Traffic drained* <!date');
      expect(stack().audit().filter((r) => r.action === 'rollback.stuck' && r.detail.operation === done.id)).toHaveLength(1);
      // It pages the on-call role (@oncall, usergroup S02OC). In Slack only `<!subteam^ID>` notifies a group: a bare
      // "@oncall" (what incident.ts renders from the role's `@handle`, posted without link_names) notifies nobody.
      // Fails until the Slack adapter renders a page of a usergroup as `<!subteam^ID|@handle>`.
      expect(incident).toContain('<!subteam^S02OC');
    } finally {
      remove();
    }
  }, 180_000);
});
