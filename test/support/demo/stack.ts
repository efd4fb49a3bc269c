import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { stringify } from 'yaml';
import { createLogger } from '../../../src/log.js';
import { startLifeguard } from '../../../src/main.js';
import { fastConfig } from '../engine-config.js';
import { KubeStandin } from '../kube-standin/server.js';
import { typeOfKind } from '../kube-standin/resources.js';
import { seedCheckout } from '../kube-standin/seed.js';
import { WorkloadSimulator } from '../kube-standin/simulator.js';
import { freePort, startScrapingPrometheus, waitForHistory, type ScrapingPrometheus } from '../prometheus.js';
import { SlackStandin } from '../slack-standin/web-api.js';
import { PageServer } from '../playground/server.js';
import type { MetricTemplate } from '../playground/panel.js';
import { DEMO_NAMES, PEOPLE, PLAYGROUND_PEOPLE } from './people.js';

/** The kubeconfig context the demo's config names for its cluster. */
const KUBE_CONTEXT = 'lifeguard-standin';
/** Each step of the demo's releases lasts at least this long, and so does the watch after a promotion. */
const STEP_DURATION = '6s';

/**
 * The e2e tests' second-scale config (engine-config.ts), with the example's people and checkout in production,
 * steps and watch shortened so that a release takes well under a minute. A `-bad` canary breaks three metrics at
 * once, and the demo is about its error rate: success-rate (1 − error rate, against a looser bound) is held as
 * long as error-rate, so it can never fail first, and latency-p99 twice as long.
 */
function demoConfig(prometheusUrl: string): Record<string, unknown> {
  const config = fastConfig({ prometheusUrl, stepDuration: STEP_DURATION, watch: STEP_DURATION });
  const metrics = config.metrics as Record<string, Record<string, unknown>>;
  metrics['success-rate']!.for = metrics['error-rate']!.for;
  metrics['latency-p99']!.for = '10s';
  return config;
}

/** Everything the demo runs, on loopback ports, with its files in one temporary directory. */
export interface DemoStack {
  dir: string;
  kubeconfig: string;
  /** The demo's lifeguard.yaml, written for this run. */
  configFile: string;
  slack: SlackStandin;
  /** Absent when prometheus is not installed. */
  prometheus?: ScrapingPrometheus | undefined;
  /** Where Lifeguard serves /slack/events, /healthz, /readyz and /metrics. */
  url: string;
  /** The generated signing secret Lifeguard checks every Slack request against. */
  signingSecret: string;
  db: string;
  logFile: string;
  /** The workspace page's address, when it was asked for. */
  pageUrl?: string | undefined;
  /** Stops everything it started, newest first, and removes the directory; safe to call twice. */
  stop(): Promise<void>;
}

export interface StackOptions {
  /** Preferred port for Lifeguard; when it is taken a free one is used and `note` says so. */
  port: number;
  /** PATH searched for prometheus. */
  path: string | undefined;
  note: (line: string) => void;
  /** Preferred port of the workspace page (a free one when taken); no page when absent. */
  pagePort?: number | undefined;
}

/** The first executable called `name` on `path`, as a shell would find it. */
export function findExecutable(name: string, path: string | undefined): string | undefined {
  for (const dir of (path ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** `preferred` if nothing listens there on 127.0.0.1, else 0 (any free port). */
async function usablePort(preferred: number): Promise<number> {
  if (preferred === 0) return 0;
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(0));
    probe.listen(preferred, '127.0.0.1', () => probe.close(() => resolve(preferred)));
  });
}


/** What has started so far, to stop newest first. */
type Stoppers = (() => Promise<void> | void)[];

/** The API-server stand-in with checkout, and a kubeconfig in `dir` that reaches it. */
async function startCluster(dir: string, stoppers: Stoppers, note: StackOptions['note']): Promise<{ kube: KubeStandin; kubeconfig: string }> {
  const kube = await KubeStandin.start({ readyDelayMs: 0 });
  stoppers.push(() => kube.stop());
  await seedCheckout(kube);
  // Pods take a moment to become ready, as in a cluster: Lifeguard waits for each rollout.
  kube.setReadyDelay(200);
  const kubeconfig = kube.writeKubeconfig(KUBE_CONTEXT, join(dir, 'kubeconfig'));
  const checkout = kube.store.mustGet(typeOfKind('Deployment'), 'shop', 'checkout');
  const image = (checkout.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]!.image;
  const revision = checkout.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? '?';
  note(`Kubernetes API-server stand-in on ${kube.url}, seeded with checkout (production: shop/checkout runs ${image}, revision ${revision})`);
  return { kube, kubeconfig };
}

async function startSlack(stoppers: Stoppers, note: StackOptions['note']): Promise<SlackStandin> {
  const slack = await SlackStandin.start({
    botToken: `xoxb-demo-${randomBytes(12).toString('hex')}`,
    usergroups: [
      { id: 'S01RM', handle: 'release-managers', users: [PEOPLE.frank] },
      { id: 'S02OC', handle: 'oncall', users: [PEOPLE.oscar] },
    ],
    users: Object.keys(DEMO_NAMES.users),
  });
  stoppers.push(() => slack.close());
  note(`Slack Web API stand-in on ${slack.apiUrl} (channels #checkout-releases, #releases, #incidents; bot token and signing secret generated for this run)`);
  return slack;
}

