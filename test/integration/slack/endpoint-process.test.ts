import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../support/cli.js';
import { startLifeguardProcess, type LifeguardProcess } from '../../support/lifeguard-process.js';
import { postSigned, slashCommandBody } from '../../support/slack-standin/sign.js';
import { SlackStandin } from '../../support/slack-standin/web-api.js';

const SECRET = 'process-signing-secret';
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The first line of the answer to a request written byte for byte. */
function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    let reply = '';
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    socket.on('data', (chunk) => {
      reply += String(chunk);
      if (reply.includes('\r\n')) socket.destroy();
    });
    socket.on('error', () => resolve(reply.split('\r\n')[0] ?? ''));
    socket.on('close', () => resolve(reply.split('\r\n')[0] ?? ''));
  });
}

describe('lifeguard start, sent the requests that used to end it', () => {
  let dir: string;
  let standin: SlackStandin;
  let lifeguard: LifeguardProcess;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lifeguard-process-'));
    standin = await SlackStandin.start();
    lifeguard = await startLifeguardProcess(
      { SLACK_BOT_TOKEN: standin.botToken, SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: standin.apiUrl, LIFEGUARD_DB: join(dir, 'lifeguard.db') },
      { nodeArgs: ['--import', join(REPO_ROOT, 'test', 'support', 'inject-faults.ts')] },
    );
  });
  afterAll(async () => {
    await lifeguard.stop();
    await standin.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function serves(): Promise<void> {
    expect(lifeguard.exitCode()).toBeNull();
    expect((await fetch(`${lifeguard.base}/healthz`)).status).toBe(200);
    const body = slashCommandBody({ command: '/release', text: 'help', user_id: 'U09BOB', channel_id: 'C0CHECKOUT', response_url: standin.responseUrl() });
    const reply = await postSigned(`${lifeguard.base}/slack/events`, SECRET, body);
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toMatchObject({ text: 'Lifeguard commands' });
  }

  it('answers a signed payload=null, a signed JSON null and a target that is not a URL with 400, logs each once, and keeps serving', async () => {
    const events = `${lifeguard.base}/slack/events`;
    const form = await postSigned(events, SECRET, 'payload=null');
    const json = await postSigned(events, SECRET, 'null', { headers: { 'content-type': 'application/json' } });
    const target = await rawRequest(Number(new URL(lifeguard.base).port), 'POST http://[ HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n');
    expect([form.status, json.status, target]).toEqual([400, 400, 'HTTP/1.1 400 Bad Request']);
    await pause(300);
    await serves();
    expect(lifeguard.out().split('\n').filter((line) => line.includes('the body is null, not an object'))).toHaveLength(2);
    expect(lifeguard.err()).toBe('');
  });

  it('logs and counts an error that escapes every handler, and keeps serving', async () => {
    lifeguard.child.kill('SIGUSR2');
    await pause(500);
    await serves();
    const escaped = lifeguard.out().split('\n').filter((line) => line.includes('an error escaped every handler'));
    expect(escaped.map((line) => (JSON.parse(line) as { origin: string }).origin).sort()).toEqual(['uncaughtException', 'unhandledRejection']);
    expect(escaped.join('\n')).toContain('injected: thrown from a timer');
    const metrics = await (await fetch(`${lifeguard.base}/metrics`)).text();
    expect(metrics).toContain('lifeguard_uncaught_errors_total{origin="uncaughtException"} 1');
    expect(metrics).toContain('lifeguard_uncaught_errors_total{origin="unhandledRejection"} 1');
  });
});
