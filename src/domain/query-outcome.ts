/**
 * Every way a Prometheus query can answer, as data. The adapter produces these; the judge reads them, so an
 * empty result, a NaN or an unreachable server each lead to a named classification rather than an exception.
 */

/** Why a query gave no answer at all. */
export type QueryFailure =
  /** Prometheus answered `status: error` (bad PromQL, execution error): its type and message. */
  | { kind: 'error'; errorType: string; message: string; warnings: string[] }
  /** Nothing answered: connection refused, DNS, reset, or a response that is not Prometheus's API. */
  | { kind: 'unreachable'; message: string; warnings: string[] }
  /** No answer within the configured timeout (after the bounded retries). */
  | { kind: 'timeout'; message: string; warnings: string[] };

export type Labels = Record<string, string>;

/** One instant sample; `value` may be NaN or ±Infinity, as Prometheus can return them. */
export interface Sample {
  labels: Labels;
  value: number;
}

/** One series of a range query: [unix seconds, value] pairs in time order. */
export interface Series {
  labels: Labels;
  points: [number, number][];
}

/** The answer to an instant query: every sample of the vector (a scalar becomes one sample without labels). */
export type VectorOutcome = { kind: 'vector'; samples: Sample[]; warnings: string[] } | QueryFailure;

/** The answer to a range query. */
export type MatrixOutcome = { kind: 'matrix'; series: Series[]; warnings: string[] } | QueryFailure;

/** An instant query that should yield exactly one finite number, read as such. */
export type ValueOutcome =
  | { kind: 'value'; value: number; warnings: string[] }
  | { kind: 'nodata'; warnings: string[] }
  | { kind: 'nonfinite'; value: 'NaN' | '+Inf' | '-Inf'; warnings: string[] }
  | { kind: 'multiple'; labels: Labels[]; warnings: string[] }
  | QueryFailure;

/** A range query that should yield exactly one series, read as such. */
export type SeriesOutcome =
  | { kind: 'series'; points: [number, number][]; warnings: string[] }
  | { kind: 'nodata'; warnings: string[] }
  | { kind: 'multiple'; labels: Labels[]; warnings: string[] }
  | QueryFailure;

export function isFailure(outcome: { kind: string }): outcome is QueryFailure {
  return outcome.kind === 'error' || outcome.kind === 'unreachable' || outcome.kind === 'timeout';
}

export function spellNonFinite(value: number): 'NaN' | '+Inf' | '-Inf' {
  return Number.isNaN(value) ? 'NaN' : value > 0 ? '+Inf' : '-Inf';
}

/** Reads a vector as the one finite value it should hold. */
export function singleValue(outcome: VectorOutcome): ValueOutcome {
  if (outcome.kind !== 'vector') return outcome;
  const { samples, warnings } = outcome;
  if (samples.length === 0) return { kind: 'nodata', warnings };
  if (samples.length > 1) return { kind: 'multiple', labels: samples.map((s) => s.labels), warnings };
  const value = samples[0]!.value;
  return Number.isFinite(value) ? { kind: 'value', value, warnings } : { kind: 'nonfinite', value: spellNonFinite(value), warnings };
}

/** Reads a matrix as the one series it should hold. */
export function singleSeries(outcome: MatrixOutcome): SeriesOutcome {
  if (outcome.kind !== 'matrix') return outcome;
  const { series, warnings } = outcome;
  if (series.length === 0) return { kind: 'nodata', warnings };
  if (series.length > 1) return { kind: 'multiple', labels: series.map((s) => s.labels), warnings };
  return { kind: 'series', points: series[0]!.points, warnings };
}
