import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { meets, type Bench, type Figure } from './harness.js';
import { mergeResults } from './results.js';

const here = dirname(fileURLToPath(import.meta.url));
const results = join(here, 'RESULTS.md');
/** `npm run bench -- cli-startup` runs the bench files whose names contain a word given, and updates only their rows. */
const only = process.argv.slice(2);

const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
if (files.length === 0) throw new Error(`no benchmark in ${here} matches ${only.join(', ')}`);

const sections = new Map<string, string[]>();
let missed = 0;
for (const file of files) {
  const { bench } = (await import(pathToFileURL(join(here, file)).href)) as { bench: Bench };
  process.stderr.write(`bench: ${bench.name} …\n`);
  const figures: Figure[] = await bench.run();
  const rows: string[] = [];
  for (const f of figures) {
    const ok = meets(f);
    if (ok === false) missed++;
    const target = f.target ? `${f.target.op} ${f.target.value}` : '';
    const status = ok === undefined ? '' : ok ? 'met' : '**missed**';
    rows.push(`| ${bench.name} | ${f.name} | ${formatNumber(f.median)} ${f.unit} | ${f.runs} | ${target} | ${status} | ${f.note ?? ''} |`);
    process.stderr.write(`  ${f.name}: ${formatNumber(f.median)} ${f.unit} ${status}\n`);
  }
  sections.set(bench.name, rows);
}

function formatNumber(n: number): string {
  return Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en-US') : n.toPrecision(3);
}

const cpu = cpus()[0]?.model ?? 'unknown CPU';
const report = mergeResults(only.length === 0 || !existsSync(results) ? undefined : readFileSync(results, 'utf8'), {
  date: new Date().toISOString(),
  machine: `${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
  node: `${process.version} on ${process.platform}/${process.arch}`,
  sections,
});

writeFileSync(results, report);
process.stdout.write(report);
process.exitCode = missed > 0 ? 1 : 0;
