import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { parse } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { guardSlackEndpoint } from '../../src/adapters/slack/endpoint-guard.js';
import { SLACK_ROUTES } from '../../src/adapters/slack/routes.js';
import { SeenRequests } from '../../src/adapters/slack/seen-requests.js';
import { createLogger } from '../../src/log.js';
import { createTelemetry, type Telemetry } from '../../src/metrics.js';
import { postSigned, slashCommandBody } from '../support/slack-standin/sign.js';

describe('the replay memory', () => {
  it('forgets entries once they expire, and never holds more than its capacity', () => {
    let now = 1_000;
    const seen = new SeenRequests(3, () => now);
    expect(['a', 'b', 'c'].map((key) => seen.remember(key, 2_000))).toEqual([false, false, false]);
    expect(['a', 'b', 'c'].every((key) => seen.has(key))).toBe(true);
    expect(seen.remember('d', 3_000)).toBe(true);
    expect([seen.has('a'), seen.has('d'), seen.size]).toEqual([false, true, 3]);
    now = 2_500;
    expect([seen.has('b'), seen.has('d')]).toEqual([false, true]);
    expect(seen.remember('e', 4_000)).toBe(false);
    expect(seen.size).toBe(2);
  });
});

describe('the endpoint guard in front of a failing Bolt', () => {
  const SECRET = 'unit-signing-secret';
  let server: Server | undefined;
  const lines: string[] = [];
  const log = createLogger({ level: 'info', destination: new Writable({ write: (chunk, _e, done) => done(void lines.push(String(chunk))) }) });

  afterEach(async () => {
    await new Promise((resolve) => server?.close(resolve));
    server?.closeAllConnections();
    lines.length = 0;
  });

  async function serve(bolt: RequestListener, metrics: Telemetry): Promise<string> {
    server = createServer(guardSlackEndpoint(bolt, { signingSecret: SECRET, routes: SLACK_ROUTES, log, metrics, limits: { answerWithinMs: 300 } }));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server!.address() as AddressInfo).port}/slack/events`;
  }

  const help = () => slashCommandBody({ command: '/release', text: 'help', user_id: 'U09BOB', channel_id: 'C0CHECKOUT', response_url: 'http://127.0.0.1:9/response/1', trigger_id: `${Math.random()}` });
  const count = async (metrics: Telemetry, reason: string) => (await metrics.slackRequestErrors.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;

  it('answers 500 itself when Bolt never answers, instead of leaving the connection hanging', async () => {
    const metrics = createTelemetry({ processMetrics: false });
    const url = await serve(() => {}, metrics);
    const reply = await postSigned(url, SECRET, help());
    expect(reply.status).toBe(500);
    expect(reply.elapsedMs).toBeGreaterThanOrEqual(280);
    expect(await count(metrics, 'unanswered')).toBe(1);
    expect(lines.filter((line) => line.includes('Bolt did not answer'))).toHaveLength(1);
  });

  it('answers 500 when Bolt throws, and logs the error once with its context', async () => {
    const metrics = createTelemetry({ processMetrics: false });
    const url = await serve(() => {
      throw new Error('receiver broke');
    }, metrics);
    const reply = await postSigned(url, SECRET, help());
    expect(reply.status).toBe(500);
    expect(await count(metrics, 'internal')).toBe(1);
    const logged = lines.filter((line) => line.includes('receiver broke'));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toContain('"sigHeader":true');
  });

  it('lets through exactly the commands the Slack app manifest declares', () => {
    const manifest = parse(readFileSync('manifests/slack-app.yaml', 'utf8')) as { features: { slash_commands: { command: string }[] } };
    expect([...SLACK_ROUTES.commands]).toEqual(manifest.features.slash_commands.map((c) => c.command));
  });
});
