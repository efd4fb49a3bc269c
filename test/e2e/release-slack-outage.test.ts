import { describe, expect, it } from 'vitest';
import { PEOPLE, useReleaseStack } from '../support/release-stack.js';

/*
 * Must-show 6 of issue #10, end to end: the Slack Web API answering 500 for 20 s and then 429 during a release.
 * The release goes on at its own pace; every message waits in the outbox and arrives once, in order, when Slack
 * is back.
 */
describe('Slack down during a release, end to end', () => {
  const stack = useReleaseStack();

  it('does not slow the release, and delivers every message once, in order, when Slack is back', async () => {
    const card = await stack().release('1.5.0');
    const op = stack().operationOf(card.requestId)!;
    await stack().waitFor(() => (stack().operationOf(card.requestId)!.phase === 'hold' ? true : undefined), 'no first step', 60_000);

    const outageStart = Date.now();
    stack().slack.failFor('*', { status: 500 }, 20_000);
    stack().slack.failFor('*', { status: 429, retryAfter: 2 }, 6_000);
    // While Slack answers 500, the release moves on: at least two more steps within the 20 s.
    await stack().waitFor(() => (stack().operationOf(card.requestId)!.pause?.reason === 'promotion' ? true : undefined), 'the release stalled while Slack was down', 90_000);
    const stepsWhileDown = stack().audit().filter((r) => r.action === 'operation.step' && r.detail.operation === op.id && Date.parse(r.at) >= outageStart && Date.parse(r.at) < outageStart + 20_000);
    expect(stepsWhileDown.length).toBeGreaterThanOrEqual(1);
    expect(stack().slack.okCalls('chat.postMessage').filter((c) => c.args.thread_ts === card.ts && c.at >= outageStart && c.at < outageStart + 20_000)).toEqual([]);

    await stack().waitFor(() => (Date.now() > outageStart + 26_000 ? true : undefined), 'the outage did not end', 40_000);
    await stack().click(PEOPLE.alice, 'release.promote', op.id, card);
    await stack().waitFor(() => (stack().operationOf(card.requestId)!.state === 'promoted' ? true : undefined), 'the release did not end', 120_000);

    // Every outbox entry was delivered once, in the order it was written, per channel.
    await stack().waitFor(() => (stack().outbox().every((e) => e.sent) ? true : undefined), 'the outbox did not drain', 60_000);
    const entries = stack().outbox().filter((e) => e.threadTs === card.ts);
    const posted = stack().thread(card).map((c) => (c.args.metadata as { event_payload: { key: string } }).event_payload.key);
    expect(posted).toEqual(entries.map((e) => e.key));
    expect(new Set(posted).size).toBe(posted.length);
    expect(stack().slack.calls.some((c) => c.response.ok === false && c.method === 'chat.postMessage')).toBe(true);
  }, 300_000);
});
