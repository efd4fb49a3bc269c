import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { formatDuration } from '../../src/config/duration.js';

const run = promisify(execFile);

/** A real `prometheus` process on a free loopback port. */
export interface RunningPrometheus {
  url: string;
  /** Stops the process (SIGTERM, then SIGKILL after 5 s) and removes its storage; safe to call twice. */
  stop(): Promise<void>;
}

/** A loopback port nothing listens on now: for a server to start on, or for a client to find nobody at. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitReady(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode} before it was ready:\n${log()}`);
    try {
      const response = await fetch(`${url}/-/ready`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`prometheus at ${url} was not ready within 30 s:\n${log()}`);
}

/**
 * Starts `prometheus` on `port` over `storage` and resolves once it is ready; the function it resolves to stops
 * the process (SIGTERM, then SIGKILL after 5 s).
 */
async function launch(config: string, storage: string, port: number, flags: string[] = []): Promise<() => Promise<void>> {
  const child = spawn(
    'prometheus',
    [`--config.file=${config}`, `--storage.tsdb.path=${storage}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn', ...flags],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const terminate = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
  };
  try {
    await waitReady(`http://127.0.0.1:${port}`, child, () => stderr);
  } catch (error) {
    await terminate();
    throw error;
  }
  return terminate;
}

/** Runs `stop` once however often it is called, then removes `dir`. */
function stopOnce(dir: string, stop: () => Promise<void>): () => Promise<void> {
  let stopped: Promise<void> | undefined;
  return () => {
    stopped ??= (async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    })();
    return stopped;
  };
}

/**
 * Writes `openMetrics` (OpenMetrics text; `# EOF` is appended when missing), turns it into TSDB blocks with
 * `promtool tsdb create-blocks-from openmetrics`, and starts `prometheus` on that storage. Retention is set
 * to a century so history at fixed past timestamps is kept; query it at fixed `time=` for determinism.
 */
export async function startPrometheus(openMetrics: string): Promise<RunningPrometheus> {
  const dir = await mkdtemp(join(tmpdir(), 'lifeguard-prom-'));
  const input = join(dir, 'history.om');
  const storage = join(dir, 'data');
  const config = join(dir, 'prometheus.yml');
  await writeFile(input, openMetrics.endsWith('# EOF\n') ? openMetrics : `${openMetrics}# EOF\n`);
  await writeFile(config, '');
  try {
    await run('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', input, storage], { maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`promtool could not write the history: ${(error as { stderr?: string }).stderr ?? String(error)}`);
  }
  const port = await freePort();
  try {
    const terminate = await launch(config, storage, port, ['--storage.tsdb.retention.time=100y']);
    return { url: `http://127.0.0.1:${port}`, stop: stopOnce(dir, terminate) };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** A real `prometheus` scraping live targets, which a test can take down and bring back. */
export interface ScrapingPrometheus extends RunningPrometheus {
  /** Stops the process as an outage would, keeping its port and storage; queries fail until resume(). */
  pause(): Promise<void>;
  /** Starts it again on the same port and storage (what it scraped before is still there); resolves once ready. */
  resume(): Promise<void>;
}

/** Prometheus configuration scraping `targets` every `intervalMs`, rules evaluated as often. */
function scrapeConfig(targets: string[], intervalMs: number): string {
  const interval = formatDuration(intervalMs);
  return [
    'global:',
    `  scrape_interval: ${interval}`,
    // A scrape must end before the next one starts.
    `  scrape_timeout: ${formatDuration(Math.floor(intervalMs * 0.8))}`,
    `  evaluation_interval: ${interval}`,
    'scrape_configs:',
    '  - job_name: workloads',
    '    static_configs:',
    `      - targets: ${JSON.stringify(targets)}`,
    '',
  ].join('\n');
}

/**
 * Resolves once Prometheus has tried every one of its `count` targets, successfully or not. Its discovery hands
 * targets to the scrapers on a 5 s tick, so the first scrape comes seconds after it says it is ready.
 */
async function waitScraped(url: string, count: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const response = await fetch(`${url}/api/v1/targets?state=active`);
    const body = (await response.json()) as { data: { activeTargets: { lastScrape: string }[] } };
    const scraped = body.data.activeTargets.filter((t) => new Date(t.lastScrape).getTime() > 0);
    if (scraped.length === count) return;
    if (Date.now() > deadline) throw new Error(`prometheus at ${url} scraped ${scraped.length} of its ${count} targets within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Starts `prometheus` on a free loopback port, scraping `targets` (host:port, at /metrics) every
 * `scrapeIntervalMs` (default 1 s), on fresh storage that stop() removes. Resolves (and `resume()` too) once
 * every target has been scraped once.
 */
export async function startScrapingPrometheus(options: { targets: string[]; scrapeIntervalMs?: number }): Promise<ScrapingPrometheus> {
  const dir = await mkdtemp(join(tmpdir(), 'lifeguard-prom-'));
  const storage = join(dir, 'data');
  const config = join(dir, 'prometheus.yml');
  await writeFile(config, scrapeConfig(options.targets, options.scrapeIntervalMs ?? 1000));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let terminate: (() => Promise<void>) | undefined;
  const pause = async () => {
    await terminate?.();
    terminate = undefined;
  };
  const resume = async () => {
    terminate ??= await launch(config, storage, port);
    await waitScraped(url, options.targets.length);
  };
  const stop = stopOnce(dir, pause);
  try {
    await resume();
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, stop, pause, resume };
}

/**
 * Waits until Prometheus at `url` holds `seconds` of samples of `series` (a selector of one series): judging a
 * stable against its own past needs a past, and a Prometheus started for a test is only seconds old.
 */
export async function waitForHistory(url: string, series: string, seconds: number): Promise<void> {
  const query = `count_over_time(${series}[${seconds + 30}s])`;
  const deadline = Date.now() + (seconds + 60) * 1000;
  for (;;) {
    const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(query)}`);
    const body = (await response.json()) as { data?: { result?: { value: [number, string] }[] } };
    if (Number(body.data?.result?.[0]?.value[1] ?? 0) >= seconds) return;
    if (Date.now() > deadline) throw new Error(`Prometheus at ${url} did not gather ${seconds} s of ${series}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
