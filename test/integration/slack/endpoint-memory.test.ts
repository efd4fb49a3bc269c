import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLifeguardProcess, type LifeguardProcess } from '../../support/lifeguard-process.js';
import { rawPost, streamFiller } from '../../support/raw-post.js';
import { postSigned, slashCommandBody } from '../../support/slack-standin/sign.js';
import { SlackStandin } from '../../support/slack-standin/web-api.js';

const SECRET = 'memory-signing-secret';
const MB = 1024 * 1024;

describe('memory of lifeguard start under large unsigned posts', () => {
  let dir: string;
  let standin: SlackStandin;
  let lifeguard: LifeguardProcess;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lifeguard-memory-'));
    standin = await SlackStandin.start();
    lifeguard = await startLifeguardProcess({ SLACK_BOT_TOKEN: standin.botToken, SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: standin.apiUrl, LIFEGUARD_DB: join(dir, 'lifeguard.db') });
  });
  afterAll(async () => {
    await lifeguard.stop();
    await standin.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function refusedAsTooLarge(): Promise<number> {
    const metrics = await (await fetch(`${lifeguard.base}/metrics`)).text();
    return Number(/^lifeguard_slack_request_errors_total\{reason="too_large"\} (\d+)$/m.exec(metrics)?.[1] ?? 0);
  }

  it('grows by less than 50 MB while refusing 200 MB posted unsigned in 4 concurrent requests, and still serves /healthz', async () => {
    // Warm up the paths a Slack request takes, so the baseline holds what serving normally allocates.
    for (let i = 0; i < 5; i++) {
      const help = slashCommandBody({ command: '/release', text: 'help', user_id: 'U09BOB', channel_id: 'C0CHECKOUT', response_url: standin.responseUrl(), trigger_id: standin.triggerId() });
      expect((await postSigned(`${lifeguard.base}/slack/events`, SECRET, help)).status).toBe(200);
    }
    const refusedBefore = await refusedAsTooLarge();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const baseline = lifeguard.rssBytes();

    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, lifeguard.rssBytes())), 20);
    const events = `${lifeguard.base}/slack/events`;
    // Two declare their 50 MB, two stream it chunked with no length: both ways must be cut off.
    const posts = [0, 1, 2, 3].map((i) =>
      rawPost(
        events,
        { 'content-type': 'application/x-www-form-urlencoded', ...(i < 2 ? { 'content-length': 50 * MB } : { 'transfer-encoding': 'chunked' }) },
        (req, answered) => streamFiller(req, 50 * MB, answered),
        60_000,
      ),
    );
    const outcomes = await Promise.all(posts);
    await new Promise((resolve) => setTimeout(resolve, 300));
    clearInterval(sampler);
    peak = Math.max(peak, lifeguard.rssBytes());

    expect(peak - baseline).toBeLessThan(50 * MB);
    // Each is refused with 413 and the connection closed while the sender is still writing: a sender that does not
    // read before it writes again may see the reset (EPIPE) instead of the answer. The server's count says 413.
    for (const outcome of outcomes) expect(outcome.status === 413 || /EPIPE|ECONNRESET/.test(outcome.error ?? '')).toBe(true);
    expect(await refusedAsTooLarge()).toBe(refusedBefore + 4);
    expect(lifeguard.exitCode()).toBeNull();
    expect((await fetch(`${lifeguard.base}/healthz`)).status).toBe(200);
  }, 120_000);
});
