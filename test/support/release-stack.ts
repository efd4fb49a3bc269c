import Database from 'better-sqlite3';
import { execFile } from 'node:child_process';
import { KubeConfig } from '@kubernetes/client-node';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll } from 'vitest';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { kubernetesCluster } from '../../src/adapters/kubernetes/cluster.js';
import { parseConfig } from '../../src/config/load.js';
import { serviceTarget, type ServiceState } from '../../src/domain/cluster-state.js';
import type { Operation } from '../../src/domain/operation.js';
import { createLogger } from '../../src/log.js';
import { startLifeguard, type Lifeguard } from '../../src/main.js';
import { fastConfig, fastConfigYaml, type FastConfigOptions } from './engine-config.js';
import { KubeStandin } from './kube-standin/server.js';
import { seedCheckout } from './kube-standin/seed.js';
import { WorkloadSimulator } from './kube-standin/simulator.js';
import { startLifeguardProcess, type LifeguardProcess } from './lifeguard-process.js';
import { startScrapingPrometheus, waitForHistory, type ScrapingPrometheus } from './prometheus.js';

/** One series of checkout's stable in production, as the simulator exports it. */
const STABLE_SERIES = 'http_requests_total{namespace="shop",app="checkout",version="baseline",status="200"}';
import { PEOPLE, SIGNING_SECRET } from './slack-standin/harness.js';
import { buttonClick } from './slack-standin/payloads.js';
import { interactionBody, postSigned, slashCommandBody } from './slack-standin/sign.js';
import { SlackStandin, type RecordedCall } from './slack-standin/web-api.js';

/*
 * Everything a release touches, for end-to-end tests: the Kubernetes stand-in seeded with checkout and its
 * workload simulator, a real Prometheus scraping it every second, the Slack stand-in, and Lifeguard itself with
 * the second-scale config of engine-config.ts, reached only as Slack reaches it (signed HTTP) and read only as
 * people and kubectl would read it (Slack messages, the cluster, the audit log).
 */

export { PEOPLE };

export interface StackOptions extends Omit<FastConfigOptions, 'prometheusUrl'> {
  /** Run `lifeguard start` as a child process (for SIGKILL), instead of in this process. */
  child?: boolean;
  seed?: number;
  /** Requests per second each service receives in the simulator (200 for those not named). */
  requestsPerSecond?: Record<string, number>;
}

export interface Card {
  requestId: number;
  channel: string;
  ts: string;
}

export class ReleaseStack {
  private lifeguardInProcess: Lifeguard | undefined;
  private child: LifeguardProcess | undefined;
  readonly logLines: string[] = [];
  url = '';

  private constructor(
    readonly dir: string,
    readonly kube: KubeStandin,
    readonly simulator: WorkloadSimulator,
    readonly prometheus: ScrapingPrometheus,
    readonly slack: SlackStandin,
    readonly configFile: string,
    readonly kubeconfig: string,
    private readonly options: StackOptions,
  ) {}

  static async start(options: StackOptions = {}): Promise<ReleaseStack> {
    const dir = mkdtempSync(join(tmpdir(), 'lifeguard-e2e-'));
    const kube = await KubeStandin.start({ readyDelayMs: 0 });
    await seedCheckout(kube);
    kube.setReadyDelay(200);
    const simulator = await WorkloadSimulator.start(kube, { seed: options.seed ?? 7, ...(options.requestsPerSecond ? { requestsPerSecond: options.requestsPerSecond } : {}) });
    const prometheus = await startScrapingPrometheus({ targets: [simulator.target] });
    const slack = await SlackStandin.start({
      usergroups: [
        { id: 'S01RM', handle: 'release-managers', users: [PEOPLE.frank] },
        { id: 'S02OC', handle: 'oncall', users: [PEOPLE.oscar] },
      ],
      // Everyone here is in the workspace: Lifeguard may write to them directly.
      users: Object.values(PEOPLE),
    });
    const configFile = join(dir, 'lifeguard.yaml');
    writeFileSync(configFile, fastConfigYaml({ ...options, prometheusUrl: prometheus.url }));
    const kubeconfig = kube.writeKubeconfig('lifeguard-standin', join(dir, 'kubeconfig'));
    const stack = new ReleaseStack(dir, kube, simulator, prometheus, slack, configFile, kubeconfig, options);
    // The watch after a promotion, and the check after a rollback, compare the stable with its own past.
    await waitForHistory(prometheus.url, STABLE_SERIES, 20);
    await stack.startLifeguard();
    return stack;
  }

  /** The in-process Lifeguard, to run what its cron would (health summaries) by hand. */
  get lifeguard(): Lifeguard {
    if (!this.lifeguardInProcess) throw new Error('the stack runs Lifeguard as a child process: it has no in-process Lifeguard');
    return this.lifeguardInProcess;
  }

  get db(): string {
    return join(this.dir, 'lifeguard.db');
  }

  private env(): NodeJS.ProcessEnv {
    return {
      SLACK_BOT_TOKEN: this.slack.botToken,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: this.slack.apiUrl,
      PORT: '0',
      LIFEGUARD_CONFIG: this.configFile,
      LIFEGUARD_DB: this.db,
      KUBECONFIG: this.kubeconfig,
      LOG_LEVEL: 'info',
    };
  }

