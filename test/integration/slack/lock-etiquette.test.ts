import { webApi } from '@slack/bolt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slackDelivery } from '../../../src/adapters/slack/delivery.js';
import { outboxClientOptions } from '../../../src/adapters/slack/web-client.js';
import { PEOPLE, responses, startHarness, type Harness } from '../../support/slack-standin/harness.js';
import { until } from '../../support/until.js';
import { startFixture, type Fixture } from '../kubernetes/fixture.js';

/*
 * Lock etiquette in Slack (issue #11, item 6), through the real Bolt app: a /release or /hotfix refused because
 * a release holds the service says who holds it, what, since when, and links its thread; the direct message
 * that it ended reaches the user's DM with the app.
 */
describe('a refused /release in Slack', () => {
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

  /** The ephemeral answer to a command, once it is past "Preparing…". */
  async function answer(command: string, text: string, user: string): Promise<Record<string, unknown>> {
    const sent = await harness.command(command, text, user);
    return harness.standin.waitFor(() => responses(harness.standin, sent.responseUrl).find((r) => !String(r.text).includes('Preparing')));
  }

  it('names the release holding the service, who asked and approved it, where it stands, since when, and its thread', async () => {
    const before = harness.standin.topLevelPosts().length;
    await harness.command('/release', 'checkout 1.5.0');
    const post = await harness.standin.waitFor(() => harness.standin.topLevelPosts()[before]);
    const card = { channel: String(post.response.channel), ts: String(post.response.ts) };
    const blocks = post.args.blocks as { elements?: { action_id?: string; value?: string }[] }[];
    const requestId = blocks.flatMap((b) => b.elements ?? []).find((e) => e.action_id === 'approval.approve')!.value!;
    await harness.standin.waitFor(() => harness.audit().some((r) => r.action === 'approval.card_posted'));
    await harness.click({ user: PEOPLE.alice, actionId: 'approval.approve', value: requestId, channel: card.channel, messageTs: card.ts });
    const op = await until(() => harness.lifeguard.engine.forRequest(Number(requestId)));

    const refusal = await answer('/release', 'checkout 1.6.0', PEOPLE.nobody);
    expect(refusal.response_type).toBe('ephemeral');
    const shown = JSON.stringify(refusal.blocks);
    const since = `${op.createdAt.slice(0, 16).replace('T', ' ')} UTC`;
    expect(shown).toContain(`*checkout/production is busy:* release #${op.id}, \`1.4.2\` → \`1.5.0\`, holds it.`);
    expect(shown).toContain(`*Who:* requested by <@${PEOPLE.requester}>, approved by <@${PEOPLE.alice}>`);
    expect(shown).toMatch(/\*Now:\* (Deploying the canary 1\.5\.0|Step 1 of 4[^(]*) \(running\)/);
    expect(shown).toMatch(new RegExp(`\\*Since:\\* ${since} \\([^)]+ ago\\)`));
    expect(shown).toContain(`*Thread:* <https://slack.com/archives/${card.channel}/p${card.ts.replace('.', '')}|release #${op.id}>`);
    expect(shown).toContain('Lifeguard will send you a direct message when');
    expect(shown).toContain(`\`/release abort ${op.id}\``);
    expect(String(refusal.text)).toContain(`checkout/production is busy: release #${op.id} (1.4.2 → 1.5.0) holds it since ${since}`);

    const hotfix = await answer('/hotfix', 'checkout 1.4.3 urgency=critical reason="CVE"', PEOPLE.oscar);
    expect(JSON.stringify(hotfix.blocks)).toContain(`*checkout/production is busy:* release #${op.id}`);

    const refused = harness.audit().filter((r) => r.action === 'request.refused');
    expect(refused.map((r) => [r.actor, JSON.parse(r.detail)])).toEqual([
      [PEOPLE.nobody, expect.objectContaining({ kind: 'release', running: op.id, version: '1.6.0', waiter: expect.objectContaining({ added: true }) })],
      [PEOPLE.oscar, expect.objectContaining({ kind: 'hotfix', running: op.id, version: '1.4.3', waiter: expect.objectContaining({ added: true }) })],
    ]);
  }, 30_000);

  it('the message that the lock is free goes to the user id, which Slack posts in their DM with the app', async () => {
    const client = new webApi.WebClient(harness.standin.botToken, { ...outboxClientOptions(harness.standin.apiUrl), logLevel: webApi.LogLevel.ERROR });
    const delivery = slackDelivery(client);
    const freed = {
      service: 'checkout',
      environment: 'production',
      operationId: 12,
      kind: 'release' as const,
      requestedBy: PEOPLE.requester,
      state: 'promoted' as const,
      asked: { kind: 'release' as const, version: '1.6.0' },
      thread: { channel: 'C0CHECKOUT', ts: '1700000000.000100' },
    };
    const sent = await delivery.deliver({ channel: PEOPLE.nobody, key: 'lock-freed:12:U08HANK' }, { kind: 'lock-freed', freed });
    expect(sent).toMatchObject({ ok: true, channel: expect.stringMatching(/^D/) });
    const [dm] = harness.standin.directMessagesTo(PEOPLE.nobody);
    expect(dm?.text).toBe('checkout/production is free: release #12 ended (promoted) — you can run /release checkout 1.6.0 env=production again');
    expect(JSON.stringify(dm?.blocks)).toContain('<https://slack.com/archives/C0CHECKOUT/p1700000000000100|its thread>');

    // A user the workspace does not have: Slack's answer, given up by the sender rather than retried.
    expect(await delivery.deliver({ channel: 'U0GHOST', key: 'lock-freed:12:U0GHOST' }, { kind: 'lock-freed', freed })).toMatchObject({ ok: false, error: 'channel_not_found', transient: false });
    // A DM cannot be searched without im:history: the lookup answers "not found" without calling Slack.
    const calls = harness.standin.calls.length;
    expect(await delivery.findByKey({ channel: PEOPLE.nobody, key: 'lock-freed:12:U08HANK', since: new Date(0) })).toEqual({ ok: true, found: undefined });
    expect(harness.standin.calls.length).toBe(calls);
  });
});
