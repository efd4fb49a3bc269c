import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postSigned, signedHeaders, slashCommandBody } from '../../support/slack-standin/sign.js';
import { PEOPLE, SIGNING_SECRET, responses, startHarness, type Harness } from '../../support/slack-standin/harness.js';
import { startFixture, type Fixture } from '../kubernetes/fixture.js';

describe('Slack over HTTP', () => {
  let harness: Harness;
  let kube: Fixture;
  const clusterReads = () => kube.standin.requests.map((r) => `${r.method} ${r.path}`);

  beforeAll(async () => {
    // The Kubernetes stand-in, reached through the real client, answers every read of the stable Deployment after 10 s.
    kube = await startFixture({ retry: { requestTimeoutMs: 15_000 } });
    kube.standin.inject({ path: '/apis/apps/v1/namespaces/shop/deployments/checkout', latencyMs: 10_000 });
    kube.standin.requests.length = 0;
    harness = await startHarness({ cluster: kube.cluster });
  });
  afterAll(async () => {
    await harness.close();
    await kube.standin.stop();
  });

  it('refuses a bad signature, a missing header and a stale timestamp with 401, changing nothing', async () => {
    const callsBefore = harness.standin.calls.length;
    const body = slashCommandBody({ command: '/rollback', text: 'checkout reason="test"', user_id: PEOPLE.requester, channel_id: 'C0CHECKOUT', response_url: harness.standin.responseUrl() });
    const events = `${harness.url}/slack/events`;
    const wrong = await postSigned(events, 'not-the-secret', body);
    const missing = await fetch(events, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(Math.floor(Date.now() / 1000)) }, body });
    const stale = await postSigned(events, SIGNING_SECRET, body, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
    expect([wrong.status, missing.status, stale.status]).toEqual([401, 401, 401]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(harness.standin.calls.slice(callsBefore)).toEqual([]);
    expect(clusterReads()).toEqual([]);
    expect(harness.audit()).toEqual([]);
    const security = harness.logLines.filter((line) => line.includes('"security":true'));
    expect(security).toHaveLength(3);
    expect(security.join('')).not.toContain(SIGNING_SECRET);
  });

  it('acknowledges a good /release in under 3 s while the cluster takes 10 s, then posts the card', async () => {
    const sent = await harness.command('/release', 'checkout 1.5.0');
    expect(sent.status).toBe(200);
    expect(sent.elapsedMs).toBeLessThan(3000);
    expect(JSON.parse(sent.body)).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining('Preparing the release card for checkout 1.5.0 in production') });
    expect(harness.standin.okCalls('chat.postMessage')).toEqual([]);

    const card = await harness.standin.waitFor(() => harness.standin.topLevelPosts()[0], 20_000);
    expect(card.args.channel).toBe('#checkout-releases');
    const cardText = JSON.stringify(card.args.blocks);
    expect(cardText).toContain('`1.4.2` → `1.5.0`');
    expect(cardText).toContain('Still needed: 1 approval from *release-manager*');
    expect(clusterReads()).toContain('GET /apis/apps/v1/namespaces/shop/deployments/checkout');
    const told = await harness.standin.waitFor(() => responses(harness.standin, sent.responseUrl)[0]);
    expect(told.text).toContain('Request #1 is posted in <#C0CHECKOUT>');

    const metrics = await (await fetch(`${harness.url}/metrics`)).text();
    expect(metrics).toMatch(/lifeguard_slack_ack_seconds_count\{kind="command"\} [1-9]/);
    expect(harness.audit().map((r) => r.action)).toEqual(['approval.requested', 'approval.card_posted']);
  }, 30_000);

  it('answers bad input with what was wrong and the usage, and posts nothing', async () => {
    const before = harness.standin.calls.length;
    const sent = await harness.command('/rollback', 'chekout reason="bad deploy"');
    expect(sent.status).toBe(200);
    const reply = JSON.parse(sent.body) as { response_type: string; text: string; blocks: unknown[] };
    expect(reply.response_type).toBe('ephemeral');
    expect(reply.text).toBe('unknown service "chekout": did you mean checkout?');
    expect(JSON.stringify(reply.blocks)).toContain('/rollback &lt;service&gt; [env=&lt;environment&gt;] [to=&lt;revision&gt;] reason=');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(harness.standin.calls.length).toBe(before);
  });

  it('serves the probes beside the Slack endpoint', async () => {
    expect(await (await fetch(`${harness.url}/healthz`)).text()).toBe('ok\n');
    const ready = await fetch(`${harness.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, reasons: [] });
    const metrics = await fetch(`${harness.url}/metrics`);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    const text = await metrics.text();
    for (const name of ['lifeguard_analysis_duration_seconds', 'lifeguard_canary_verdicts_total', 'lifeguard_rollbacks_total', 'lifeguard_rollback_duration_seconds']) {
      expect(text).toContain(`# TYPE ${name}`);
    }
  });

  it('keeps the signing secret and bot token out of every log line', () => {
    const all = harness.logLines.join('');
    expect(all).not.toContain(harness.standin.botToken);
    expect(all).not.toContain(SIGNING_SECRET);
    expect(signedHeaders(SIGNING_SECRET, 'x')['x-slack-signature']).toMatch(/^v0=[0-9a-f]{64}$/);
  });
});
