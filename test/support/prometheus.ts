import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A real `prometheus` process serving history written by promtool, on a free loopback port. */
export interface RunningPrometheus {
  url: string;
  /** Stops the process (SIGTERM, then SIGKILL after 5 s) and removes its storage; safe to call twice. */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
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
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    'prometheus',
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${storage}`,
      '--storage.tsdb.retention.time=100y',
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    })();
    return stopped;
  };
  try {
    await waitReady(url, child, () => stderr);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, stop };
}
