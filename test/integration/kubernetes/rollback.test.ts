import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { typeOfKind } from '../../support/kube-standin/resources.js';
import { checkoutDeployment, CHECKOUT_IMAGE, deployWithHistory, settled } from '../../support/kube-standin/seed.js';
import { startFixture, type Fixture } from './fixture.js';
import { kubectl } from './kubectl.js';

let f: Fixture;

beforeEach(async () => {
  f = await startFixture();
});
afterEach(async () => {
  await f.standin.stop();
});

const history = async (namespace: string) => (await f.cluster.workloads.readState({ ...f.production, settings: { ...f.production.settings, namespace } })).history.map((r) => [r.revision, r.images.app?.split(':')[1], r.changeCause]);

describe('rollback', () => {
  test('to the previous revision: its template comes back as the next revision', async () => {
    const result = await f.cluster.workloads.rollback(f.production);
    expect(result).toEqual({
      outcome: 'rolled-back',
      deployment: 'shop/checkout',
      fromRevision: 3,
      toRevision: 2,
      image: `${CHECKOUT_IMAGE}:1.4.1`,
      message: `Deployment shop/checkout rolled back from revision 3 to revision 2's template (${CHECKOUT_IMAGE}:1.4.1); the controller records it as the next revision`,
    });
    await settled(f.standin, 'shop', 'checkout');
    expect(await history('shop')).toEqual([
      [4, '1.4.1', 'release 1.4.1'],
      [3, '1.4.2', 'release 1.4.2'],
      [1, '1.4.0', 'release 1.4.0'],
    ]);
    const rollout = await f.cluster.workloads.waitForRollout(f.production, 'stable', { timeoutMs: 5_000, pollMs: 20 });
    expect(rollout.outcome).toBe('complete');
  });

  test('to a given revision, and the pod-template-hash label does not leak into the Deployment', async () => {
    await f.cluster.workloads.rollback(f.production, { toRevision: 1 });
    const d = f.standin.store.mustGet(typeOfKind('Deployment'), 'shop', 'checkout');
    expect((d.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels).toEqual({ app: 'checkout', track: 'stable', version: 'baseline' });
    await settled(f.standin, 'shop', 'checkout');
    expect((await history('shop'))[0]).toEqual([4, '1.4.0', 'release 1.4.0']);
  });

  test('to the current revision is a no-op that says so', async () => {
    const patches = () => f.standin.requests.filter((r) => r.method === 'PATCH').length;
    expect(await f.cluster.workloads.rollback(f.production, { toRevision: 3 })).toEqual({
      outcome: 'no-op',
      deployment: 'shop/checkout',
      revision: 3,
      message: "Deployment shop/checkout already runs revision 3's template (current revision 3); nothing to roll back",
    });
    expect(patches()).toBe(0);
  });

  test('repeating a rollback to a given revision is a no-op, though that revision has been renumbered', async () => {
    expect(await f.cluster.workloads.rollback(f.production, { toRevision: 2 })).toMatchObject({ outcome: 'rolled-back', toRevision: 2 });
    await settled(f.standin, 'shop', 'checkout');
    expect(await f.cluster.workloads.rollback(f.production, { toRevision: 2 })).toEqual({
      outcome: 'no-op',
      deployment: 'shop/checkout',
      revision: 4,
      message: "Deployment shop/checkout already runs revision 2, now revision 4's template (current revision 4); nothing to roll back",
    });
    expect(f.standin.requests.filter((r) => r.method === 'PATCH')).toHaveLength(1);
  });

  test('to an unknown revision lists the revisions that exist', async () => {
    await expect(f.cluster.workloads.rollback(f.production, { toRevision: 9 })).rejects.toThrow('Deployment shop/checkout has no revision 9; the revisions it has are 1, 2, 3 (current: 3)');
  });

  test('copies the pod template exactly, even fields newer than the client library knows', async () => {
    const base = checkoutDeployment({ namespace: 'future', name: 'checkout', track: 'stable', image: `${CHECKOUT_IMAGE}:1.4.0`, replicas: 1 });
    (base.spec.template.spec as Record<string, unknown>).workloadRef = { name: 'checkout', podGroup: 'web' };
    await deployWithHistory(f.standin, base, [
      { image: `${CHECKOUT_IMAGE}:1.4.0`, changeCause: 'release 1.4.0' },
      { image: `${CHECKOUT_IMAGE}:1.4.1`, changeCause: 'release 1.4.1' },
    ]);
    const target = { ...f.production, settings: { ...f.production.settings, namespace: 'future' } };
    expect(await f.cluster.workloads.rollback(target)).toMatchObject({ outcome: 'rolled-back', toRevision: 1 });
    await settled(f.standin, 'future', 'checkout');
    const d = f.standin.store.mustGet(typeOfKind('Deployment'), 'future', 'checkout');
    expect((d.spec as { template: { spec: Record<string, unknown> } }).template.spec.workloadRef).toEqual({ name: 'checkout', podGroup: 'web' });
    const revisions = f.standin.store.list(typeOfKind('ReplicaSet'), 'future').map((rs) => rs.metadata.annotations?.['deployment.kubernetes.io/revision']);
    expect(revisions.sort()).toEqual(['2', '3']);
  });

  test('refuses a paused Deployment, as kubectl does', async () => {
    const type = typeOfKind('Deployment');
    const d = f.standin.store.mustGet(type, 'shop', 'checkout');
    f.standin.store.update(type, { ...d, spec: { ...d.spec, paused: true } });
    await expect(f.cluster.workloads.rollback(f.production)).rejects.toThrow('Deployment shop/checkout is paused; resume it first (kubectl -n shop rollout resume deployment/checkout) and roll back again');
  });
});

describe('history after a rollback, as kubectl shows it', () => {
  test('Lifeguard rolling back leaves the same `kubectl rollout history` as `kubectl rollout undo` does', async () => {
    // A twin of the production Deployment, with the same history, rolled back by kubectl itself.
    await deployWithHistory(f.standin, checkoutDeployment({ namespace: 'twin', name: 'checkout', track: 'stable', image: `${CHECKOUT_IMAGE}:1.4.0`, replicas: 3 }), [
      { image: `${CHECKOUT_IMAGE}:1.4.0`, changeCause: 'release 1.4.0' },
      { image: `${CHECKOUT_IMAGE}:1.4.1`, changeCause: 'release 1.4.1' },
      { image: `${CHECKOUT_IMAGE}:1.4.2`, changeCause: 'release 1.4.2' },
    ]);
    await f.cluster.workloads.rollback(f.production, { toRevision: 1 });
    const undo = await kubectl(f.kubeconfig, ['-n', 'twin', 'rollout', 'undo', 'deployment/checkout', '--to-revision=1']);
    expect(undo).toMatchObject({ code: 0, stdout: 'deployment.apps/checkout rolled back\n' });
    await settled(f.standin, 'shop', 'checkout');
    await settled(f.standin, 'twin', 'checkout');

    const ours = await kubectl(f.kubeconfig, ['-n', 'shop', 'rollout', 'history', 'deployment/checkout']);
    const theirs = await kubectl(f.kubeconfig, ['-n', 'twin', 'rollout', 'history', 'deployment/checkout']);
    expect(ours.stdout).toBe(['deployment.apps/checkout ', 'REVISION  CHANGE-CAUSE', '2         release 1.4.1', '3         release 1.4.2', '4         release 1.4.0', '', ''].join('\n'));
    expect(ours.stdout).toBe(theirs.stdout);

    const ourRevision = await kubectl(f.kubeconfig, ['-n', 'shop', 'rollout', 'history', 'deployment/checkout', '--revision=4']);
    const theirRevision = await kubectl(f.kubeconfig, ['-n', 'twin', 'rollout', 'history', 'deployment/checkout', '--revision=4']);
    expect(ourRevision.stdout).toContain(`Image:\t${CHECKOUT_IMAGE}:1.4.0`);
    expect(ourRevision.stdout).toBe(theirRevision.stdout);

    // Rolling back again (to the previous revision, 3) agrees with kubectl too.
    await f.cluster.workloads.rollback(f.production);
    await kubectl(f.kubeconfig, ['-n', 'twin', 'rollout', 'undo', 'deployment/checkout']);
    await settled(f.standin, 'shop', 'checkout');
    await settled(f.standin, 'twin', 'checkout');
    const again = await kubectl(f.kubeconfig, ['-n', 'shop', 'rollout', 'history', 'deployment/checkout']);
    expect(again.stdout).toBe((await kubectl(f.kubeconfig, ['-n', 'twin', 'rollout', 'history', 'deployment/checkout'])).stdout);
    expect(again.stdout).toContain('5         release 1.4.2');
  });
});
