import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PEOPLE, startHarness, type Harness } from '../../support/slack-standin/harness.js';
import { buttonClick } from '../../support/slack-standin/payloads.js';

describe('Slack in Socket Mode', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness({ socketMode: true });
    await harness.standin.socket.connected();
  });
  afterAll(async () => {
    await harness.close();
  });

  it('opens the connection with the app token and has no HTTP Slack endpoint', async () => {
    const open = harness.standin.okCalls('apps.connections.open');
    expect(open).toHaveLength(1);
    expect(open[0]!.token).toBe(harness.standin.appToken);
    expect(harness.lifeguard.mode).toBe('socket');
    expect((await fetch(`${harness.url}/slack/events`, { method: 'POST', body: 'x' })).status).toBe(404);
    expect((await fetch(`${harness.url}/healthz`)).status).toBe(200);
  });

  it('a slash command round trip: acknowledged over the socket, card posted, a click approves it', async () => {
    const command = {
      command: '/release',
      text: 'checkout 2.0.0 env=staging',
      user_id: PEOPLE.requester,
      channel_id: 'C0CHECKOUT',
      team_id: 'T0LIFEGUARD',
      api_app_id: 'A0LIFEGUARD',
      response_url: harness.standin.responseUrl(),
      trigger_id: harness.standin.triggerId(),
    };
    const { ack } = await harness.standin.socket.deliver('slash_commands', command);
    expect(ack).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining('Preparing the release card for checkout 2.0.0 in staging') });
    const post = await harness.standin.waitFor(() => harness.standin.topLevelPosts()[0]);
    const shown = JSON.stringify(post.args.blocks);
    expect(shown).toContain('No approval needed in this environment.');
    const note = await harness.standin.waitFor(() => harness.standin.okCalls('chat.postMessage').find((c) => c.args.thread_ts === post.response.ts));
    expect(String(note.args.text)).toContain('is approved but did not start: the cluster could not be read');

    const bad = await harness.standin.socket.deliver('slash_commands', { ...command, text: 'checkout 2.0.0 env=prod' });
    expect(bad.ack).toMatchObject({ text: 'checkout has no environment "prod": did you mean production?' });

    const release = await harness.standin.socket.deliver('slash_commands', { ...command, text: 'checkout 2.0.0', response_url: harness.standin.responseUrl() });
    expect(release.ack).toMatchObject({ text: expect.stringContaining('in production') });
    const card = await harness.standin.waitFor(() => harness.standin.topLevelPosts()[1]);
    const click = buttonClick({
      user: PEOPLE.alice,
      actionId: 'approval.approve',
      value: '2',
      channel: String(card.response.channel),
      messageTs: String(card.response.ts),
      responseUrl: harness.standin.responseUrl(),
      triggerId: harness.standin.triggerId(),
    });
    const clicked = await harness.standin.socket.deliver('interactive', click);
    expect(clicked.ack).toEqual({});
    const update = await harness.standin.waitFor(() => harness.standin.okCalls('chat.update')[0]);
    expect(JSON.stringify(update.args.blocks)).toContain(`Approved by <@${PEOPLE.alice}>`);
  });
});
