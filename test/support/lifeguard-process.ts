import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './cli.js';

export interface LifeguardProcess {
  child: ChildProcess;
  /** http://127.0.0.1:<port> */
  base: string;
  pid: number;
  /** The JSON log lines so far (stdout). */
  out(): string;
  err(): string;
  /** null while it runs. */
  exitCode(): number | null;
  /** Resident set size now, in bytes (VmRSS of /proc/<pid>/status). */
  rssBytes(): number;
  /** SIGTERM, then SIGKILL if it has not ended within `graceMs`. */
  stop(graceMs?: number): Promise<number | null>;
}

/** `lifeguard start` as a child process on a free loopback port, with the example config; resolves once it serves. */
export async function startLifeguardProcess(env: NodeJS.ProcessEnv, options: { nodeArgs?: string[]; timeoutMs?: number; config?: string } = {}): Promise<LifeguardProcess> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const config = options.config ?? 'lifeguard.example.yaml';
  const child = spawn(process.execPath, ['--import', 'tsx', ...(options.nodeArgs ?? []), join(REPO_ROOT, 'src', 'cli.ts'), 'start', '--config', config, '--host', '127.0.0.1'], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let code: number | null = null;
  child.stdout!.on('data', (chunk: Buffer) => (out += String(chunk)));
  child.stderr!.on('data', (chunk: Buffer) => (err += String(chunk)));
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (exitCode, signal) => {
      code = exitCode ?? (signal ? -1 : null);
      resolve(code);
    }),
  );
  const deadline = Date.now() + timeoutMs;
  let started: string | undefined;
  while (!(started = out.split('\n').find((line) => line.includes('"lifeguard started"')))) {
    if (code !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`lifeguard start did not come up (exit ${code}):\n${out}\n${err}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const port = (JSON.parse(started) as { port: number }).port;
  return {
    child,
    base: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    out: () => out,
    err: () => err,
    exitCode: () => code,
    rssBytes: () => {
      const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (!kb) throw new Error(`no VmRSS for process ${child.pid}`);
      return Number(kb[1]) * 1024;
    },
    stop: async (graceMs = 10_000) => {
      if (code !== null) return code;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}
