import type { Metrics, QueryRange } from '../../ports.js';
import type { Labels, MatrixOutcome, Series, VectorOutcome } from '../../domain/query-outcome.js';

interface Entry {
  stepMs: number;
  /** Unix ms of the first and last step held. */
  start: number;
  end: number;
  series: Map<string, Series>;
}

const key = (labels: Labels): string => JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));

export interface RangeCacheOptions {
  /**
   * The newest stretch of a cached range that is asked again (default 60 s): samples scraped just before a
   * tick may not have been ingested yet when it ran, so its last steps can still change.
   */
  refreshMs?: number;
}

/**
 * Remembers range answers so consecutive analysis ticks ask Prometheus only for the steps they have not seen:
 * a tick 30 s after the last one re-reads the last minute instead of the whole window. Same query text and
 * step, start aligned on the step: the merged answer is what a full query would return. Anything else,
 * and every failure, goes to Prometheus as asked (a failure also forgets that query).
 */
export class IncrementalRangeCache implements Metrics {
  private readonly entries = new Map<string, Entry>();
  private readonly refreshMs: number;

  constructor(
    private readonly inner: Metrics,
    options: RangeCacheOptions = {},
  ) {
    this.refreshMs = options.refreshMs ?? 60_000;
  }

  instant(query: string, at: Date): Promise<VectorOutcome> {
    return this.inner.instant(query, at);
  }

  async range(query: string, range: QueryRange): Promise<MatrixOutcome> {
    const start = range.start.getTime();
    const end = range.end.getTime();
    this.evictOlderThan(start - 3_600_000);
    const entry = this.entries.get(query);
    const usable =
      entry !== undefined && entry.stepMs === range.stepMs && (start - entry.start) % range.stepMs === 0 && entry.start <= start && entry.end >= start && entry.end <= end;
    if (!usable) return this.fetchWhole(query, range);

    const from = Math.max(start, entry.end - Math.ceil(this.refreshMs / range.stepMs) * range.stepMs);
    const fresh = await this.inner.range(query, { start: new Date(from), end: range.end, stepMs: range.stepMs });
    if (fresh.kind !== 'matrix') {
      this.entries.delete(query);
      return fresh;
    }
    const merged = new Map<string, Series>();
    for (const [id, series] of entry.series) {
      const kept = series.points.filter(([t]) => t * 1000 >= start && t * 1000 < from);
      if (kept.length > 0) merged.set(id, { labels: series.labels, points: kept });
    }
    for (const series of fresh.series) {
      const id = key(series.labels);
      const old = merged.get(id);
      merged.set(id, { labels: series.labels, points: old ? [...old.points, ...series.points] : series.points });
    }
    this.entries.set(query, { stepMs: range.stepMs, start, end, series: merged });
    return { kind: 'matrix', series: [...merged.values()], warnings: fresh.warnings };
  }

  private async fetchWhole(query: string, range: QueryRange): Promise<MatrixOutcome> {
    const outcome = await this.inner.range(query, range);
    if (outcome.kind === 'matrix') {
      const series = new Map(outcome.series.map((s) => [key(s.labels), s]));
      this.entries.set(query, { stepMs: range.stepMs, start: range.start.getTime(), end: range.end.getTime(), series });
    } else {
      this.entries.delete(query);
    }
    return outcome;
  }

  private evictOlderThan(ms: number): void {
    for (const [query, entry] of this.entries) if (entry.end < ms) this.entries.delete(query);
  }
}
