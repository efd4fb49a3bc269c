import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '../../../src/log.js';
import { loadConfig } from '../../../src/config/load.js';
import { startLifeguard, type Lifeguard } from '../../../src/main.js';
import type { Clock, Cluster } from '../../../src/ports.js';
import { KubeConfig } from '@kubernetes/client-node';
import { kubernetesCluster } from '../../../src/adapters/kubernetes/cluster.js';
import { SlackStandin } from './web-api.js';
import { interactionBody, postSigned, slashCommandBody } from './sign.js';
import { buttonClick, type ClickInput } from './payloads.js';

export const SIGNING_SECRET = 'standin-signing-secret';

/** The people of the example config's roles, as the stand-in's workspace knows them. */
export const PEOPLE = {
  requester: 'U09BOB',
  alice: 'U01ALICE', // release-manager by user id
  frank: 'U05FRANK', // release-manager through @release-managers
  oscar: 'U06OSCAR', // on-call through @oncall
  nobody: 'U08HANK',
} as const;

export interface Harness {
  standin: SlackStandin;
  lifeguard: Lifeguard;
  url: string;
  logLines: string[];
  /** The database file, for tests that seed state another process would have written. */
  db: string;
  audit(): { actor: string; action: string; subject: string; detail: string }[];
  command(command: string, text: string, user?: string): Promise<{ status: number; body: string; elapsedMs: number; responseUrl: string }>;
  click(input: Omit<ClickInput, 'responseUrl' | 'triggerId'>): Promise<{ status: number; responseUrl: string; triggerId: string }>;
  interact(payload: Record<string, unknown>): Promise<{ status: number; body: string }>;
  close(): Promise<void>;
}

/**
 * A cluster nobody listens for (a closed loopback port): what Lifeguard meets when its cluster is away. Tests
 * about the cluster pass a Kubernetes cluster adapter talking to the Kubernetes stand-in instead.
 */
export function unreachableCluster(config: Parameters<typeof kubernetesCluster>[0]): Cluster {
  return kubernetesCluster(config, {
    retry: { attempts: 1, requestTimeoutMs: 1_000 },
    kubeConfig: () => {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: 'away', server: 'https://127.0.0.1:1', skipTLSVerify: true }],
        users: [{ name: 'lifeguard' }],
        contexts: [{ name: 'away', cluster: 'away', user: 'lifeguard' }],
        currentContext: 'away',
      });
      return kc;
    },
  });
}

/**
 * The example config in `dir`. Its weekend freeze would refuse the releases of tests that run on a weekend, or
 * at the fixed Sunday the manual clocks start at, so it is left out unless a test is about freezes.
 */
function exampleConfig(dir: string, keepFreezes: boolean): string {
  const document = parse(readFileSync('lifeguard.example.yaml', 'utf8')) as { environments: Record<string, { freezes?: unknown }> };
  if (!keepFreezes) for (const environment of Object.values(document.environments)) delete environment.freezes;
  const file = join(dir, 'lifeguard.yaml');
  writeFileSync(file, stringify(document, { lineWidth: 0 }));
  return file;
}

/** Lifeguard on a free loopback port with the example config, a temp database and the Slack stand-in. */
export async function startHarness(
  options: { clock?: Clock; cluster?: Cluster; socketMode?: boolean; statusTimeoutMs?: number; keepFreezes?: boolean } = {},
): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'lifeguard-slack-'));
  const configFile = exampleConfig(dir, options.keepFreezes ?? false);
  const standin = await SlackStandin.start({
    usergroups: [
      { id: 'S01RM', handle: 'release-managers', users: [PEOPLE.frank] },
      { id: 'S02OC', handle: 'oncall', users: [PEOPLE.oscar] },
    ],
    // Everyone here is in the workspace: Lifeguard may write to them directly.
    users: Object.values(PEOPLE),
  });
  const logLines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  const db = join(dir, 'lifeguard.db');
  const lifeguard = await startLifeguard({
    env: {
      SLACK_BOT_TOKEN: standin.botToken,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      ...(options.socketMode ? { SLACK_APP_TOKEN: standin.appToken } : {}),
      SLACK_API_URL: standin.apiUrl,
      PORT: '0',
      LIFEGUARD_CONFIG: configFile,
      LIFEGUARD_DB: db,
    },
    host: '127.0.0.1',
    log: createLogger({ level: 'info', destination }),
    ...(options.clock ? { clock: options.clock } : {}),
    cluster: options.cluster ?? unreachableCluster(loadConfig('lifeguard.example.yaml', {})),
    tuning: { minPostIntervalMs: 50, statusTimeoutMs: options.statusTimeoutMs ?? 30_000 },
  });
  const url = `http://127.0.0.1:${lifeguard.port}`;
  // Bolt verifies the bot token with auth.test as it starts; wait for it so tests see only the calls they cause.
  await standin.waitFor(() => standin.okCalls('auth.test').length > 0);

  return {
    standin,
    lifeguard,
    url,
    logLines,
    db,
    audit: () => {
      const reader = new Database(db, { readonly: true });
      try {
        return reader.prepare('SELECT actor, action, subject, detail FROM audit_log ORDER BY id').all() as ReturnType<Harness['audit']>;
      } finally {
        reader.close();
      }
    },
    async command(command, text, user = PEOPLE.requester) {
      const responseUrl = standin.responseUrl();
      const body = slashCommandBody({ command, text, user_id: user, channel_id: 'C0CHECKOUT', response_url: responseUrl, trigger_id: standin.triggerId() });
      return { ...(await postSigned(`${url}/slack/events`, SIGNING_SECRET, body)), responseUrl };
    },
    async click(input) {
      const responseUrl = standin.responseUrl();
      const triggerId = standin.triggerId();
      const result = await postSigned(`${url}/slack/events`, SIGNING_SECRET, interactionBody(buttonClick({ ...input, responseUrl, triggerId })));
      return { status: result.status, responseUrl, triggerId };
    },
    async interact(payload) {
      const result = await postSigned(`${url}/slack/events`, SIGNING_SECRET, interactionBody(payload));
      return { status: result.status, body: result.body };
    },
    async close() {
      await lifeguard.stop();
      await standin.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The response_url posts made to `url`, as recorded by the stand-in. */
export function responses(standin: SlackStandin, url: string): Record<string, unknown>[] {
  const path = new URL(url).pathname;
  return standin.callsTo('response_url').filter((c) => c.args.url === path).map((c) => c.args);
}
