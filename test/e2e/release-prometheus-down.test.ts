import { describe, expect, it } from 'vitest';
import { PEOPLE, useReleaseStack } from '../support/release-stack.js';

/*
 * Must-show 4 of issue #10, end to end: Prometheus stopped in the middle of a release. The canary can no longer
 * be judged: the release pauses after maxInconclusive verdicts (never promoted, never rolled back) and its
 * thread says why; Prometheus back and Resume clicked, it carries on to promotion.
 */
describe('Prometheus going away mid-release, end to end', () => {
  const stack = useReleaseStack();

  it('pauses the release without rolling it back, says why, and carries on once Prometheus is back and Resume is clicked', async () => {
    const card = await stack().release('1.5.0');
    const op = stack().operationOf(card.requestId)!;
    await stack().waitFor(() => (stack().operationOf(card.requestId)!.step >= 1 ? true : undefined), 'the release did not reach its second step', 90_000);
    const weight = stack().operationOf(card.requestId)!.weight;

    await stack().prometheus.pause();
    const paused = await stack().waitFor(() => {
      const now = stack().operationOf(card.requestId)!;
      return now.state !== 'running' ? now : undefined;
    }, 'the release did not pause without its metrics', 60_000);
    expect(paused).toMatchObject({ state: 'paused', pause: { reason: 'inconclusive' } });
    expect((await stack().cluster()).traffic.canary).toBe(paused.weight);
    expect(paused.weight).toBeGreaterThanOrEqual(weight);
    expect(stack().audit().filter((r) => r.action.startsWith('rollback.'))).toEqual([]);
    const why = await stack().waitFor(() => stack().threadTexts(card).find((t) => t.includes('could not be judged')), 'the thread was not told why');
    expect(why).toContain('3 times in a row');

    await stack().prometheus.resume();
    await stack().click(PEOPLE.alice, 'release.resume', op.id, card);
    await stack().waitFor(() => (stack().operationOf(card.requestId)!.pause?.reason === 'promotion' ? true : undefined), 'the release did not carry on to its pause at 50 %', 120_000);
    await stack().click(PEOPLE.alice, 'release.promote', op.id, card);
    const done = await stack().ended(card.requestId, 'the release did not end', 120_000);
    expect(done.state).toBe('promoted');
    expect((await stack().cluster()).stable.image).toBe('registry.example.com/shop/checkout:1.5.0');
  }, 360_000);
});