/**
 * Installs Debian's prometheus where the demo can (run as root, with apt-get on PATH), saying so; elsewhere it
 * leaves that to the person, with the command. A prometheus service the package may start is not the demo's: the
 * demo starts its own, on a free port, scraping its simulator.
 */
function installPrometheus(options: StackOptions): boolean {
  const apt = findExecutable('apt-get', options.path);
  if (!apt || process.getuid?.() !== 0) return false;
  options.note('prometheus not found on PATH: installing it with apt-get (Debian\'s prometheus package)…');
  const env = { ...process.env, PATH: options.path, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', 'prometheus']]) {
    const run = spawnSync(apt, args, { env, stdio: 'ignore', timeout: 300_000 });
    if (run.status !== 0) {
      options.note(`apt-get ${args[0]} failed (${run.error?.message ?? `exit ${run.status}`})`);
      return false;
    }
  }
  return findExecutable('prometheus', options.path) !== undefined;
}

/**
 * The workload simulator and a Prometheus scraping it, when prometheus is installed. Without it Lifeguard is
 * pointed where nothing answers, as it would be with its Prometheus down.
 */
async function startMetrics(kube: KubeStandin, options: StackOptions, stoppers: Stoppers): Promise<{ prometheus?: ScrapingPrometheus; url: string }> {
  if (!findExecutable('prometheus', options.path) && !installPrometheus(options)) {
    options.note('prometheus not found on PATH: going on without it, so Lifeguard cannot judge a canary (to install it on Debian: sudo apt-get install prometheus)');
    return { url: `http://127.0.0.1:${await freePort()}` };
  }
  const simulator = await WorkloadSimulator.start(kube, { seed: 7 });
  stoppers.push(() => simulator.stop());
  options.note(`workload simulator on ${simulator.url}/metrics: checkout's pods serve 200 requests a second, split as the VirtualService's weights say; an image tagged -bad answers 8 % 5xx, twice as slow`);
  const prometheus = await startScrapingPrometheus({ targets: [simulator.target] });
  stoppers.push(() => prometheus.stop());
  options.note(`Prometheus on ${prometheus.url}, scraping the simulator every second; gathering 20 s of history first (a promoted release is watched against the stable's own past)`);
  await waitForHistory(prometheus.url, 'http_requests_total{namespace="shop",app="checkout",version="baseline",status="200"}', 20);
  return { prometheus, url: prometheus.url };
}

export async function startDemoStack(options: StackOptions): Promise<DemoStack> {
  const dir = mkdtempSync(join(tmpdir(), 'lifeguard-demo-'));
  const stoppers: Stoppers = [() => rmSync(dir, { recursive: true, force: true })];
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      for (const step of stoppers.reverse()) {
        try {
          await step();
        } catch (error) {
          options.note(`while stopping: ${(error as Error).message}`);
        }
      }
    })();
    return stopped;
  };

  try {
    const { kube, kubeconfig } = await startCluster(dir, stoppers, options.note);
    const slack = await startSlack(stoppers, options.note);
    const metrics = await startMetrics(kube, options, stoppers);
    const configFile = join(dir, 'lifeguard.yaml');
    const config = demoConfig(metrics.url);
    writeFileSync(configFile, stringify(config, { lineWidth: 0 }));
    const port = await usablePort(options.port);
    if (port !== options.port) options.note(`port ${options.port} is taken: Lifeguard listens on a free port instead`);
    const db = join(dir, 'lifeguard.db');
    const logFile = join(dir, 'lifeguard.log');
    const logStream = createWriteStream(logFile);
    stoppers.push(() => new Promise<void>((resolve) => logStream.end(resolve)));
    const signingSecret = randomBytes(20).toString('hex');
    const lifeguard = await startLifeguard({
      env: {
        SLACK_BOT_TOKEN: slack.botToken,
        SLACK_SIGNING_SECRET: signingSecret,
        SLACK_API_URL: slack.apiUrl,
        PORT: String(port),
        LIFEGUARD_CONFIG: configFile,
        LIFEGUARD_DB: db,
        KUBECONFIG: kubeconfig,
        LOG_LEVEL: 'info',
      },
      host: '127.0.0.1',
      log: createLogger({ level: 'info', destination: logStream }),
    });
    stoppers.push(() => lifeguard.stop());
    const url = `http://127.0.0.1:${lifeguard.port}`;
    options.note(`Lifeguard on ${url} in HTTP mode; its config (lifeguard.example.yaml's people and checkout in production, steps of ${STEP_DURATION}), database and log in ${dir}`);

    let pageUrl: string | undefined;
    if (options.pagePort !== undefined) {
      const page = await PageServer.start(
        {
          slack,
          lifeguard: { url, signingSecret },
          cluster: kube.store,
          target: { service: 'checkout', namespace: 'shop', stable: 'checkout', canary: 'checkout-canary', virtualService: 'checkout' },
          prometheusUrl: metrics.prometheus?.url,
          metrics: config.metrics as Record<string, MetricTemplate>,
          people: PLAYGROUND_PEOPLE,
          names: DEMO_NAMES,
        },
        await usablePort(options.pagePort),
      );
      // Stopped before Lifeguard: the page's open event streams would otherwise hold the process up.
      stoppers.push(() => page.close());
      pageUrl = page.url;
    }

    return { dir, kubeconfig, configFile, slack, prometheus: metrics.prometheus, url, signingSecret, db, logFile, pageUrl, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
