import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECKOUT_IMAGE } from '../../support/kube-standin/seed.js';
import { startHarness, type Harness } from '../../support/slack-standin/harness.js';
import { until } from '../../support/until.js';
import { startFixture, type Fixture } from '../kubernetes/fixture.js';

/*
 * A policy with no approval runs at once: the example config's staging asks none for a rollback, so `/rollback
 * env=staging` rolls the stable back with no click, through the same operation as an approved one.
 */
describe('a /rollback where the policy asks no approval', () => {
  let kube: Fixture;
  let harness: Harness;

  beforeAll(async () => {
    kube = await startFixture();
    harness = await startHarness({ cluster: kube.cluster });
  });
  afterAll(async () => {
    await harness?.close();
    await kube?.standin.stop();
  });

  it('runs at once: the stable of staging goes back to the previous revision with no click', async () => {
    expect((await kube.cluster.workloads.readState(kube.staging)).stable.image).toBe(`${CHECKOUT_IMAGE}:1.4.2`);
    await harness.command('/rollback', 'checkout env=staging reason="staging is broken"');
    // Restored, then verified over one analysis window of the example config (minutes): restored is what shows it ran.
    const restored = await until(() => harness.audit().find((row) => row.action === 'rollback.restored' && row.subject === 'checkout/staging'), 30_000);
    expect(JSON.parse(restored.detail)).toMatchObject({ stable: `${CHECKOUT_IMAGE}:1.4.1`, revision: 4 });
    const actions = harness.audit().map((row) => row.action);
    expect(actions).toContain('approval.granted');
    expect(actions).not.toContain('approval.approved');
    expect(actions.indexOf('approval.granted')).toBeLessThan(actions.indexOf('rollback.manual'));
    const state = await kube.cluster.workloads.readState(kube.staging);
    expect(state.stable.image).toBe(`${CHECKOUT_IMAGE}:1.4.1`);
    expect(state.traffic.canary).toBe(0);
  });
});
