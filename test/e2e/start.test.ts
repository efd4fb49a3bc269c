import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlackStandin } from '../support/slack-standin/web-api.js';
import { postSigned, slashCommandBody } from '../support/slack-standin/sign.js';
import { until } from '../support/until.js';

const SECRET = 'e2e-signing-secret';

function lifeguard(args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; out: () => string; err: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += String(chunk)));
  child.stderr!.on('data', (chunk: Buffer) => (err += String(chunk)));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exit };
}

describe('lifeguard start', () => {
  let dir: string;
  let standin: SlackStandin;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lifeguard-start-'));
    standin = await SlackStandin.start();
  });
  afterAll(async () => {
    await standin.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves Slack and the probes on PORT, and stops cleanly on SIGTERM', async () => {
    const run = lifeguard(['start', '--config', 'lifeguard.example.yaml', '--host', '127.0.0.1'], {
      SLACK_BOT_TOKEN: standin.botToken,
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_API_URL: standin.apiUrl,
      PORT: '0',
      LIFEGUARD_DB: join(dir, 'lifeguard.db'),
    });
    const started = await until(() => run.out().split('\n').find((line) => line.includes('lifeguard started')));
    const port = (JSON.parse(started) as { port: number }).port;
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);

    const body = slashCommandBody({ command: '/release', text: 'help', user_id: 'U09BOB', channel_id: 'C0CHECKOUT', response_url: standin.responseUrl() });
    const reply = await postSigned(`${base}/slack/events`, SECRET, body);
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toMatchObject({ response_type: 'ephemeral', text: 'Lifeguard commands' });

    run.child.kill('SIGTERM');
    expect(await run.exit).toBe(0);
    expect(run.out()).toContain('lifeguard stopped');
    expect(run.out() + run.err()).not.toContain(standin.botToken);
  });

  it('exits 2 for a bad config or missing environment, 1 when Slack refuses the token', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'slack: { releaseChannel: releases }\n');
    const run = lifeguard(['start', '--config', bad], { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: SECRET, LIFEGUARD_DB: join(dir, 'x.db') });
    expect(await run.exit).toBe(2);
    expect(run.err()).toContain('slack.releaseChannel: must be a #channel-name');

    const refused = lifeguard(['start', '--config', 'lifeguard.example.yaml', '--host', '127.0.0.1'], {
      SLACK_BOT_TOKEN: 'xoxb-revoked',
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_API_URL: standin.apiUrl,
      PORT: '0',
      LIFEGUARD_DB: join(dir, 'refused.db'),
    });
    expect(await refused.exit).toBe(1);
    expect(refused.err()).toBe(`lifeguard start: cannot verify the bot token with Slack at ${standin.apiUrl}: Slack refused SLACK_BOT_TOKEN (invalid_auth)\n`);

    const bare = lifeguard(['start', '--config', 'lifeguard.example.yaml'], {});
    expect(await bare.exit).toBe(2);
    expect(bare.err()).toBe('lifeguard start: missing environment: SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for Socket Mode); see .env.example\n');
  });
});
