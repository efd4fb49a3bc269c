import { describe, expect, it } from 'vitest';
import type { RecordedCall } from '../support/slack-standin/web-api.js';
import { useReleaseStack } from '../support/release-stack.js';

/*
 * Must-show 3 of issue #12, end to end: the health summary of the running bot (as its cron would run it) against
 * the stand-ins and a Prometheus scraping live traffic. One message in the service's channel with each
 * environment's version and metrics; with Slack answering 429 it arrives once; with Prometheus stopped it is
 * posted anyway and says the metrics are unavailable.
 */
describe('health summary, end to end', () => {
  const stack = useReleaseStack();
  const keyOf = (call: RecordedCall) => (call.args.metadata as { event_payload?: { key?: string } } | undefined)?.event_payload?.key ?? '';
  const summaryPosts = (at: Date) => stack().slack.okCalls('chat.postMessage').filter((c) => keyOf(c).startsWith(`health-summary:#checkout-releases:${at.toISOString()}:`));
  const wholeSecond = () => new Date(Math.floor(Date.now() / 1000) * 1000);

  it('posts once per channel with versions and metrics, once through a 429, and without Prometheus says metrics are unavailable', async () => {
    const first = wholeSecond();
    expect(await stack().lifeguard.healthSummaries.runNow(first)).toBe(1);
    const [post] = await stack().waitFor(() => (summaryPosts(first).length ? summaryPosts(first) : undefined), 'the summary was not posted');
    const shown = JSON.stringify(post!.args.blocks);
    expect(shown).toContain('• *production*: `1.4.2` (revision 3) · no canary');
    expect(shown).toMatch(/error-rate [\d.]+ \(≤ [\d.]+\) :white_check_mark:/);
    expect(shown).toMatch(/success-rate [\d.]+ \(≥ [\d.]+\) :white_check_mark:/);

    stack().slack.failFor('chat.postMessage', { status: 429, retryAfter: 1 }, 1_500);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const second = wholeSecond();
    expect(await stack().lifeguard.healthSummaries.runNow(second)).toBe(1);
    await stack().waitFor(() => (summaryPosts(second).length ? true : undefined), 'the summary did not arrive after the 429s', 20_000);
    expect(stack().slack.callsTo('chat.postMessage').some((c) => keyOf(c).includes(second.toISOString()) && c.response.ok !== true)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(summaryPosts(second)).toHaveLength(1);

    await stack().prometheus.pause();
    const third = new Date(second.getTime() + 5_000);
    expect(await stack().lifeguard.healthSummaries.runNow(third)).toBe(1);
    const [down] = await stack().waitFor(() => (summaryPosts(third).length ? summaryPosts(third) : undefined), 'the summary was not posted without Prometheus');
    expect(down!.args.text).toBe('Health summary of 1 service; missing: metrics');
    expect(JSON.stringify(down!.args.blocks)).toContain('_metrics unavailable: Prometheus was not read_');
    expect(JSON.stringify(down!.args.blocks)).toContain('• *production*: `1.4.2` (revision 3) · no canary');
    await stack().prometheus.resume();
  }, 180_000);
});
