import { describe, expect, it } from 'vitest';
import { hodgesLehmann, mannWhitneyU, twoProportions } from '../../src/domain/stats.js';

// Reference values come from outside the project:
// - the worked example in scipy's documentation of `mannwhitneyu` (males vs females, method="asymptotic");
// - an independent Python computation (U by counting pairs rather than ranking, tie-corrected variance,
//   tails from the standard library's statistics.NormalDist), script in test/unit/stats-reference.py (run: python3 test/unit/stats-reference.py).
describe('mannWhitneyU', () => {
  it('matches the published scipy example', () => {
    const result = mannWhitneyU([19, 22, 16, 29, 24], [20, 11, 17, 12]);
    expect(result.u).toBe(17);
    expect(result.z).toBeCloseTo(1.5921683328090657, 6);
    expect(result.pValue).toBeCloseTo(0.11134688653314041, 6);
  });

  it('corrects for ties (many repeated values)', () => {
    const result = mannWhitneyU([1, 2, 2, 3, 3, 3, 4, 5], [3, 4, 4, 5, 5, 6, 6, 7, 8]);
    expect(result.u).toBe(7.5);
    expect(result.z).toBeCloseTo(-2.727939278646863, 6);
    expect(result.pValue).toBeCloseTo(0.006373133838085909, 6);
  });

  it('corrects for ties in fractional samples', () => {
    const result = mannWhitneyU([0.1, 0.1, 0.1, 0.2, 0.2, 0.3], [0.1, 0.2, 0.2, 0.3, 0.3, 0.3, 0.4]);
    expect(result.u).toBe(10);
    expect(result.z).toBeCloseTo(-1.5659169225674883, 6);
    expect(result.pValue).toBeCloseTo(0.11736806757775353, 6);
  });

  it('is symmetric: swapping the samples flips z and keeps p', () => {
    const a = [19, 22, 16, 29, 24];
    const b = [20, 11, 17, 12];
    const forward = mannWhitneyU(a, b);
    const backward = mannWhitneyU(b, a);
    expect(backward.u).toBe(a.length * b.length - forward.u);
    expect(backward.z).toBeCloseTo(-forward.z, 12);
    expect(backward.pValue).toBeCloseTo(forward.pValue, 12);
  });

  it('finds no difference when every value is tied or a sample is empty', () => {
    expect(mannWhitneyU([5, 5, 5], [5, 5])).toEqual({ u: 3, z: 0, pValue: 1 });
    expect(mannWhitneyU([], [1, 2])).toEqual({ u: 0, z: 0, pValue: 1 });
  });
});

describe('hodgesLehmann', () => {
  it('is the median of pairwise differences', () => {
    expect(hodgesLehmann([1, 2, 2, 3, 3, 3, 4, 5], [3, 4, 4, 5, 5, 6, 6, 7, 8])).toBe(-2);
    expect(hodgesLehmann([10, 11, 12], [0, 1, 2])).toBe(10);
  });
});

describe('twoProportions', () => {
  it('3 errors in 10,000 against 0 in 10,000 is not significant at 5%', () => {
    const result = twoProportions(3, 10_000, 0, 10_000);
    expect(result.z).toBeCloseTo(1.7321807259954505, 6);
    expect(result.pValue).toBeCloseTo(0.0832413896142099, 5);
  });

  it('40 errors in 10,000 against 0 in 10,000 is overwhelming', () => {
    const result = twoProportions(40, 10_000, 0, 10_000);
    expect(result.z).toBeCloseTo(6.330889378329184, 6);
    expect(result.pValue).toBeLessThan(1e-9);
  });

  it('compares unequal totals', () => {
    const result = twoProportions(30, 1000, 20, 1200);
    expect(result.z).toBeCloseTo(2.0894715774253108, 6);
    expect(result.pValue).toBeCloseTo(0.03666529388191497, 5);
  });

  it('no events on either side is no evidence', () => {
    expect(twoProportions(0, 100, 0, 100).pValue).toBe(1);
  });
});

describe('hodgesLehmann against a sort of every difference', () => {
  it('agrees on odd and even counts, ties and negative shifts (seeded samples)', () => {
    let state = 42;
    const random = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let round = 0; round < 200; round++) {
      const a = Array.from({ length: 1 + (round % 13) }, () => Math.round(random() * 20) / 4);
      const b = Array.from({ length: 1 + (round % 7) }, () => Math.round(random() * 20) / 4 - 1);
      const differences = a.flatMap((x) => b.map((y) => x - y)).sort((p, q) => p - q);
      const mid = Math.floor(differences.length / 2);
      const expected = differences.length % 2 ? differences[mid]! : (differences[mid - 1]! + differences[mid]!) / 2;
      expect(hodgesLehmann(a, b)).toBe(expected);
    }
  });
});