  /** Starts Lifeguard (again, after `kill`): in-process, or as `lifeguard start` when the stack runs it as a child. */
  async startLifeguard(): Promise<void> {
    if (this.options.child) {
      this.child = await startLifeguardProcess(this.env(), { config: this.configFile });
      this.url = this.child.base;
      return;
    }
    const lines = this.logLines;
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    this.lifeguardInProcess = await startLifeguard({
      env: this.env(),
      host: '127.0.0.1',
      log: createLogger({ level: 'info', destination }),
      tuning: { minPostIntervalMs: 50, outbox: { minIntervalMs: 50, backoffMs: 100, maxBackoffMs: 1_000, pollMs: 200 }, engineTickMs: 250 },
    });
    this.url = `http://127.0.0.1:${this.lifeguardInProcess.port}`;
    await this.slack.waitFor(() => this.slack.okCalls('auth.test').length > 0);
  }

  /** SIGKILL of the child Lifeguard: nothing it holds in memory survives. */
  async kill(): Promise<void> {
    if (!this.child) throw new Error('kill needs a stack started with { child: true }');
    const exited = new Promise((resolve) => this.child!.child.once('exit', resolve));
    this.child.child.kill('SIGKILL');
    await exited;
    this.child = undefined;
  }

  /** A slash command from `user` in the service's channel; resolves with the ephemeral answers it got. */
  async command(command: string, text: string, user: string = PEOPLE.requester): Promise<{ status: number; body: string; responseUrl: string }> {
    const responseUrl = this.slack.responseUrl();
    const body = slashCommandBody({ command, text, user_id: user, channel_id: 'C0CHECKOUT', response_url: responseUrl, trigger_id: this.slack.triggerId() });
    return { ...(await postSigned(`${this.url}/slack/events`, SIGNING_SECRET, body)), responseUrl };
  }

  /** The ephemeral answers sent to a response_url so far. */
  answers(responseUrl: string): string[] {
    const path = new URL(responseUrl).pathname;
    return this.slack
      .callsTo('response_url')
      .filter((c) => c.args.url === path)
      .map((c) => String(c.args.text));
  }

  /** A button click on a card, as Slack sends it. */
  async click(user: string, actionId: string, value: number, card: Pick<Card, 'channel' | 'ts'>): Promise<{ status: number; responseUrl: string }> {
    const responseUrl = this.slack.responseUrl();
    const payload = buttonClick({ user, actionId, value: String(value), channel: card.channel, messageTs: card.ts, responseUrl, triggerId: this.slack.triggerId() });
    const result = await postSigned(`${this.url}/slack/events`, SIGNING_SECRET, interactionBody(payload));
    return { status: result.status, responseUrl };
  }

  /** `/release checkout <version>` by the requester, and its card once posted. */
  async requestRelease(version: string, extra = ''): Promise<Card> {
    return this.request('/release', `checkout ${version} ${extra}`.trim());
  }

  /** A slash command that opens a request (`/release`, `/rollback`, `/hotfix`), and its card once posted. */
  async request(command: string, text: string, user: string = PEOPLE.requester): Promise<Card> {
    const before = this.slack.topLevelPosts().length;
    const sent = await this.command(command, text, user);
    if (sent.status !== 200) throw new Error(`${command} answered ${sent.status}: ${sent.body}`);
    const post = await this.slack.waitFor(() => this.slack.topLevelPosts().slice(before).find((c) => JSON.stringify(c.args.blocks).includes('approval.approve')), 30_000);
    const approve = (post.args.blocks as { elements?: { action_id?: string; value?: string }[] }[]).flatMap((b) => b.elements ?? []).find((e) => e.action_id === 'approval.approve');
    return { requestId: Number(approve!.value), channel: String(post.response.channel), ts: String(post.response.ts) };
  }

  /** Requests a release and has alice (release-manager) approve it: the release starts. */
  async release(version: string): Promise<Card> {
    const card = await this.requestRelease(version);
    await this.click(PEOPLE.alice, 'approval.approve', card.requestId, card);
    await this.waitFor(() => this.operationOf(card.requestId), 'the approved release never started');
    return card;
  }

