/**
 * Statistics behind the canary judge. Pure functions, no dependencies: the normal tail, Mann-Whitney U,
 * the Hodges-Lehmann shift and the two-proportion z-test.
 */

/**
 * Complementary error function, Chebyshev fit from Numerical Recipes (erfcc): fractional error under 1.2e-7
 * everywhere, far finer than any significance level we compare against.
 */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Two-sided p-value of a standard normal statistic. */
export function twoSidedP(z: number): number {
  return Math.min(1, erfc(Math.abs(z) / Math.SQRT2));
}

export interface MannWhitneyResult {
  /** U of the first sample: how many (a, b) pairs have a above b, ties counting one half. */
  u: number;
  /** Normal approximation with tie and continuity correction; positive when `a` tends to be larger. */
  z: number;
  /** Two-sided. */
  pValue: number;
}

/** Ranks 1..n of the values, ties given their average rank; also the tie term Σ(t³ − t). */
function rank(values: number[]): { ranks: number[]; tieTerm: number } {
  const order = values.map((value, index) => ({ value, index })).sort((x, y) => x.value - y.value);
  const ranks = new Array<number>(values.length).fill(0);
  let tieTerm = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]!.value === order[i]!.value) j++;
    const average = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]!.index] = average;
    const t = j - i + 1;
    tieTerm += t * t * t - t;
    i = j + 1;
  }
  return { ranks, tieTerm };
}

/**
 * Mann-Whitney U test of two independent samples, two-sided, normal approximation with tie and continuity
 * correction (the same as scipy's `mannwhitneyu(a, b, method="asymptotic")`). Either sample empty, or every
 * value tied: no evidence of a difference (z 0, p 1).
 */
export function mannWhitneyU(a: readonly number[], b: readonly number[]): MannWhitneyResult {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) return { u: 0, z: 0, pValue: 1 };
  const n = n1 + n2;
  const { ranks, tieTerm } = rank([...a, ...b]);
  let rankSumA = 0;
  for (let i = 0; i < n1; i++) rankSumA += ranks[i]!;
  const u = rankSumA - (n1 * (n1 + 1)) / 2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (variance <= 0) return { u, z: 0, pValue: 1 };
  const distance = Math.max(Math.abs(u - mean) - 0.5, 0);
  const z = (Math.sign(u - mean) * distance) / Math.sqrt(variance);
  return { u, z, pValue: twoSidedP(z) };
}

function median(sorted: number[]): number {
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median of a sample; NaN when empty. */
export function sampleMedian(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  return median([...values].sort((x, y) => x - y));
}

/**
 * Hodges-Lehmann estimate of the shift of `a` against `b`: the median of every pairwise difference a − b.
 * The effect size that goes with Mann-Whitney U. NaN when either sample is empty.
 */
export function hodgesLehmann(a: readonly number[], b: readonly number[]): number {
  if (a.length === 0 || b.length === 0) return Number.NaN;
  const differences = new Float64Array(a.length * b.length);
  let k = 0;
  for (const x of a) for (const y of b) differences[k++] = x - y;
  const n = differences.length;
  const upper = select(differences, Math.floor(n / 2));
  if (n % 2) return upper;
  // After selecting the upper middle, every value left of it is no larger: the lower middle is their maximum.
  let lower = -Infinity;
  for (let i = 0; i < Math.floor(n / 2); i++) lower = Math.max(lower, differences[i]!);
  return (lower + upper) / 2;
}

/**
 * The k-th smallest value (0-based), found by quickselect in linear expected time; reorders `values` so
 * that everything before index k is no larger. Hodges-Lehmann on a tick's thousands of canaries needs this:
 * sorting every pairwise difference would dominate the tick.
 */
function select(values: Float64Array, k: number): number {
  let left = 0;
  let right = values.length - 1;
  while (left < right) {
    const pivot = values[(left + right) >> 1]!;
    let i = left;
    let j = right;
    while (i <= j) {
      while (values[i]! < pivot) i++;
      while (values[j]! > pivot) j--;
      if (i <= j) {
        const swap = values[i]!;
        values[i++] = values[j]!;
        values[j--] = swap;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else return values[k]!;
  }
  return values[k]!;
}

export interface TwoProportionResult {
  /** Share in the first group, x1 / n1. */
  p1: number;
  /** Share in the second group, x2 / n2. */
  p2: number;
  /** Pooled z: positive when the first share is higher. */
  z: number;
  /** Two-sided. */
  pValue: number;
}

/**
 * Two-proportion z-test with pooled variance: are x1 of n1 and x2 of n2 the same underlying rate? Works when
 * one side has no events at all (3 errors against none), where a ratio of rates would be infinite.
 */
export function twoProportions(x1: number, n1: number, x2: number, n2: number): TwoProportionResult {
  if (n1 <= 0 || n2 <= 0) throw new RangeError(`twoProportions needs positive totals (got n1=${n1}, n2=${n2})`);
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const pooled = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  if (se === 0) return { p1, p2, z: 0, pValue: 1 };
  const z = (p1 - p2) / se;
  return { p1, p2, z, pValue: twoSidedP(z) };
}

export interface SpreadResult {
  /** Median absolute deviation of each sample from its own median. */
  spreadA: number;
  spreadB: number;
  /** Mann-Whitney U on those absolute deviations (Brown-Forsythe style): positive z when `a` spreads wider. */
  z: number;
  pValue: number;
}

/**
 * Compares how widely two samples spread, whatever their medians: a rank test on each value's distance from
 * its own sample's median. Catches a canary whose variance blew up while its median stayed put.
 */
export function spreadTest(a: readonly number[], b: readonly number[]): SpreadResult {
  const deviations = (values: readonly number[]) => {
    const middle = sampleMedian(values);
    return values.map((v) => Math.abs(v - middle));
  };
  const da = deviations(a);
  const db = deviations(b);
  const { z, pValue } = mannWhitneyU(da, db);
  return { spreadA: sampleMedian(da), spreadB: sampleMedian(db), z, pValue };
}
