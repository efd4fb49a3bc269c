import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PEOPLE, SIGNING_SECRET, startHarness, type Harness } from '../../support/slack-standin/harness.js';
import { buttonClick } from '../../support/slack-standin/payloads.js';
import { interactionBody, postSigned, signedHeaders, slashCommandBody } from '../../support/slack-standin/sign.js';
import { rawPost, streamFiller } from '../../support/raw-post.js';

const FORM = 'application/x-www-form-urlencoded';
const now = () => Math.floor(Date.now() / 1000);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the public Slack endpoint, as an attacker and a clumsy sender try it', () => {
  let harness: Harness;
  let events: string;

  beforeAll(async () => {
    harness = await startHarness();
    events = `${harness.url}/slack/events`;
  });
  afterAll(async () => {
    await harness.close();
  });

  async function refusals(): Promise<Record<string, number>> {
    const text = await (await fetch(`${harness.url}/metrics`)).text();
    return Object.fromEntries([...text.matchAll(/^lifeguard_slack_request_errors_total\{reason="([a-z_]+)"\} (\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
  }

  /** Lifeguard still answers its probes and a real command. */
  async function stillServing(): Promise<void> {
    expect((await fetch(`${harness.url}/healthz`)).status).toBe(200);
    const help = await harness.command('/release', 'help');
    expect(help.status).toBe(200);
    expect(JSON.parse(help.body)).toMatchObject({ text: 'Lifeguard commands' });
  }

  /** Cards posted so far whose blocks mention `text`. */
  const cardsMentioning = (text: string) => harness.standin.okCalls('chat.postMessage').filter((c) => JSON.stringify(c.args.blocks).includes(text));

  function rollbackBody(reason: string, triggerId = harness.standin.triggerId()): string {
    return slashCommandBody({ command: '/rollback', text: `checkout reason="${reason}"`, user_id: PEOPLE.requester, channel_id: 'C0CHECKOUT', response_url: harness.standin.responseUrl(), trigger_id: triggerId });
  }

  it('answers signed bodies that are not objects (payload=null, JSON null, arrays, numbers, bad JSON) with 400, and keeps serving', async () => {
    const before = await refusals();
    const forms = ['payload=null', `payload=${encodeURIComponent('[]')}`, 'payload=42', `payload=${encodeURIComponent('"text"')}`, `payload=${encodeURIComponent('{')}`];
    const jsons = ['null', '[]', '"text"', '7', '{'];
    const statuses: number[] = [];
    for (const body of forms) statuses.push((await postSigned(events, SIGNING_SECRET, body)).status);
    for (const body of jsons) statuses.push((await postSigned(events, SIGNING_SECRET, body, { headers: { 'content-type': 'application/json' } })).status);
    expect(statuses).toEqual(Array(forms.length + jsons.length).fill(400));
    expect((await refusals()).malformed).toBe((before.malformed ?? 0) + forms.length + jsons.length);
    const logged = harness.logLines.filter((line) => line.includes('"reason":"malformed"'));
    expect(logged.some((line) => line.includes('the body is null, not an object'))).toBe(true);
    await stillServing();
  });

  it('answers signed commands and clicks missing the fields Bolt reads (no user, null channel, no action) with 400, not 500', async () => {
    const click = buttonClick({ user: PEOPLE.alice, actionId: 'approval.approve', value: '1', channel: 'C0CHECKOUT', messageTs: '1.1', responseUrl: harness.standin.responseUrl(), triggerId: harness.standin.triggerId() });
    const { user: _user, ...withoutUser } = click;
    const interactions = [withoutUser, { ...click, user: null }, { ...click, channel: null }, { ...click, actions: [] }, { ...click, actions: [null] }, { ...click, type: 'view_submission' }];
    const statuses: number[] = [];
    for (const payload of interactions) statuses.push((await postSigned(events, SIGNING_SECRET, interactionBody(payload))).status);
    const command = slashCommandBody({ command: '/release', text: 'help', user_id: PEOPLE.requester, channel_id: 'C0CHECKOUT', response_url: harness.standin.responseUrl() });
    for (const body of [`${command}&text=again`, `${command}&event=x`, command.replace('command=%2Frelease', 'command=%2Fdeploy')]) statuses.push((await postSigned(events, SIGNING_SECRET, body)).status);
    expect(statuses).toEqual(Array(interactions.length + 3).fill(400));
    await pause(200);
    expect(harness.audit().filter((r) => r.actor === PEOPLE.alice)).toEqual([]);
    await stillServing();
  });

  it('refuses the replay of a signed slash command with 409: one approval request, not two', async () => {
    const before = await refusals();
    const body = rollbackBody('replayed once');
    const headers = { 'content-type': FORM, ...signedHeaders(SIGNING_SECRET, body) };
    const first = await fetch(events, { method: 'POST', headers, body });
    const replay = await fetch(events, { method: 'POST', headers, body });
    expect([first.status, replay.status]).toEqual([200, 409]);
    await harness.standin.waitFor(() => cardsMentioning('replayed once')[0]);
    await pause(500);
    expect(cardsMentioning('replayed once')).toHaveLength(1);
    expect((await refusals()).replay).toBe((before.replay ?? 0) + 1);
    expect(harness.logLines.filter((line) => line.includes('"security":true') && line.includes('"reason":"replay"'))).toHaveLength(1);
  });

  it('refuses timestamps more than five minutes in the future, ten years or six minutes, and accepts four', async () => {
    const before = await refusals();
    const decade = await postSigned(events, SIGNING_SECRET, rollbackBody('from the future'), { timestamp: now() + 10 * 365 * 24 * 3600 });
    const sixMinutes = await postSigned(events, SIGNING_SECRET, rollbackBody('from the future'), { timestamp: now() + 6 * 60 });
    expect([decade.status, sixMinutes.status]).toEqual([401, 401]);
    const help = slashCommandBody({ command: '/release', text: 'help', user_id: PEOPLE.requester, channel_id: 'C0CHECKOUT', response_url: harness.standin.responseUrl() });
    expect((await postSigned(events, SIGNING_SECRET, help, { timestamp: now() + 4 * 60 })).status).toBe(200);
    await pause(1500);
    expect(cardsMentioning('from the future')).toEqual([]);
    expect((await refusals()).timestamp).toBe((before.timestamp ?? 0) + 2);
    const logged = harness.logLines.filter((line) => line.includes('"reason":"timestamp"'));
    expect(logged.some((line) => line.includes('s in the future') && line.includes('"security":true'))).toBe(true);
  });

  it("acknowledges Slack's retries (x-slack-retry-num) with 200 without acting twice, whether or not re-signed", async () => {
    const triggerId = harness.standin.triggerId();
    const body = rollbackBody('retried by slack', triggerId);
    const original = signedHeaders(SIGNING_SECRET, body);
    const first = await fetch(events, { method: 'POST', headers: { 'content-type': FORM, ...original }, body });
    const retry = { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' };
    const same = await fetch(events, { method: 'POST', headers: { 'content-type': FORM, ...original, ...retry }, body });
    const resigned = await fetch(events, { method: 'POST', headers: { 'content-type': FORM, ...signedHeaders(SIGNING_SECRET, body, now() - 30), ...retry, 'x-slack-retry-num': '2' }, body });
    expect([first.status, same.status, resigned.status]).toEqual([200, 200, 200]);
    expect(await same.text()).toBe('');
    await harness.standin.waitFor(() => cardsMentioning('retried by slack')[0]);
    await pause(500);
    expect(cardsMentioning('retried by slack')).toHaveLength(1);
    expect(harness.logLines.filter((line) => line.includes("acknowledged Slack's retry"))).toHaveLength(2);
  });

  it('refuses a body over 1 MiB with 413 without reading it, declared or streamed', async () => {
    const before = await refusals();
    const declared = await rawPost(events, { 'content-type': FORM, 'content-length': 2 * 1024 * 1024, ...signedHeaders(SIGNING_SECRET, '') }, () => {}, 5_000);
    expect(declared).toMatchObject({ status: 413 });
    expect(declared.elapsedMs).toBeLessThan(2_000);
    // Past the limit, then quiet: a sender still writing when refused may see the connection reset instead.
    const streamed = await rawPost(events, { 'content-type': FORM, 'transfer-encoding': 'chunked' }, (req, answered) => streamFiller(req, 1024 * 1024 + 64 * 1024, answered, 64 * 1024, false), 10_000);
    expect(streamed).toMatchObject({ status: 413 });
    expect((await refusals()).too_large).toBe((before.too_large ?? 0) + 2);
    await stillServing();
  });

  it('answers 408 to a body that does not arrive in time, instead of waiting for it', async () => {
    const before = await refusals();
    const slow = await rawPost(events, { 'content-type': FORM, 'content-length': 100, ...signedHeaders(SIGNING_SECRET, '') }, (req) => void req.write('payload='), 15_000);
    expect(slow).toMatchObject({ status: 408 });
    expect(slow.elapsedMs).toBeGreaterThanOrEqual(4_500);
    expect(slow.elapsedMs).toBeLessThan(10_000);
    expect((await refusals()).timeout).toBe((before.timeout ?? 0) + 1);
    await stillServing();
  }, 30_000);

  it('answers a request target that is not a URL with 400', async () => {
    const socket = connect(harness.lifeguard.port, '127.0.0.1');
    const reply = await new Promise<string>((resolve, reject) => {
      let text = '';
      socket.on('connect', () => socket.write('POST http://[ HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n'));
      socket.on('data', (chunk) => {
        text += String(chunk);
        if (text.includes('\r\n\r\n')) resolve(text);
      });
      socket.on('error', reject);
      socket.on('close', () => resolve(text));
    });
    socket.destroy();
    expect(reply.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    await stillServing();
  });
});
