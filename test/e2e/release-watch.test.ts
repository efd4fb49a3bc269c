import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PEOPLE, useReleaseStack } from '../support/release-stack.js';

const run = promisify(execFile);

/*
 * Must-show 3 of issue #10, end to end: a version that passes as a canary and breaks once it carries all the
 * traffic (the simulator's `-overload`) is promoted, fails its watch against the stable's own metrics from
 * before the release, and is rolled back to the revision the stable ran before, as `kubectl rollout undo` would.
 */
describe('a promoted release that fails its watch, end to end', () => {
  const stack = useReleaseStack({ watch: '30s' });

  it('is rolled back to the previous revision, and kubectl rollout history shows it as kubectl’s own undo would', async () => {
    const before = await stack().cluster();
    const card = await stack().release('1.5.0-overload');
    const op = stack().operationOf(card.requestId)!;
    await stack().waitFor(() => (stack().operationOf(card.requestId)!.pause?.reason === 'promotion' ? true : undefined), 'no pause at 50 %', 90_000);
    await stack().click(PEOPLE.alice, 'release.promote', op.id, card);
    await stack().waitFor(() => (stack().operationOf(card.requestId)!.phase === 'watch' ? true : undefined), 'the release was not promoted', 90_000);
    expect((await stack().cluster()).stable.image).toBe('registry.example.com/shop/checkout:1.5.0-overload');

    const done = await stack().ended(card.requestId, 'the watch did not end the release', 120_000);
    expect(done.state).toBe('rolled-back');
    expect(done.rollback).toMatchObject({ trigger: 'watch', afterPromotion: true });

    const after = await stack().cluster();
    expect(after.stable.image).toBe(before.stable.image);
    expect(after.traffic).toMatchObject({ stable: 100, canary: 0 });
    // kubectl's undo moves the old ReplicaSet to a new revision number: 1.4.2 (revision 3) is now revision 5.
    const { stdout } = await run('kubectl', ['--kubeconfig', stack().kubeconfig, '-n', 'shop', 'rollout', 'history', 'deployment/checkout']);
    const revisions = stdout.split('\n').flatMap((line) => /^\d+\s/.exec(line.trim()) ? [line.trim().split(/\s+/)[0]] : []);
    expect(revisions).toEqual(['1', '2', '4', '5']);
    expect(after.history.find((r) => r.revision === 5)).toMatchObject({ formerRevisions: [3] });
    await stack().waitFor(() => stack().incidents().find((p) => p.includes('watch')), 'no incident post for the failed watch');
  }, 300_000);
});
