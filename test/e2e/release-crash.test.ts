import { describe, expect, it } from 'vitest';
import { PEOPLE, useReleaseStack } from '../support/release-stack.js';
import { runCli } from '../support/cli.js';

/*
 * Must-show 5 of issue #10, end to end: `lifeguard start` killed with SIGKILL in the middle of a step, and again in
 * the middle of an automated rollback, then started again. Everything in flight resumes from the store: each
 * step and each rollback stage happens once, no Slack message is posted twice, and the audit log holds both
 * halves of each operation.
 */
describe('Lifeguard killed mid-release, end to end', () => {
  const stack = useReleaseStack({ child: true });

  /** Every thread post and incident post carries its outbox key: a key seen twice is a message posted twice. */
  function postedTwice(): string[] {
    const keys = stack().slack
      .okCalls('chat.postMessage')
      .map((c) => (c.args.metadata as { event_payload?: { key?: string } } | undefined)?.event_payload?.key)
      .filter((key): key is string => key !== undefined);
    return keys.filter((key, index) => keys.indexOf(key) !== index);
  }

  it('killed in the middle of a step, the release resumes where it was and finishes once', async () => {
    const card = await stack().release('1.5.0');
    const op = stack().operationOf(card.requestId)!;
    await stack().waitFor(() => (stack().operationOf(card.requestId)!.step === 1 && stack().operationOf(card.requestId)!.phase === 'hold' ? true : undefined), 'no second step', 90_000);
    const killedAt = stack().audit().at(-1)!.id;
    await stack().kill();
    await stack().startLifeguard();

    await stack().waitFor(() => (stack().operationOf(card.requestId)!.pause?.reason === 'promotion' ? true : undefined), 'the release did not resume to its pause at 50 %', 120_000);
    await stack().click(PEOPLE.alice, 'release.promote', op.id, card);
    expect((await stack().ended(card.requestId, 'the release did not end')).state).toBe('promoted');

    const audit = stack().audit().filter((r) => r.detail.operation === op.id);
    const steps = audit.filter((r) => r.action === 'operation.step').map((r) => r.detail.weight);
    expect(steps).toEqual([5, 25, 50, 100]);
    expect(audit.filter((r) => r.action === 'operation.finished')).toHaveLength(1);
    // Both halves: rows written before the kill and after the restart.
    expect(audit.some((r) => r.id <= killedAt) && audit.some((r) => r.id > killedAt)).toBe(true);
    await stack().waitFor(() => stack().threadTexts(card).find((t) => t.includes('Watch period over')), 'the last note never reached Slack', 60_000);
    expect(postedTwice()).toEqual([]);
  }, 420_000);

  it('killed in the middle of an automated rollback, the rollback finishes once', async () => {
    const card = await stack().release('1.5.1-bad');
    const op = stack().operationOf(card.requestId)!;
    await stack().waitFor(() => stack().audit().find((r) => r.action === 'rollback.automated' && r.detail.operation === op.id), 'the bad canary was not rolled back', 120_000);
    const killedAt = stack().audit().at(-1)!.id;
    await stack().kill();
    await stack().startLifeguard();

    const done = await stack().ended(card.requestId, 'the rollback did not finish after the restart');
    expect(done.state).toBe('rolled-back');
    const after = await stack().cluster();
    expect(after.traffic).toMatchObject({ stable: 100, canary: 0 });
    expect(after.canary.replicas.desired).toBe(0);

    const audit = stack().audit().filter((r) => r.detail.operation === op.id);
    for (const once of ['rollback.automated', 'rollback.drained', 'rollback.restored', 'rollback.verified', 'operation.finished']) {
      expect(audit.filter((r) => r.action === once), once).toHaveLength(1);
    }
    expect(audit.some((r) => r.id > killedAt)).toBe(true);
    await stack().waitFor(() => stack().incidents().find((p) => p.includes(':white_check_mark: *Verified healthy*')), 'the incident post was not completed', 60_000);
    expect(stack().incidents()).toHaveLength(1);
    expect(postedTwice()).toEqual([]);
    expect((await runCli(['audit', 'verify', '--db', stack().db])).code).toBe(0);
  }, 420_000);
});
