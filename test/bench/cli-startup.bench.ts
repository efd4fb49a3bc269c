import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/adapters/sqlite/store.js';
import { REPO_ROOT } from '../support/cli.js';
import { median, percentile, type Bench, type Figure } from './harness.js';

const RUNS = 21;
/** A break-glass tool must start fast: each command within this many times a bare `node -e 0`. */
const MAX_RATIO = 3;

interface Case {
  name: string;
  args: string[];
}

interface Sample {
  /** From spawn to exit, as a shell user waits for it. */
  wallMs: number;
  /** User and system CPU time, which other processes' load on a shared machine disturbs less than wall time. */
  cpuMs: number;
  rssMb: number;
}

/** One run of `node <args>`, reporting its CPU time and peak memory from an exit hook; throws unless it exits 0. */
function sample(args: string[], dir: string): Sample {
  const file = join(dir, 'usage.json');
  const hook = `import { writeFileSync } from 'node:fs'; process.on('exit', () => writeFileSync(${JSON.stringify(file)}, JSON.stringify(process.resourceUsage())));`;
  const started = performance.now();
  const run = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(hook)}`, ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    encoding: 'utf8',
  });
  const wallMs = performance.now() - started;
  if (run.status !== 0) throw new Error(`node ${args.join(' ')} exited ${run.status}: ${run.stderr}`);
  const usage = JSON.parse(readFileSync(file, 'utf8')) as NodeJS.ResourceUsage;
  return { wallMs, cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000, rssMb: usage.maxRSS / 1024 };
}

/**
 * Start-up of the built CLI (`npm run build`, then `node dist/src/cli.js`) against a bare `node -e 0`, the runs of
 * every case interleaved so that load from other processes falls on all of them alike.
 */
export const bench: Bench = {
  name: 'cli start-up',
  async run() {
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: REPO_ROOT, stdio: 'inherit' });
    const dir = mkdtempSync(join(tmpdir(), 'lifeguard-bench-cli-'));
    try {
      const db = join(dir, 'lifeguard.db');
      const store = openStore(db);
      for (let i = 0; i < 10; i++) store.audit.append({ actor: 'cli:bench', action: 'operator.note', subject: 'checkout/production', detail: { text: `note ${i}` } });
      store.close();

      const cli = 'dist/src/cli.js';
      const cases: Case[] = [
        { name: 'node -e 0', args: ['-e', '0'] },
        { name: 'lifeguard --help', args: [cli, '--help'] },
        { name: 'lifeguard config check (example config)', args: [cli, 'config', 'check', '--config', 'lifeguard.example.yaml'] },
        { name: 'lifeguard audit verify (10 rows)', args: [cli, 'audit', 'verify', '--db', db] },
      ];
      const samples = new Map<Case, Sample[]>(cases.map((c) => [c, []]));
      for (const c of cases) sample(c.args, dir); // warm the file cache; not counted
      for (let round = 0; round < RUNS; round++) for (const c of cases) samples.get(c)!.push(sample(c.args, dir));

      const of = (c: Case, key: keyof Sample) => samples.get(c)!.map((s) => s[key]);
      const baseline = { wall: median(of(cases[0]!, 'wallMs')), cpu: median(of(cases[0]!, 'cpuMs')) };
      return cases.map((c): Figure => {
        const [wall, cpu] = [median(of(c, 'wallMs')), median(of(c, 'cpuMs'))];
        const measured = `p90 ${Math.round(percentile(of(c, 'wallMs'), 90))} ms; CPU ${Math.round(cpu)} ms; peak RSS ${Math.round(median(of(c, 'rssMb')))} MB`;
        const load = `load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`;
        if (c === cases[0]) return { name: `${c.name} (baseline)`, unit: 'ms', median: wall, runs: RUNS, note: `${measured}; ${load}` };
        const ratios = `${(wall / baseline.wall).toFixed(1)}× node -e 0 (CPU ${(cpu / baseline.cpu).toFixed(1)}×)`;
        return { name: c.name, unit: 'ms', median: wall, runs: RUNS, target: { op: '<=', value: Math.round(MAX_RATIO * baseline.wall) }, note: `${ratios}; ${measured}` };
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
