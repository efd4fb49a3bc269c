import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { useReleaseStack } from '../support/release-stack.js';

/*
 * Must-show 7 of issue #11, end to end: `lifeguard rollback` while Slack is down. The cluster is rolled back
 * through the same operation an approved /rollback runs, from a terminal; the thread and the incident post wait
 * in the outbox and arrive once when Slack is back. `--dry-run` changes nothing; bad flags exit 2 with usage.
 */
describe('lifeguard rollback, end to end', () => {
  const stack = useReleaseStack();

  const cli = (args: string[]) =>
    runCli(['rollback', 'checkout', '--env', 'production', ...args], {
      LIFEGUARD_CONFIG: stack().configFile,
      LIFEGUARD_DB: stack().db,
      KUBECONFIG: stack().kubeconfig,
      LIFEGUARD_OPERATOR: 'bob',
    }, undefined, { timeoutMs: 150_000 });

  /** Every object the rollback would write, by its resourceVersion. */
  const versions = async () => {
    const api = stack().kube.url;
    const read = async (path: string) => ((await (await fetch(`${api}${path}`)).json()) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
    return Promise.all([
      read('/apis/apps/v1/namespaces/shop/deployments/checkout'),
      read('/apis/apps/v1/namespaces/shop/deployments/checkout-canary'),
      read('/apis/networking.istio.io/v1/namespaces/shop/virtualservices/checkout'),
    ]);
  };

  it('bad flags exit 2 with the usage, and --dry-run prints the plan and changes nothing', async () => {
    for (const args of [['--reason', 'x', '--to', 'two'], ['--yes'], ['--reason', 'x', '--bogus']]) {
      const bad = await cli(args);
      expect(bad.code, bad.stderr).toBe(2);
      expect(bad.stderr).toContain('usage: lifeguard rollback <service> --env <env>');
    }
    const before = await versions();
    const dry = await cli(['--reason', 'checking the plan', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/stable now: +revision 3 \(.*:1\.4\.2\)/);
    expect(dry.stdout).toMatch(/stable after: +revision 2 \(.*:1\.4\.1\)/);
    expect(dry.stdout).toContain('dry run: nothing was changed');
    expect(await versions()).toEqual(before);
    expect(stack().operations()).toEqual([]);
  }, 60_000);

  it('with no terminal and no --yes, it refuses and changes nothing', async () => {
    const before = await versions();
    const refused = await cli(['--reason', 'no terminal']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('no terminal to confirm on: run it again with --yes');
    expect(await versions()).toEqual(before);
  }, 60_000);

  it('rolls the cluster back with Slack down, exits 0, and the thread and incident posts arrive once when Slack is back', async () => {
    const history = (await stack().cluster()).history;
    expect(history.map((r) => r.revision)).toEqual([3, 2, 1]);
    stack().slack.failFor('*', { status: 500 }, 10 * 60_000);
    const outageStart = Date.now();

    const run = await cli(['--reason', 'slack is down', '--yes']);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toContain('started by cli:bob');
    expect(run.stdout).toMatch(/rolled-back: rolled back, verified/);

    // What `kubectl rollout undo` gives: revision 2's template back as the newest revision, 4.
    const after = await stack().cluster();
    expect(after.stable.image).toBe(history[1]!.images.app);
    expect(after.history.map((r) => [r.revision, r.images.app])).toEqual([
      [4, history[1]!.images.app],
      [3, history[0]!.images.app],
      [1, history[2]!.images.app],
    ]);
    expect(after.traffic).toMatchObject({ canary: 0, stable: 100 });
    expect(after.canary.replicas.desired).toBe(0);
    const [op] = stack().operations();
    expect(op).toMatchObject({ kind: 'rollback', state: 'rolled-back', requestedBy: 'cli:bob', requestId: null });
    expect(stack().audit().find((r) => r.action === 'rollback.manual')).toMatchObject({ actor: 'cli:bob', subject: 'checkout/production' });

    // Nothing reached Slack while it was down; everything waits in the outbox.
    expect(stack().slack.okCalls('chat.postMessage').filter((c) => c.at >= outageStart)).toEqual([]);
    expect(stack().outbox().filter((e) => !e.sent).length).toBeGreaterThan(2);

    stack().slack.recover();
    await stack().waitFor(() => (stack().outbox().every((e) => e.sent) ? true : undefined), 'the outbox did not drain once Slack was back', 60_000);
    const posts = stack().slack.okCalls('chat.postMessage').filter((c) => c.at >= outageStart);
    const keys = posts.map((c) => (c.args.metadata as { event_payload: { key: string } }).event_payload.key);
    expect(new Set(keys).size).toBe(keys.length);
    // The thread opens in the service's channel, and each note follows in it.
    const opening = posts.find((c) => c.args.thread_ts === undefined && JSON.stringify(c.args).includes(`Rollback #${op!.id}: checkout in production`))!;
    expect(opening).toBeDefined();
    const thread = stack().threadTexts({ ts: opening.response.ts as string });
    expect(thread.some((t) => t.includes('requested by cli:bob: slack is down'))).toBe(true);
    expect(thread.some((t) => t.includes('Rolled back and verified'))).toBe(true);
    // One incident post, updated in place to its verified timeline.
    const incidents = posts.filter((c) => JSON.stringify(c.args).includes('Manual rollback: checkout in production'));
    expect(incidents).toHaveLength(1);
    await stack().waitFor(() => stack().incidents().find((p) => p.includes('Manual rollback') && p.includes('Verified healthy')), 'the incident post does not show the verified rollback');
  }, 240_000);
});
