/**
 * Writes the history of the usual HTTP instrumentation (DESIGN §3) as OpenMetrics text for promtool:
 * `http_requests_total{app, version, status}` and `http_request_duration_seconds_bucket{app, version, le}`,
 * version being `canary` or `baseline`. Each side follows a profile over time; for an app with a seeded random
 * source every request of every scrape interval is drawn (error or not, which bucket), otherwise counts accrue exactly.
 */

/** Upper bounds of the latency histogram's buckets, in seconds. */
export const BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, Infinity] as const;

/** Cumulative share of requests at or under each bucket bound (last is 1). */
export type LatencyProfile = readonly number[];
/** p99 = 0.25 + (0.99 - 0.98) / (0.995 - 0.98) × 0.25 ≈ 0.417 s by histogram_quantile's interpolation. */
export const FAST: LatencyProfile = [0.5, 0.9, 0.98, 0.995, 1, 1, 1];
/** p99 = 1 + (0.99 - 0.96) / 0.04 × 1.5 = 2.125 s: about 5× FAST. */
export const SLOW: LatencyProfile = [0.05, 0.2, 0.6, 0.9, 0.96, 1, 1];

/** How one side behaves; each function takes how many seconds before the end of history it is asked for. */
export interface SideProfile {
  rps: (ago: number) => number;
  errorRatio: (ago: number) => number;
  latency: (ago: number) => LatencyProfile;
}

export interface AppHistory {
  app: string;
  canary?: SideProfile;
  baseline?: SideProfile;
  /** Seeded source in [0, 1): when given, every interval's traffic is drawn rather than accrued exactly. */
  random?: () => number;
}

export interface HistoryOptions {
  /** Unix seconds of the last scrape (use it as the evaluation time). */
  end: number;
  /** Seconds of history before `end`. */
  duration: number;
  /** Seconds between scrapes (default 15). */
  scrape?: number;
}

export const steady = (rps: number, errorRatio: number, latency: LatencyProfile = FAST): SideProfile => ({
  rps: () => rps,
  errorRatio: () => errorRatio,
  latency: () => latency,
});

/** Mulberry32: a small seeded PRNG, so "random" histories are the same on every run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface SideSeries {
  ok: number[];
  errors: number[];
  buckets: number[][];
  hasErrors: boolean;
}

function simulate(profile: SideProfile, times: number[], end: number, scrape: number, random?: () => number): SideSeries {
  let requests = 0;
  let errors = 0;
  const buckets = BUCKETS.map(() => 0);
  const out: SideSeries = { ok: [], errors: [], buckets: BUCKETS.map(() => []), hasErrors: false };
  times.forEach((t, i) => {
    if (i > 0) {
      const ago = end - t;
      const shares = profile.latency(ago);
      if (random) {
        const n = Math.round(profile.rps(ago) * scrape * (0.7 + 0.6 * random()));
        for (let r = 0; r < n; r++) {
          requests++;
          if (random() < profile.errorRatio(ago)) errors++;
          const u = random();
          for (let b = 0; b < BUCKETS.length; b++) if (u < shares[b]!) buckets[b]!++;
        }
      } else {
        const n = profile.rps(ago) * scrape;
        requests += n;
        errors += n * profile.errorRatio(ago);
        shares.forEach((share, b) => (buckets[b]! += n * share));
      }
    }
    const e = Math.floor(errors + 1e-9);
    out.errors.push(e);
    out.ok.push(Math.floor(requests + 1e-9) - e);
    buckets.forEach((count, b) => out.buckets[b]!.push(Math.floor(count + 1e-9)));
    if (e > 0) out.hasErrors = true;
  });
  return out;
}

/** OpenMetrics text (ending in `# EOF`) for the apps' histories. */
export function httpHistory(apps: readonly AppHistory[], options: HistoryOptions): string {
  const scrape = options.scrape ?? 15;
  const times: number[] = [];
  for (let t = options.end - options.duration; t <= options.end; t += scrape) times.push(t);
  const requestLines: string[] = [];
  const bucketLines: string[] = [];
  const series = (name: string, labels: string, values: number[], into: string[]) => {
    values.forEach((v, i) => into.push(`${name}{${labels}} ${v} ${times[i]}`));
  };
  for (const app of apps) {
    for (const version of ['canary', 'baseline'] as const) {
      const profile = app[version];
      if (!profile) continue;
      const sim = simulate(profile, times, options.end, scrape, app.random);
      const base = `app="${app.app}",version="${version}"`;
      series('http_requests_total', `${base},status="200"`, sim.ok, requestLines);
      if (sim.hasErrors) series('http_requests_total', `${base},status="500"`, sim.errors, requestLines);
      BUCKETS.forEach((le, b) => {
        series('http_request_duration_seconds_bucket', `${base},le="${le === Infinity ? '+Inf' : le}"`, sim.buckets[b]!, bucketLines);
      });
    }
  }
  return `${requestLines.join('\n')}\n${bucketLines.join('\n')}\n# EOF\n`;
}
