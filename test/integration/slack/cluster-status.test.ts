import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { responses, startHarness, type Harness } from '../../support/slack-standin/harness.js';
import { startFixture, type Fixture } from '../kubernetes/fixture.js';

/** The Slack surface reading the Kubernetes stand-in through the real client: what people see of their cluster. */
describe('Slack shows what runs in the cluster', () => {
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

  async function reply(command: string, text: string): Promise<string> {
    const sent = await harness.command(command, text);
    const posted = await harness.standin.waitFor(() => responses(harness.standin, sent.responseUrl).find((r) => !String(r.text).startsWith(':mag:')));
    return String(posted.text);
  }

  it('/release status gives the running version, revision and canary share of each environment', async () => {
    let text = await reply('/release', 'status checkout');
    expect(text).toContain('*checkout/production*: `1.4.2` (revision 3)');
    expect(text).toContain('*checkout/staging*: `1.4.2` (revision 3)');
    expect(text).not.toContain('canary at');

    await kube.cluster.workloads.scaleCanary(kube.production, 1);
    await kube.cluster.traffic.set(kube.production, 25);
    text = await reply('/release', 'status checkout');
    expect(text).toContain('*checkout/production*: `1.4.2` (revision 3), canary at 25%');
  });

  it('a rollback plan shows revision and image now and after, and the traffic change', async () => {
    const before = harness.standin.topLevelPosts().length;
    await harness.command('/rollback', 'checkout env=production reason="error budget burn"');
    const post = await harness.standin.waitFor(() => harness.standin.topLevelPosts()[before]);
    const shown = JSON.stringify(post.args.blocks);
    expect(post.args.text).toBe('Rollback checkout in production: registry.example.com/shop/checkout:1.4.2 → registry.example.com/shop/checkout:1.4.1');
    expect(shown).toContain('revision 3');
    expect(shown).toContain('revision 2');
    expect(shown).toContain('canary 25% → 0% (drained first); stable 75% → 100%');
  });
});
