import { readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { meets, type Bench, type Figure } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);

const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

const rows: string[] = [];
let missed = 0;
for (const file of files) {
  const { bench } = (await import(pathToFileURL(join(here, file)).href)) as { bench: Bench };
  process.stderr.write(`bench: ${bench.name} …\n`);
  const figures: Figure[] = await bench.run();
  for (const f of figures) {
    const ok = meets(f);
    if (ok === false) missed++;
    const target = f.target ? `${f.target.op} ${f.target.value}` : '';
    const status = ok === undefined ? '' : ok ? 'met' : '**missed**';
    rows.push(`| ${bench.name} | ${f.name} | ${formatNumber(f.median)} ${f.unit} | ${f.runs} | ${target} | ${status} | ${f.note ?? ''} |`);
    process.stderr.write(`  ${f.name}: ${formatNumber(f.median)} ${f.unit} ${status}\n`);
  }
}

function formatNumber(n: number): string {
  return Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en-US') : n.toPrecision(3);
}

const cpu = cpus()[0]?.model ?? 'unknown CPU';
const report = [
  '# Benchmark results',
  '',
  `Written by \`npm run bench\` on ${new Date().toISOString()}.`,
  '',
  `- Machine: ${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
  `- Node: ${process.version} on ${process.platform}/${process.arch}`,
  '',
  'Each figure is the median over the runs shown. Shared machines are noisy: compare medians, not single runs.',
  '',
  '| benchmark | figure | median | runs | target | status | note |',
  '| --- | --- | --- | --- | --- | --- | --- |',
  ...rows,
  '',
].join('\n');

if (only.length === 0) writeFileSync(join(here, 'RESULTS.md'), report);
process.stdout.write(report);
process.exitCode = missed > 0 ? 1 : 0;
