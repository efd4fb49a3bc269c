import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/adapters/sqlite/store.js';
import { REPO_ROOT } from '../support/cli.js';
import { median, repeat, type Bench, type Figure } from './harness.js';

const ROWS = 1_000_000;
const KEY = 'bench-audit-key-'.padEnd(64, '0');
const MiB = 2 ** 20;
const detail = { verdict: 'pass', score: 97.5, metrics: [{ name: 'error-rate', canary: 0.0042, baseline: 0.0039, threshold: 0.03, classification: 'pass' }] };
const entry = (i: number) => ({ actor: 'lifeguard', action: 'analysis.verdict', subject: 'checkout/production', detail: { ...detail, i } });

/** A log of ROWS rows written by the real chain code in one transaction, unsynced: the figures are about reading it. */
function buildLog(file: string, auditKey?: string): void {
  const store = openStore(file, { auditKey });
  store.db.pragma('synchronous = OFF');
  store.transaction(() => {
    for (let i = 0; i < ROWS; i++) store.audit.append(entry(i));
  });
  store.close();
}

interface Run {
  wallMs: number;
  cpuMs: number;
  peakRss: number;
  stdout: string;
}

/**
 * One shell pipeline whose first command is the built CLI; the CLI reports its own CPU time and peak RSS from an
 * exit hook, so the figures are the CLI's, not the consumer's. Wall time is the whole pipeline's.
 */
function pipeline(cliArgs: string, after: string, dir: string, env: NodeJS.ProcessEnv = {}): Run {
  const usage = join(dir, 'usage.json');
  // Double quotes only: the hook goes into the shell command in single quotes.
  const hook = `import { writeFileSync } from "node:fs"; process.on("exit", () => writeFileSync(${JSON.stringify(usage)}, JSON.stringify(process.resourceUsage())));`;
  const node = `${JSON.stringify(process.execPath)} --import 'data:text/javascript,${encodeURIComponent(hook)}' dist/src/cli.js`;
  const started = performance.now();
  const run = spawnSync('bash', ['-o', 'pipefail', '-c', `${node} ${cliArgs}${after}`], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    encoding: 'utf8',
  });
  const wallMs = performance.now() - started;
  if (run.status !== 0) throw new Error(`lifeguard ${cliArgs}${after} exited ${run.status}: ${run.stderr}`);
  const used = JSON.parse(readFileSync(usage, 'utf8')) as NodeJS.ResourceUsage;
  return { wallMs, cpuMs: (used.userCPUTime + used.systemCPUTime) / 1000, peakRss: (used.maxRSS * 1024) / MiB, stdout: run.stdout };
}

/** Durable appends a second from 32 callers, each awaiting its row before the next (group commit, fsync per batch). */
async function durableRate(dir: string, run: number): Promise<number> {
  const writers = 32;
  const perWriter = 1000;
  const store = openStore(join(dir, `appends-${run}.db`));
  try {
    const started = performance.now();
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let i = 0; i < perWriter; i++) await store.audit.appendDurable(entry(w * perWriter + i));
      }),
    );
    const rate = (writers * perWriter) / ((performance.now() - started) / 1000);
    const check = store.audit.verify();
    if (!check.ok || check.rows !== writers * perWriter) throw new Error(`the appended log does not verify: ${JSON.stringify(check)}`);
    return rate;
  } finally {
    store.close();
  }
}

/** Stepping through every row as verify does, building no hash: how much of verify's time is reading. */
function rawScanMs(file: string): number {
  const store = openStore(file, { readonly: true });
  try {
    const started = performance.now();
    let rows = 0;
    for (const row of store.audit.tuples()) rows += row.length > 0 ? 1 : 0;
    if (rows !== ROWS) throw new Error(`scanned ${rows} rows, not ${ROWS}`);
    return performance.now() - started;
  } finally {
    store.close();
  }
}

const load = () => `load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`;
const mb = (n: number) => `${Math.round(n)} MiB`;

