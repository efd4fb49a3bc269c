import { describe, expect, it } from 'vitest';
import { PEOPLE, useReleaseStack } from '../support/release-stack.js';

/*
 * Must-show 7 of issue #10, end to end: one release at a time per service and environment, and release
 * controls only for those who may approve releases there, every refusal audited; and (issue #11, item 6)
 * whoever was refused is told directly when the release ends.
 */
describe('release guards, end to end', () => {
  const stack = useReleaseStack();

  it('a second /release is refused with a link to the running one; /release abort without the role is refused and audited', async () => {
    const card = await stack().release('1.5.0');
    const op = stack().operationOf(card.requestId)!;

    const second = await stack().command('/release', 'checkout 1.6.0', PEOPLE.oscar);
    const refusal = await stack().waitFor(() => stack().answers(second.responseUrl).find((t) => t.includes('is busy')), 'the second /release was not refused');
    expect(refusal).toContain(`checkout/production is busy: release #${op.id} (1.4.2 → 1.5.0)`);
    expect(refusal).toContain(`https://slack.com/archives/${card.channel}/p${card.ts.replace('.', '')}`);
    expect(stack().audit()).toContainEqual(expect.objectContaining({ actor: PEOPLE.oscar, action: 'request.refused', detail: expect.objectContaining({ running: op.id, version: '1.6.0' }) }));

    const abort = await stack().command('/release', `abort ${op.id}`, PEOPLE.nobody);
    const denied = await stack().waitFor(() => stack().answers(abort.responseUrl).find((t) => t.includes('You may not abort')), 'the abort was not refused');
    expect(denied).toContain('release-manager');
    expect(stack().operationOf(card.requestId)!.state).toBe('running');
    expect(stack().audit()).toContainEqual(expect.objectContaining({ actor: PEOPLE.nobody, action: 'operation.control_denied', detail: expect.objectContaining({ operation: op.id, verb: 'abort', why: 'no-role' }) }));

    // Whoever may approve releases here can abort: the canary is drained and emptied.
    const allowed = await stack().command('/release', `abort ${op.id}`, PEOPLE.frank);
    await stack().waitFor(() => stack().answers(allowed.responseUrl).find((t) => t.includes('abort done')), 'the abort was not confirmed');
    const done = await stack().waitFor(() => (stack().operationOf(card.requestId)!.state === 'aborted' ? stack().operationOf(card.requestId) : undefined), 'the abort did not finish', 60_000);
    expect(done.rollback).toMatchObject({ trigger: 'abort', by: PEOPLE.frank });
    expect((await stack().cluster()).traffic).toMatchObject({ stable: 100, canary: 0 });
    expect(stack().incidents()).toEqual([]);
    // Refused while it ran, Oscar is told once, directly, that the service is free.
    const dm = await stack().waitFor(() => stack().slack.directMessagesTo(PEOPLE.oscar)[0], 'the refused requester was not told the lock is free');
    expect(dm.text).toBe(`checkout/production is free: release #${op.id} ended (aborted) — you can run /release checkout 1.6.0 env=production again`);
    expect(stack().slack.directMessagesTo(PEOPLE.oscar)).toHaveLength(1);
  }, 180_000);
});
