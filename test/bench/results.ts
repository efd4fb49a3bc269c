/** What one `npm run bench` produced: its rows of test/bench/RESULTS.md by benchmark name, in run order. */
export interface Run {
  date: string;
  machine: string;
  node: string;
  sections: Map<string, string[]>;
}

const HEADER = ['| benchmark | figure | median | runs | target | status | note |', '| --- | --- | --- | --- | --- | --- | --- |'];
const RERUN = /^- Re-run alone on (\S+): `(.+)`$/;

const benchmarkOf = (row: string): string => row.split('|')[1]!.trim();

/**
 * RESULTS.md after a run. A full run (no `previous`) writes the file afresh; a run of some benchmarks replaces
 * only their rows in `previous`, in place, keeps every other row and the date of the last full run, and says
 * when each benchmark was last re-run alone.
 */
export function mergeResults(previous: string | undefined, run: Run): string {
  const lines = previous?.split('\n') ?? [];
  const written = lines.find((l) => l.startsWith('Written by')) ?? `Written by \`npm run bench\` on ${run.date}.`;
  const reruns = new Map<string, string>();
  for (const line of lines) {
    const match = RERUN.exec(line);
    if (match) reruns.set(match[2]!, match[1]!);
  }
  if (previous !== undefined) for (const name of run.sections.keys()) reruns.set(name, run.date);

  const rows: string[] = [];
  const placed = new Set<string>();
  for (const row of lines.filter((l) => l.startsWith('| ') && !HEADER.includes(l))) {
    const name = benchmarkOf(row);
    if (!run.sections.has(name)) {
      rows.push(row);
    } else if (!placed.has(name)) {
      rows.push(...run.sections.get(name)!);
      placed.add(name);
    }
  }
  for (const [name, section] of run.sections) if (!placed.has(name)) rows.push(...section);

  return [
    '# Benchmark results',
    '',
    written,
    '',
    `- Machine: ${run.machine}`,
    `- Node: ${run.node}`,
    ...[...reruns].map(([name, date]) => `- Re-run alone on ${date}: \`${name}\``),
    '',
    'Each figure is the median over the runs shown. Shared machines are noisy: compare medians, not single runs.',
    '',
    ...HEADER,
    ...rows,
    '',
  ].join('\n');
}
