import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import axios, { AxiosError, type AxiosInstance } from 'axios';
import pLimit, { type LimitFunction } from 'p-limit';
import type { Metrics, QueryRange } from '../../ports.js';
import type { Labels, MatrixOutcome, QueryFailure, Sample, Series, VectorOutcome } from '../../domain/query-outcome.js';

export interface PrometheusOptions {
  /** Base URL of Prometheus, e.g. http://prometheus.monitoring:9090 */
  url: string;
  /** Per attempt, in milliseconds. */
  timeoutMs: number;
  /** Further attempts after a 5xx or a timeout (default 2). Other failures are not retried. */
  retries?: number;
  /** First backoff in milliseconds, doubled after each retry (default 200). */
  backoffMs?: number;
  /** Queries in flight at once (default 16); the rest wait their turn. */
  concurrency?: number;
}

/** The body of every Prometheus HTTP API answer (https://prometheus.io/docs/prometheus/latest/querying/api/). */
interface ApiBody {
  status: 'success' | 'error';
  data?: { resultType: string; result: unknown };
  errorType?: string;
  error?: string;
  warnings?: string[];
}

type RawSample = { metric: Labels; value: [number, string] };
type RawSeries = { metric: Labels; values: [number, string][] };

/** Prometheus spells non-finite values as "NaN", "+Inf", "-Inf"; Number() reads all three. */
const toNumber = (text: string): number => (text === '+Inf' ? Infinity : text === '-Inf' ? -Infinity : Number(text));

function isApiBody(body: unknown): body is ApiBody {
  return body !== null && typeof body === 'object' && ((body as ApiBody).status === 'success' || (body as ApiBody).status === 'error');
}

type Attempt = { retry: true; failure: QueryFailure } | { retry: false; outcome: ApiBody | QueryFailure };

/** PromQL over Prometheus's HTTP API (POST, so grouped queries naming a thousand services fit). */
export class PrometheusClient implements Metrics {
  private readonly http: AxiosInstance;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly limit: LimitFunction;

  constructor(private readonly options: PrometheusOptions) {
    // One pool of kept-alive connections; the limit below keeps it to `concurrency` sockets.
    const agent = { keepAlive: true, scheduling: 'lifo' as const };
    this.http = axios.create({
      httpAgent: new HttpAgent(agent),
      httpsAgent: new HttpsAgent(agent),
      baseURL: options.url.replace(/\/+$/, ''),
      timeout: options.timeoutMs,
      transitional: { clarifyTimeoutError: true },
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      // Every status is read here: Prometheus puts its error JSON in 400/422/503 bodies.
      validateStatus: () => true,
    });
    this.retries = options.retries ?? 2;
    this.backoffMs = options.backoffMs ?? 200;
    this.limit = pLimit(options.concurrency ?? 16);
  }

  async instant(query: string, at: Date): Promise<VectorOutcome> {
    const body = await this.call('/api/v1/query', { query, time: String(at.getTime() / 1000) });
    if (!isApiBody(body)) return body;
    const warnings = body.warnings ?? [];
    const data = body.data;
    if (data?.resultType === 'scalar') {
      const [, text] = data.result as [number, string];
      return { kind: 'vector', samples: [{ labels: {}, value: toNumber(text) }], warnings };
    }
    if (data?.resultType !== 'vector' || !Array.isArray(data.result)) {
      return { kind: 'error', errorType: 'unexpected_result', message: `expected a vector, Prometheus returned ${data?.resultType ?? 'no data'} for: ${query}`, warnings };
    }
    const samples: Sample[] = (data.result as RawSample[]).map((s) => ({ labels: s.metric, value: toNumber(s.value[1]) }));
    return { kind: 'vector', samples, warnings };
  }

  async range(query: string, range: QueryRange): Promise<MatrixOutcome> {
    const body = await this.call('/api/v1/query_range', {
      query,
      start: String(range.start.getTime() / 1000),
      end: String(range.end.getTime() / 1000),
      step: String(range.stepMs / 1000),
    });
    if (!isApiBody(body)) return body;
    const warnings = body.warnings ?? [];
    const data = body.data;
    if (data?.resultType !== 'matrix' || !Array.isArray(data.result)) {
      return { kind: 'error', errorType: 'unexpected_result', message: `expected a matrix, Prometheus returned ${data?.resultType ?? 'no data'} for: ${query}`, warnings };
    }
    const series: Series[] = (data.result as RawSeries[]).map((s) => ({
      labels: s.metric,
      points: s.values.map(([t, v]) => [t, toNumber(v)] as [number, number]),
    }));
    return { kind: 'matrix', series, warnings };
  }

  /** One API call with bounded retries; answers the success body or a failure, never throws. */
  private async call(path: string, params: Record<string, string>): Promise<ApiBody | QueryFailure> {
    let attempt = await this.attempt(path, params);
    for (let retry = 1; attempt.retry && retry <= this.retries; retry++) {
      await new Promise((resolve) => setTimeout(resolve, this.backoffMs * 2 ** (retry - 1)));
      attempt = await this.attempt(path, params);
    }
    return attempt.retry ? attempt.failure : attempt.outcome;
  }

  private async attempt(path: string, params: Record<string, string>): Promise<Attempt> {
    const where = `${this.options.url}${path}`;
    try {
      // The timeout counts from when the query is sent, not from when it was queued.
      const response = await this.limit(() => this.http.post<unknown>(path, new URLSearchParams(params).toString()));
      const body = response.data;
      if (isApiBody(body) && body.status === 'success') return { retry: false, outcome: body };
      const warnings = isApiBody(body) ? (body.warnings ?? []) : [];
      if (isApiBody(body)) {
        // Prometheus reports its own query timeout as errorType "timeout" (HTTP 503).
        const failure: QueryFailure =
          body.errorType === 'timeout'
            ? { kind: 'timeout', message: `Prometheus query timed out: ${body.error ?? ''}`.trim(), warnings }
            : { kind: 'error', errorType: body.errorType ?? 'unknown', message: body.error ?? `HTTP ${response.status}`, warnings };
        return response.status >= 500 ? { retry: true, failure } : { retry: false, outcome: failure };
      }
      const failure: QueryFailure = {
        kind: 'unreachable',
        message: `${where} answered HTTP ${response.status} without a Prometheus API body`,
        warnings,
      };
      return response.status >= 500 ? { retry: true, failure } : { retry: false, outcome: failure };
    } catch (error) {
      const code = error instanceof AxiosError ? error.code : undefined;
      if (code === 'ETIMEDOUT' || code === 'ECONNABORTED') {
        return { retry: true, failure: { kind: 'timeout', message: `no answer from ${where} within ${this.options.timeoutMs} ms`, warnings: [] } };
      }
      const message = error instanceof Error ? error.message || (code ?? 'connection failed') : String(error);
      return { retry: false, outcome: { kind: 'unreachable', message: `cannot reach Prometheus at ${where}: ${message}`, warnings: [] } };
    }
  }
}
