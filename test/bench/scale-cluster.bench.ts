import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { kubernetesCluster } from '../../src/adapters/kubernetes/cluster.js';
import { loadConfig } from '../../src/config/load.js';
import { liveCanaries } from '../../src/flows/cluster-readers.js';
import { fleetConfig, seedServices } from '../support/kube-standin/fleet.js';
import { KubeStandin } from '../support/kube-standin/server.js';
import { REPO_ROOT } from '../support/cli.js';
import { SlackStandin } from '../support/slack-standin/web-api.js';
import { median, type Bench, type Figure } from './harness.js';

const SERVICES = 1_000;
/** `BENCH_SCALE_MINUTES=1 npm run bench -- scale` for a quick look; the figures are after 5 minutes. */
const MINUTES = Number(process.env.BENCH_SCALE_MINUTES ?? 5);
/** Today's figure before watching (issue #14): 7,000 requests every 30 s. */
const POLLING_BEFORE_PER_MINUTE = 14_000;
const CLOCK_TICKS_PER_SECOND = 100;

interface Mode {
  name: string;
  /** clusters.<name> settings that make this mode. */
  cluster: Record<string, unknown>;
}

const MODES: Mode[] = [
  { name: 'watched copies (lifeguard start)', cluster: {} },
  // As Lifeguard read before watching: every read a request, no rate limit to slow it down.
  { name: 'direct reads, unlimited (as before)', cluster: { watch: false, qps: 10_000, burst: 10_000 } },
];

interface Running {
  mode: Mode;
  kube: KubeStandin;
  child: ChildProcess;
  dir: string;
  samples: { atMs: number; requests: number; rssMb: number; cpuSeconds: number }[];
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

function rssMb(pid: number): number {
  return Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

/** Requests the API server answered, watches included (each is one request however long it stays open). */
const requestsOf = (kube: KubeStandin) => kube.requestCounts().total;

async function startLifeguard(mode: Mode, slack: SlackStandin): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'lifeguard-bench-scale-'));
  const kube = await KubeStandin.start({ readyDelayMs: 0 });
  const services = await seedServices(kube, SERVICES);
  const kubeconfig = kube.writeKubeconfig('lifeguard-standin', join(dir, 'kubeconfig'));
  // No canary serves traffic, so Prometheus is never asked.
  const document = fleetConfig(services, { prometheusUrl: 'http://127.0.0.1:9' }) as { clusters: Record<string, Record<string, unknown>> };
  for (const cluster of Object.values(document.clusters)) Object.assign(cluster, mode.cluster);
  const config = join(dir, 'lifeguard.yaml');
  writeFileSync(config, stringify(document, { aliasDuplicateObjects: false }));
  const child = spawn(process.execPath, ['dist/src/cli.js', 'start', '--config', config, '--host', '127.0.0.1'], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH, PORT: '0', SLACK_BOT_TOKEN: slack.botToken, SLACK_SIGNING_SECRET: 'bench-secret', SLACK_API_URL: slack.apiUrl, LIFEGUARD_DB: join(dir, 'lifeguard.db'), KUBECONFIG: kubeconfig, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += String(c)));
  child.on('exit', (code) => {
    if (code !== null && code !== 0) process.stderr.write(`lifeguard (${mode.name}) exited ${code}: ${err}\n`);
  });
  return { mode, kube, child, dir, samples: [] };
}

/** One tick's cluster reads over every service, in this process: the part of a tick that grows with the fleet. */
async function tickReads(dir: string, mode: Mode): Promise<number[]> {
  const config = loadConfig(join(dir, 'lifeguard.yaml'), {});
  const kubeconfig = join(dir, 'kubeconfig');
  const cluster = kubernetesCluster(config, {
    reads: 'watch',
    kubeConfig: () => {
      const kc = new KubeConfig();
      kc.loadFromFile(kubeconfig);
      return kc;
    },
  });
  const unreadable: string[] = [];
  const read = liveCanaries(cluster.workloads, config, { unreadable: (service) => unreadable.push(service), readable: () => {} });
  const times: number[] = [];
  try {
    await read('production');
    for (let i = 0; i < (mode.cluster.watch === false ? 3 : 10); i++) {
      const started = performance.now();
      await read('production');
      times.push(performance.now() - started);
    }
  } finally {
    await cluster.stop?.();
  }
  if (unreadable.length) throw new Error(`${unreadable.length} services could not be read, e.g. ${unreadable[0]}`);
  return times;
}

export const bench: Bench = {
  name: 'scale: 1,000 services',
  async run() {
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: REPO_ROOT, stdio: 'inherit' });
    const slack = await SlackStandin.start({});
    const running: Running[] = [];
    try {
      for (const mode of MODES) running.push(await startLifeguard(mode, slack));
      const started = performance.now();
      const end = started + MINUTES * 60_000;
      while (performance.now() < end) {
        await new Promise((r) => setTimeout(r, 10_000));
        for (const r of running) r.samples.push({ atMs: performance.now() - started, requests: requestsOf(r.kube), rssMb: rssMb(r.child.pid!), cpuSeconds: cpuSeconds(r.child.pid!) });
      }
      const figures: Figure[] = [];
      const load = `load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`;
      for (const r of running) {
        // Idle: from the end of the first minute (start-up, first lists) to the end.
        const first = r.samples.find((s) => s.atMs >= 60_000) ?? r.samples[0]!;
        const last = r.samples.at(-1)!;
        const minutes = (last.atMs - first.atMs) / 60_000;
        const perMinute = (last.requests - first.requests) / minutes;
        const watched = r.mode.cluster.watch !== false;
        figures.push(
          {
            name: `${r.mode.name}: API requests per minute, idle`,
            unit: 'req/min',
            median: perMinute,
            runs: 1,
            ...(watched ? { target: { op: '<=' as const, value: POLLING_BEFORE_PER_MINUTE / 100 } } : {}),
            note: watched ? `minutes 1–${MINUTES}; target 1 % of the ${POLLING_BEFORE_PER_MINUTE.toLocaleString('en-US')}/min measured before watching` : `minutes 1–${MINUTES}; every read a request`,
          },
          { name: `${r.mode.name}: RSS after ${MINUTES} min`, unit: 'MiB', median: last.rssMb, runs: 1, ...(watched ? { target: { op: '<=' as const, value: 200 } } : {}), note: `peak of the samples ${Math.round(Math.max(...r.samples.map((s) => s.rssMb)))} MiB` },
          { name: `${r.mode.name}: CPU per minute, idle`, unit: 's', median: (last.cpuSeconds - first.cpuSeconds) / minutes, runs: 1, note: load },
        );
      }
      for (const r of running) {
        r.child.kill('SIGTERM');
        await new Promise((resolve) => r.child.once('exit', resolve));
      }
      for (const r of running) {
        const times = await tickReads(r.dir, r.mode);
        figures.push({ name: `${r.mode.name}: one analysis tick's cluster reads, ${SERVICES} services`, unit: 'ms', median: median(times), runs: times.length, note: 'reading every service to find the live canaries' });
      }
      return figures;
    } finally {
      for (const r of running) {
        if (r.child.exitCode === null) r.child.kill('SIGKILL');
        await r.kube.stop();
        rmSync(r.dir, { recursive: true, force: true });
      }
      await slack.close();
    }
  },
};
