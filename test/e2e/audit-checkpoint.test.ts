import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { runCli } from '../support/cli.js';
import { typeOfKind } from '../support/kube-standin/resources.js';
import { KubeStandin } from '../support/kube-standin/server.js';
import { SlackStandin } from '../support/slack-standin/web-api.js';
import { until } from '../support/until.js';

const KEY = 'e2e-audit-key-'.padEnd(48, 'x');

describe('lifeguard start publishes audit checkpoints', () => {
  let dir: string;
  let slack: SlackStandin;
  let kube: KubeStandin;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lifeguard-checkpoint-'));
    slack = await SlackStandin.start();
    kube = await KubeStandin.start();
  });
  afterAll(async () => {
    await slack.close();
    await kube.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs the head and writes the ConfigMap at shutdown, keyed, and never prints the key', async () => {
    const db = join(dir, 'lifeguard.db');
    const env = {
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_SIGNING_SECRET: 'e2e-signing-secret',
      SLACK_API_URL: slack.apiUrl,
      PORT: '0',
      LIFEGUARD_DB: db,
      LIFEGUARD_AUDIT_KEY: KEY,
      POD_NAMESPACE: 'lifeguard',
      POD_NAME: 'lifeguard-0',
      KUBECONFIG: kube.writeKubeconfig(),
    };
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'start', '--config', 'lifeguard.example.yaml', '--host', '127.0.0.1'], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += String(chunk)));
    child.stderr.on('data', (chunk: Buffer) => (err += String(chunk)));
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const lines = () => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { msg: string; checkpoint?: { id: number; hash: string; at: string } });
    await until(() => lines().find((l) => l.msg === 'lifeguard started'), 30_000);

    // Another process appends while Lifeguard runs, as `lifeguard audit note` would; the shutdown checkpoint covers it.
    const note = await runCli(['audit', 'note', 'hand fix while it runs', '--db', db], { LIFEGUARD_AUDIT_KEY: KEY, LIFEGUARD_OPERATOR: 'ops' });
    expect(note).toMatchObject({ code: 0, stdout: 'noted as audit row 1 by cli:ops\n' });
    const reader = new Database(db, { readonly: true });
    const head = reader.prepare<[], { id: number; hash: string }>('SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1').get()!;
    reader.close();
    expect(head.hash).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);

    child.kill('SIGTERM');
    expect(await exit).toBe(0);
    const all = lines();
    const stopped = all.findIndex((l) => l.msg === 'lifeguard stopped');
    const last = all.slice(0, stopped).filter((l) => l.msg === 'audit checkpoint').at(-1);
    expect(last?.checkpoint).toEqual({ id: 1, hash: head.hash, at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    expect(kube.store.get(typeOfKind('ConfigMap'), 'lifeguard', 'lifeguard-audit-checkpoint')?.data).toMatchObject({ id: '1', hash: head.hash, expect: `1:${head.hash}` });
    expect(out + err).not.toContain(KEY);

    const verified = await runCli(['audit', 'verify', '--db', db, '--expect', `1:${head.hash}`], { LIFEGUARD_AUDIT_KEY: KEY });
    expect(verified.code).toBe(0);
  }, 120_000);

  it('refuses to start with a short key, or without the key of a keyed log, exit 2, printing no key', async () => {
    const start = (env: NodeJS.ProcessEnv) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'start', '--config', 'lifeguard.example.yaml', '--host', '127.0.0.1'], {
        env: { PATH: process.env.PATH, SLACK_BOT_TOKEN: slack.botToken, SLACK_SIGNING_SECRET: 'e2e-signing-secret', SLACK_API_URL: slack.apiUrl, PORT: '0', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (chunk: Buffer) => (err += String(chunk)));
      return new Promise<{ code: number | null; err: string }>((resolve) => child.on('exit', (code) => resolve({ code, err })));
    };
    const short = await start({ LIFEGUARD_DB: join(dir, 'short.db'), LIFEGUARD_AUDIT_KEY: 'hunter2-hunter2' });
    expect(short.code).toBe(2);
    expect(short.err).toBe('lifeguard start: invalid environment:\nLIFEGUARD_AUDIT_KEY: must be at least 32 characters (e.g. `openssl rand -hex 32`)\n');

    const db = join(dir, 'keyed.db');
    expect((await runCli(['audit', 'note', 'keyed from the start', '--db', db], { LIFEGUARD_AUDIT_KEY: KEY })).code).toBe(0);
    const unkeyed = await start({ LIFEGUARD_DB: db });
    expect(unkeyed.code).toBe(2);
    expect(unkeyed.err).toBe(
      'lifeguard start: the audit chain is keyed (its newest row, 1, is HMAC-SHA256): set LIFEGUARD_AUDIT_KEY to the key it was written with; appending plain SHA-256 rows would break it\n',
    );
    const otherKey = 'another-key-'.padEnd(40, 'y');
    const wrong = await start({ LIFEGUARD_DB: db, LIFEGUARD_AUDIT_KEY: otherKey });
    expect(wrong.code).toBe(2);
    expect(wrong.err).toContain('lifeguard start: the newest audit row (1) does not verify with LIFEGUARD_AUDIT_KEY');
    expect(wrong.err).not.toContain(otherKey);
  }, 120_000);
});
