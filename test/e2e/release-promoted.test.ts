import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PEOPLE, useReleaseStack } from '../support/release-stack.js';
import { runCli } from '../support/cli.js';

const run = promisify(execFile);

/*
 * Must-show 1 of issue #10, end to end: /release through the real Bolt app over signed HTTP, an approval and a
 * Promote click, the canary judged by real Prometheus scraping the workload simulator every second, the cluster
 * moved by the real Kubernetes client against the API-server stand-in.
 */
describe('a good canary, end to end', () => {
  const stack = useReleaseStack();

  it('is promoted through 5 → 25 → 50 → 100 with a Promote click at 50 %, and ends on the new version', async () => {
    const card = await stack().release('1.5.0');
    const op = stack().operationOf(card.requestId)!;

    const paused = await stack().waitFor(() => {
      const now = stack().operationOf(card.requestId)!;
      return now.state === 'paused' && now.pause?.reason === 'promotion' ? now : undefined;
    }, 'the release did not reach its pause at 50 %', 90_000);
    expect(paused.weight).toBe(50);
    expect((await stack().cluster()).traffic).toMatchObject({ stable: 50, canary: 50 });

    // Someone without the role cannot promote; alice (release-manager) can.
    const refused = await stack().click(PEOPLE.nobody, 'release.promote', op.id, card);
    await stack().waitFor(() => stack().answers(refused.responseUrl).find((t) => t.includes('You may not promote')), 'the refusal was not told');
    expect(stack().operationOf(card.requestId)!.state).toBe('paused');
    await stack().click(PEOPLE.alice, 'release.promote', op.id, card);

    const done = await stack().ended(card.requestId, 'the release did not end', 120_000);
    expect(done.state).toBe('promoted');

    const cluster = await stack().cluster();
    expect(cluster.stable.image).toBe('registry.example.com/shop/checkout:1.5.0');
    expect(cluster.canary.replicas.desired).toBe(0);
    expect(cluster.traffic).toMatchObject({ stable: 100, canary: 0 });

    // The thread shows each step with its verdict, and the Promote; the card ends as Promoted.
    await stack().waitFor(() => stack().threadTexts(card).some((t) => t.includes('Watch period over')), 'the last note never reached Slack');
    const thread = stack().threadTexts(card);
    for (const step of ['Step 1 of 4: 5 %', 'Step 2 of 4: 25 %', 'Step 3 of 4: 50 %']) expect(thread.some((t) => t.includes(step))).toBe(true);
    expect(thread.filter((t) => t.includes('Analysis passed at')).length).toBeGreaterThanOrEqual(3);
    expect(thread.some((t) => t.includes(`Promoted by <@${PEOPLE.alice}> at 50 %`))).toBe(true);
    // Once the watch is over: the card says Promoted and offers no more controls.
    await stack().waitFor(() => (stack().cardNow(card).includes('Promoted: the stable runs 1.5.0') ? true : undefined), 'the card does not show Promoted');
    expect(stack().cardNow(card)).not.toContain('release.abort');

    const denied = stack().audit().filter((r) => r.action === 'operation.control_denied');
    expect(denied).toEqual([expect.objectContaining({ actor: PEOPLE.nobody })]);
    const verify = await runCli(['audit', 'verify', '--db', stack().db]);
    expect(verify.code).toBe(0);
  }, 240_000);

  it('kubectl sees the promotion as a new revision of the stable', async () => {
    const { stdout } = await run('kubectl', ['--kubeconfig', stack().kubeconfig, '-n', 'shop', 'rollout', 'history', 'deployment/checkout']);
    expect(stdout).toMatch(/4\s+lifeguard: operation 1 \(release 1\.5\.0\)/);
  });
});