  /** The real kubectl against the stand-in; never throws, so a test can assert on a failure too. */
  kubectl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile('kubectl', ['--kubeconfig', this.kubeconfig, ...args], { timeout: 20_000 }, (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      });
    });
  }

  /** `kubectl rollout history` of a Deployment in `shop`, as its rows: revision and change cause, oldest first. */
  async rolloutHistory(deployment = 'checkout'): Promise<{ revision: number; changeCause: string }[]> {
    const { code, stdout, stderr } = await this.kubectl('-n', 'shop', 'rollout', 'history', `deployment/${deployment}`);
    if (code !== 0) throw new Error(`kubectl rollout history failed: ${stderr}`);
    return stdout.split('\n').flatMap((line) => {
      const row = /^(\d+)\s+(.*)$/.exec(line.trim());
      return row ? [{ revision: Number(row[1]), changeCause: row[2]!.trim() }] : [];
    });
  }

  /** Messages posted in a card's thread, in the order Slack got them. */
  thread(card: Pick<Card, 'ts'>): RecordedCall[] {
    return this.slack.okCalls('chat.postMessage').filter((c) => c.args.thread_ts === card.ts);
  }

  threadTexts(card: Pick<Card, 'ts'>): string[] {
    return this.thread(card).map((c) => String(c.args.text));
  }

  /** The card as Slack shows it now: its last update (or the post itself). */
  cardNow(card: Card): string {
    const updates = this.slack.okCalls('chat.update').filter((c) => c.args.ts === card.ts);
    const last = updates.at(-1) ?? this.slack.okCalls('chat.postMessage').find((c) => String(c.response.ts) === card.ts);
    return JSON.stringify(last?.args.blocks ?? []);
  }

  /** Posts in the incident channel (updates of the same post included, as the latest version of each). */
  incidents(): string[] {
    const posts = this.slack.okCalls('chat.postMessage').filter((c) => c.args.channel === '#incidents');
    return posts.map((post) => {
      const updates = this.slack.okCalls('chat.update').filter((c) => c.args.ts === post.response.ts);
      return JSON.stringify((updates.at(-1) ?? post).args.blocks ?? []) + String((updates.at(-1) ?? post).args.text);
    });
  }

  /** The operation a request started, as the store holds it. */
  operationOf(requestId: number): Operation | undefined {
    return this.query<{ body: string; id: number; version: number }>('SELECT id, body, version FROM operations WHERE request_id = ?', requestId).map((r) => ({ ...(JSON.parse(r.body) as Operation), id: r.id, version: r.version }))[0];
  }

  /** Waits until the operation a request started has ended, and gives it as it ended. */
  ended(requestId: number, what = 'the operation did not end', timeoutMs = 120_000): Promise<Operation> {
    return this.waitFor(() => {
      const now = this.operationOf(requestId);
      return now && ['promoted', 'rolled-back', 'failed', 'aborted'].includes(now.state) ? now : undefined;
    }, what, timeoutMs);
  }

  operations(): Operation[] {
    return this.query<{ body: string; id: number; version: number }>('SELECT id, body, version FROM operations ORDER BY id').map((r) => ({ ...(JSON.parse(r.body) as Operation), id: r.id, version: r.version }));
  }

  /** The outbox as stored, oldest first: what the engine asked to say, and whether it was delivered. */
  outbox(): { key: string; channel: string; threadTs: string | null; sent: boolean; gaveUp: boolean }[] {
    return this.query<{ key: string; channel: string; thread_ts: string | null; sent_at: string | null; gave_up_at: string | null }>(
      'SELECT key, channel, thread_ts, sent_at, gave_up_at FROM outbox ORDER BY id',
    ).map((r) => ({ key: r.key, channel: r.channel, threadTs: r.thread_ts, sent: r.sent_at !== null, gaveUp: r.gave_up_at !== null }));
  }

  audit(): { id: number; at: string; actor: string; action: string; subject: string; detail: Record<string, unknown> }[] {
    return this.query<{ id: number; at: string; actor: string; action: string; subject: string; detail: string }>('SELECT id, at, actor, action, subject, detail FROM audit_log ORDER BY id').map((r) => ({
      ...r,
      detail: JSON.parse(r.detail) as Record<string, unknown>,
    }));
  }

  private query<T>(sql: string, ...params: unknown[]): T[] {
    const reader = new Database(this.db, { readonly: true, fileMustExist: true });
    try {
      return reader.prepare(sql).all(...params) as T[];
    } finally {
      reader.close();
    }
  }

  /** checkout in production as the cluster has it now. */
  async cluster(): Promise<ServiceState> {
    const config = parseConfig(fastConfig({ prometheusUrl: this.prometheus.url, ...this.options }));
    const adapter = kubernetesCluster(config, {
      kubeConfig: () => {
        const kc = new KubeConfig();
        kc.loadFromFile(this.kubeconfig);
        return kc;
      },
    });
    return adapter.workloads.readState(serviceTarget(config, 'checkout', 'production'));
  }

  /** Polls `probe` until it gives a value; fails with `what` and the operations' states after `timeoutMs`. */
  async waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 60_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      if (Date.now() > deadline) {
        const ops = this.operations().map((o) => `#${o.id} ${o.state}/${o.phase} at ${o.weight} %`);
        throw new Error(`${what} within ${timeoutMs} ms (operations: ${ops.join('; ') || 'none'})`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async close(): Promise<void> {
    await this.lifeguardInProcess?.stop();
    await this.child?.stop();
    await this.prometheus.stop();
    await this.simulator.stop();
    await this.kube.stop();
    await this.slack.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** One stack for the tests of a `describe`, started before them and closed after; the getter gives it. */
export function useReleaseStack(options: StackOptions = {}): () => ReleaseStack {
  let stack: ReleaseStack | undefined;
  beforeAll(async () => {
    stack = await ReleaseStack.start(options);
  }, 90_000);
  afterAll(async () => {
    await stack?.close();
  });
  return () => stack!;
}
