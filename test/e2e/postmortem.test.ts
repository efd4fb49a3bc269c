import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { useReleaseStack } from '../support/release-stack.js';

/*
 * Must-show 1 of issue #12, end to end: after a bad canary is rolled back automatically, the incident post's
 * thread holds a Markdown file, the post-mortem draft, whose timeline lists in order and with times the approval,
 * each step, the failing verdict with error-rate's values, the drain, the rollback and the verification, and whose
 * impact section gives the failed canary requests computed from Prometheus, within 5 % of the simulator's own
 * counters over the same window. The service gets 10,000 requests per second, so that the canary's 5 % share
 * serves enough failures in a few seconds for 5 % to be a fair test of the figure rather than of chance.
 */

/** A figure as the draft writes it: four significant digits. */
const figure = (n: number | null) => String(Number(n!.toPrecision(4)));

describe('the post-mortem draft of an automated rollback, end to end', () => {
  const stack = useReleaseStack({ requestsPerSecond: { checkout: 10_000 } });

  it('is a Markdown file in the incident thread: the timeline in order, and the failed canary requests from Prometheus', async () => {
    const card = await stack().release('1.5.0-bad');
    const done = await stack().ended(card.requestId, 'the bad release did not end', 120_000);
    expect(done).toMatchObject({ state: 'rolled-back', rollback: { trigger: 'verdict' } });

    const slack = stack().slack;
    const file = await slack.waitFor(() => slack.files.find((f) => f.name === `postmortem-${done.id}-checkout-production.md`), 30_000);
    const post = slack.okCalls('chat.postMessage').find((c) => c.args.channel === '#incidents')!;
    expect(file).toMatchObject({ channel: post.response.channel, threadTs: post.response.ts });
    const shared = slack.messages.get(file.channel)!.get(file.ts) as { thread_ts?: string; files?: { id: string }[] };
    expect(shared).toMatchObject({ thread_ts: post.response.ts, files: [{ id: file.id }] });

    const markdown = file.content;
    expect(markdown).toContain('| Severity | high: error-rate is a critical metric |');
    expect(markdown).toContain('| Status | draft |');

    // The timeline, in order, each row with its UTC time.
    const rows = markdown.split('## Timeline (UTC)')[1]!.split('## Impact')[0]!.split('\n').filter((line) => line.startsWith('| 20'));
    for (const row of rows) expect(row).toMatch(/^\| \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \| /);
    const errorRate = done.rollback!.failing.find((f) => f.metric === 'error-rate')!;
    const steps = Array.from({ length: done.rollback!.stepReached }, (_, i) => `Step ${i + 1} of 4: ${[5, 25, 50, 100][i]} % of traffic on the canary`);
    const expected = [
      'Approved by U01ALICE (release-manager)',
      ...steps,
      `Verdict fail: error-rate high: canary ${figure(errorRate.canary)} vs baseline ${figure(errorRate.baseline)}`,
      'Automated rollback decided',
      'Traffic drained',
      'Rolled back: the stable runs',
      'Verified:',
    ];
    const found = expected.map((text) => rows.findIndex((row) => row.includes(text)));
    expect(found.map((index, i) => [expected[i], index >= 0])).toEqual(expected.map((text) => [text, true]));
    expect([...found].sort((a, b) => a - b)).toEqual(found);

    // The impact: the failed canary requests from Prometheus, against the simulator's counters over the same window.
    const failed = Number(/- Failed requests \(5xx\): \*\*(\d+)\*\*/.exec(markdown)?.[1]);
    const requests = Number(/- Requests served by the canary: \*\*(\d+)\*\*/.exec(markdown)?.[1]);
    const query = /sum\(increase\(http_requests_total\{app="checkout",version="canary",status=~"5.."\}\[(\d+)ms\]\)\) @ (\S+)/.exec(markdown)!;
    const end = new Date(query[2]!);
    const start = new Date(end.getTime() - Number(query[1]));
    const truth = stack().simulator.served('checkout', 'canary', start, end);
    expect(truth.errors).toBeGreaterThan(50);
    expect(Math.abs(failed - truth.errors)).toBeLessThanOrEqual(0.05 * truth.errors);
    expect(Math.abs(requests - truth.requests)).toBeLessThanOrEqual(0.05 * truth.requests);
    expect(markdown).toMatch(/- Latency: latency-p99: canary [\d.]+ vs baseline [\d.]+ \(\+[\d.]+ %\)/);

    // Stored, and printed by the CLI as stored; the incident post says where the draft is.
    const printed = await runCli(['postmortem', String(done.id), '--db', stack().db]);
    expect(printed).toMatchObject({ code: 0, stdout: `${markdown.trimEnd()}\n` });
    await stack().waitFor(() => stack().incidents().find((p) => p.includes('Draft attached in this thread') && p.includes('Mitigated')), 'the incident post does not show the draft');
    expect(stack().audit().filter((r) => r.action === 'postmortem.drafted')).toHaveLength(1);
  }, 180_000);
});
