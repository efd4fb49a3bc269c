/** One figure in test/bench/RESULTS.md. */
export interface Figure {
  name: string;
  unit: string;
  /** Median over `runs` repetitions. */
  median: number;
  runs: number;
  /** e.g. ">= 2000"; compared against the median. */
  target?: { op: '>=' | '<='; value: number };
  note?: string;
}

/** A benchmark file in test/bench/ exports `bench` of this shape; `npm run bench` runs them all. */
export interface Bench {
  name: string;
  run(): Promise<Figure[]>;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The value below which `p` percent of `values` fall (nearest rank). */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Runs `sample` `runs` times and returns each result (the sample measures itself). */
export async function repeat(runs: number, sample: (run: number) => Promise<number> | number): Promise<number[]> {
  const results: number[] = [];
  for (let i = 0; i < runs; i++) results.push(await sample(i));
  return results;
}

export function meets(figure: Figure): boolean | undefined {
  if (!figure.target) return undefined;
  return figure.target.op === '>=' ? figure.median >= figure.target.value : figure.median <= figure.target.value;
}
