import axios, { AxiosError } from 'axios';
import type { ProbeOutcome } from '../../domain/judge.js';

/** GETs `url` for an `http` check: any answered status is a response (judged later); never throws. */
export async function httpProbe(url: string, timeoutMs: number): Promise<ProbeOutcome> {
  const started = performance.now();
  try {
    const response = await axios.get(url, {
      timeout: timeoutMs,
      transitional: { clarifyTimeoutError: true },
      validateStatus: () => true,
      maxRedirects: 0,
      responseType: 'arraybuffer',
    });
    return { kind: 'response', status: response.status, seconds: (performance.now() - started) / 1000 };
  } catch (error) {
    const code = error instanceof AxiosError ? error.code : undefined;
    if (code === 'ETIMEDOUT' || code === 'ECONNABORTED') return { kind: 'timeout', message: `no answer within ${timeoutMs} ms` };
    return { kind: 'unreachable', message: error instanceof Error ? error.message || (code ?? 'connection failed') : String(error) };
  }
}