/**
 * Item 4 of issue #14, side by side: export of a million rows through `| gzip` (peak memory of the CLI), verify of a
 * million rows by the built CLI including its start-up, and durable appends from 32 concurrent writers.
 */
export const bench: Bench = {
  name: 'scale: audit',
  async run() {
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: REPO_ROOT, stdio: 'inherit' });
    const dir = mkdtempSync(join(tmpdir(), 'lifeguard-bench-scale-'));
    try {
      const plain = join(dir, 'plain.db');
      const keyed = join(dir, 'keyed.db');
      let started = performance.now();
      buildLog(plain);
      const buildMs = performance.now() - started;
      started = performance.now();
      buildLog(keyed, KEY);
      const keyedBuildMs = performance.now() - started;

      const figures: Figure[] = [];
      const exports: Run[] = [];
      for (let i = 0; i < 3; i++) exports.push(pipeline(`audit export --db ${plain}`, ' | gzip | wc -c', dir));
      const gzipped = Number(exports[0]!.stdout.trim());
      figures.push({
        name: 'audit export piped to gzip, 1,000,000 rows: peak RSS of the CLI',
        unit: 'MiB',
        median: median(exports.map((e) => e.peakRss)),
        runs: exports.length,
        target: { op: '<=', value: 150 },
        note: `max ${mb(Math.max(...exports.map((e) => e.peakRss)))}; ${(gzipped / MiB).toFixed(1)} MiB gzipped; ${load()}`,
      });
      figures.push({
        name: 'audit export piped to gzip, 1,000,000 rows: time',
        unit: 'ms',
        median: median(exports.map((e) => e.wallMs)),
        runs: exports.length,
        note: `whole pipeline, gzip at level 6 included; CLI CPU ${Math.round(median(exports.map((e) => e.cpuMs)))} ms`,
      });

      for (const [name, file, env] of [
        ['audit verify, 1,000,000 rows (built CLI, start-up included)', plain, {}],
        ['audit verify, 1,000,000 rows keyed (built CLI, start-up included)', keyed, { LIFEGUARD_AUDIT_KEY: KEY }],
      ] as const) {
        pipeline(`audit verify --db ${file}`, '', dir, env); // warm the file cache; not counted
        const runs = Array.from({ length: 5 }, () => pipeline(`audit verify --db ${file}`, '', dir, env));
        if (!runs.every((r) => r.stdout.includes(`audit log intact: ${ROWS} rows verified`))) {
          throw new Error(`verify did not pass the benchmark log: ${runs[0]!.stdout}`);
        }
        figures.push({
          name,
          unit: 'ms',
          median: median(runs.map((r) => r.wallMs)),
          runs: runs.length,
          ...(file === plain ? { target: { op: '<=' as const, value: 2000 } } : {}),
          note: `CPU ${Math.round(median(runs.map((r) => r.cpuMs)))} ms; peak RSS ${mb(median(runs.map((r) => r.peakRss)))}; ${load()}`,
        });
      }

      const scans = await repeat(3, () => rawScanMs(plain));
      figures.push({
        name: 'raw scan of the 1,000,000 rows, in process: what verify reads, without hashing',
        unit: 'ms',
        median: median(scans),
        runs: scans.length,
        note: `the floor under verify's time: one statement, rows as arrays; ${load()}`,
      });

      const rates = await repeat(5, (run) => durableRate(dir, run));
      figures.push({
        name: 'durable appends/s, 32 concurrent writers × 1000 rows (group commit, fsync per batch)',
        unit: 'rows/s',
        median: median(rates),
        runs: rates.length,
        target: { op: '>=', value: 20_000 },
        note: `range ${Math.round(Math.min(...rates))}–${Math.round(Math.max(...rates))}: the disk's fsync latency sets it; ${load()}`,
      });
      figures.push({
        name: 'building the 1,000,000-row logs (one transaction, append per row, unsynced)',
        unit: 'ms',
        median: buildMs,
        runs: 1,
        note: `keyed log ${Math.round(keyedBuildMs)} ms`,
      });
      return figures;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
