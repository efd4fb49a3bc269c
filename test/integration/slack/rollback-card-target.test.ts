import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settled, CHECKOUT_IMAGE } from '../../support/kube-standin/seed.js';
import { responses, startHarness, type Harness } from '../../support/slack-standin/harness.js';
import { startFixture, type Fixture } from '../kubernetes/fixture.js';
import { kubectl } from '../kubernetes/kubectl.js';

/*
 * The rollback card's "After" comes from the same planning function, over the same cluster read, as the rollback
 * itself (kubectl rollout undo semantics). Two earlier rollbacks renumber the revisions; the card must still name
 * what `kubectl rollout undo` then does.
 */
describe('the rollback card after revisions were renumbered', () => {
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

  const undo = async (...extra: string[]) => {
    const result = await kubectl(kube.kubeconfig, ['-n', 'shop', 'rollout', 'undo', 'deployment/checkout', ...extra]);
    expect(result.code, result.stderr).toBe(0);
    await settled(kube.standin, 'shop', 'checkout');
  };

  async function card(text: string): Promise<string> {
    const before = harness.standin.topLevelPosts().length;
    await harness.command('/rollback', text);
    const post = await harness.standin.waitFor(() => harness.standin.topLevelPosts()[before]);
    return JSON.stringify(post.args.blocks);
  }

  it('names the revision and image that kubectl rollout undo then goes to', async () => {
    // 1.4.0, 1.4.1, 1.4.2 are revisions 1-3. Undo: 1.4.1 comes back as 4. Undo again: 1.4.2 comes back as 5.
    await undo();
    await undo();
    expect((await kube.cluster.workloads.readState(kube.production)).history.map((r) => r.revision)).toEqual([5, 4, 1]);

    const shown = await card('checkout env=production reason="renumbered twice"');
    expect(shown).toContain(`*Now*\\nrevision 5: \`${CHECKOUT_IMAGE}:1.4.2\``);
    expect(shown).toContain(`*After*\\nrevision 4: \`${CHECKOUT_IMAGE}:1.4.1\``);

    await undo();
    const after = await kube.cluster.workloads.readState(kube.production);
    expect(after.stable.image).toBe(`${CHECKOUT_IMAGE}:1.4.1`);
    expect(after.history.map((r) => [r.revision, r.images.app])).toEqual([
      [6, `${CHECKOUT_IMAGE}:1.4.1`],
      [5, `${CHECKOUT_IMAGE}:1.4.2`],
      [1, `${CHECKOUT_IMAGE}:1.4.0`],
    ]);
  });

  it('refuses a rollback to the revision that already runs under its new number, saying so, and opens no request', async () => {
    // Revision 4 (1.4.1) was renumbered 6 by the last undo and runs now.
    const posts = harness.standin.topLevelPosts().length;
    const { responseUrl } = await harness.command('/rollback', 'checkout env=production to=4 reason="back to 1.4.1"');
    const reply = await harness.standin.waitFor(() => responses(harness.standin, responseUrl).find((r) => JSON.stringify(r).includes('Not opened')));
    expect(JSON.stringify(reply)).toContain("already runs revision 4, now revision 6's template (current revision 6); nothing to roll back");
    expect(harness.standin.topLevelPosts()).toHaveLength(posts);
    expect(harness.audit().filter((row) => row.action === 'request.refused').map((row) => JSON.parse(row.detail).kind)).toEqual(['rollback']);
  });
});
