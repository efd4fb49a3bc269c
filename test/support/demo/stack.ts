import { randomBytes } from 'node:crypto';
import { accessSync, constants, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join, relative } from 'node:path';
import { createLogger } from '../../../src/log.js';
import { startLifeguard, type Lifeguard } from '../../../src/main.js';
import { REPO_ROOT } from '../cli.js';
import { KubeStandin } from '../kube-standin/server.js';
import { typeOfKind } from '../kube-standin/resources.js';
import { seedCheckout } from '../kube-standin/seed.js';
import { startPrometheus, type RunningPrometheus } from '../prometheus.js';
import { SlackStandin } from '../slack-standin/web-api.js';
import { demoHistory } from './history.js';
import { DEMO_NAMES, PEOPLE } from './people.js';

export const CONFIG_FILE = join(REPO_ROOT, 'lifeguard.example.yaml');
/** The kubeconfig context lifeguard.example.yaml names for its cluster. */
const KUBE_CONTEXT = 'lifeguard-standin';

/** Everything the demo runs, on loopback ports, with its files in one temporary directory. */
export interface DemoStack {
  dir: string;
  kubeconfig: string;
  kube: KubeStandin;
  slack: SlackStandin;
  /** Absent when prometheus or promtool is not installed; `missing` says which. */
  prometheus: (RunningPrometheus & { end: number }) | { missing: string[] };
  lifeguard: Lifeguard;
  /** Where Lifeguard serves /slack/events, /healthz, /readyz and /metrics. */
  url: string;
  /** The generated signing secret Lifeguard checks every Slack request against. */
  signingSecret: string;
  db: string;
  logFile: string;
  /** Stops everything it started, newest first, and removes the directory; safe to call twice. */
  stop(): Promise<void>;
}

export interface StackOptions {
  /** Preferred port for Lifeguard; when it is taken a free one is used and `note` says so. */
  port: number;
  /** PATH searched for prometheus and promtool. */
  path: string | undefined;
  note: (line: string) => void;
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

export async function startDemoStack(options: StackOptions): Promise<DemoStack> {
  const dir = mkdtempSync(join(tmpdir(), 'lifeguard-demo-'));
  const stoppers: (() => Promise<void> | void)[] = [() => rmSync(dir, { recursive: true, force: true })];
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
    const kube = await KubeStandin.start({ readyDelayMs: 0 });
    stoppers.push(() => kube.stop());
    await seedCheckout(kube);
    const kubeconfig = kube.writeKubeconfig(KUBE_CONTEXT, join(dir, 'kubeconfig'));
    const checkout = kube.store.mustGet(typeOfKind('Deployment'), 'shop', 'checkout');
    const image = (checkout.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]!.image;
    const revision = checkout.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? '?';
    options.note(`Kubernetes API-server stand-in on ${kube.url}, seeded with checkout (production: shop/checkout runs ${image}, revision ${revision})`);

    const botToken = `xoxb-demo-${randomBytes(12).toString('hex')}`;
    const signingSecret = randomBytes(20).toString('hex');
    const slack = await SlackStandin.start({
      botToken,
      usergroups: [
        { id: 'S01RM', handle: 'release-managers', users: [PEOPLE.frank] },
        { id: 'S02OC', handle: 'oncall', users: [PEOPLE.oscar] },
      ],
      users: Object.keys(DEMO_NAMES.users),
    });
    stoppers.push(() => slack.close());
    options.note(`Slack Web API stand-in on ${slack.apiUrl} (channels #checkout-releases, #releases, #incidents; bot token and signing secret generated for this run)`);

    const missing = ['prometheus', 'promtool'].filter((name) => !findExecutable(name, options.path));
    let prometheus: DemoStack['prometheus'] = { missing };
    if (missing.length === 0) {
      const end = Math.floor(Date.now() / 60_000) * 60;
      const running = await startPrometheus(demoHistory(end));
      stoppers.push(() => running.stop());
      prometheus = { ...running, end };
      options.note(`Prometheus on ${running.url} with a synthetic history of checkout`);
    } else {
      options.note(`${missing.join(' and ')} not found on PATH: going on without Prometheus, so without canary analysis (Debian: apt-get install prometheus)`);
    }

    const port = await usablePort(options.port);
    if (port !== options.port) options.note(`port ${options.port} is taken: Lifeguard listens on a free port instead`);
    const db = join(dir, 'lifeguard.db');
    const logFile = join(dir, 'lifeguard.log');
    const logStream = createWriteStream(logFile);
    stoppers.push(() => new Promise<void>((resolve) => logStream.end(resolve)));
    const lifeguard = await startLifeguard({
      env: {
        SLACK_BOT_TOKEN: botToken,
        SLACK_SIGNING_SECRET: signingSecret,
        SLACK_API_URL: slack.apiUrl,
        PORT: String(port),
        LIFEGUARD_CONFIG: CONFIG_FILE,
        LIFEGUARD_DB: db,
        KUBECONFIG: kubeconfig,
        ...('url' in prometheus ? { PROMETHEUS_URL: prometheus.url } : {}),
        LOG_LEVEL: 'info',
      },
      host: '127.0.0.1',
      log: createLogger({ level: 'info', destination: logStream }),
    });
    stoppers.push(() => lifeguard.stop());
    const url = `http://127.0.0.1:${lifeguard.port}`;
    options.note(`Lifeguard on ${url} in HTTP mode, config ${relative(process.cwd(), CONFIG_FILE) || CONFIG_FILE}, database and log in ${dir}`);

    return { dir, kubeconfig, kube, slack, prometheus, lifeguard, url, signingSecret, db, logFile, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
