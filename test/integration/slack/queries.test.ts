import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PEOPLE, responses, startHarness, type Harness } from '../../support/slack-standin/harness.js';

describe('/release status, history, help and release controls', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness();
  });
  afterAll(async () => {
    await harness.close();
  });

  async function answer(responseUrl: string): Promise<string> {
    const posted = await harness.standin.waitFor(() => responses(harness.standin, responseUrl).at(-1));
    return String(posted.text);
  }

  it('status says plainly when the cluster cannot be reached, and why', async () => {
    const sent = await harness.command('/release', 'status checkout');
    expect(JSON.parse(sent.body)).toMatchObject({ text: ':mag: Looking it up…' });
    const text = await answer(sent.responseUrl);
    expect(text).toContain('*checkout/staging*: unknown (cannot reach cluster "prod" to get deployments for Deployment shop-staging/checkout');
    expect(text).toContain('*checkout/production*: unknown');
  });

  it('history answers from the store', async () => {
    const sent = await harness.command('/release', 'history checkout env=staging');
    expect(sent.body).toBe('');
    expect(await answer(sent.responseUrl)).toMatch(/^History of checkout\/staging, \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d: 0 operations$/);
  });

  it('help lists the three commands', async () => {
    const sent = await harness.command('/release', 'help');
    const reply = JSON.parse(sent.body) as { blocks: unknown[] };
    const shown = JSON.stringify(reply.blocks);
    for (const usage of ['/release &lt;service&gt; &lt;version&gt;', '/rollback &lt;service&gt;', '/hotfix &lt;service&gt; &lt;version&gt; urgency=']) expect(shown).toContain(usage);
  });

  it('abort, pause, resume and promote of a release that does not exist say so, and the attempt is audited', async () => {
    const sent = await harness.command('/release', 'abort 42');
    expect(sent.body).toBe('');
    expect(await answer(sent.responseUrl)).toContain('There is no release #42');
    const click = await harness.click({ user: PEOPLE.alice, actionId: 'release.pause', value: '42', channel: 'C0CHECKOUT', messageTs: '1763800000.000100' });
    expect(click.status).toBe(200);
    expect(await answer(click.responseUrl)).toContain('There is no release #42');
    expect(harness.audit().map((r) => [r.actor, r.action])).toEqual(
      expect.arrayContaining([
        [PEOPLE.requester, 'operation.control_denied'],
        [PEOPLE.alice, 'operation.control_denied'],
      ]),
    );
  });
});
