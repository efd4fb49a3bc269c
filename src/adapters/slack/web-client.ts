import { webApi } from '@slack/bolt';
import type { Logger as BoltLogger } from '@slack/bolt';

/**
 * Our retry policy for the Web API client, in place of the library default (ten retries over about half an
 * hour): a few quick retries of network and 5xx failures, then the caller hears about it. A 429 is not retried
 * by the client: it is rejected with its Retry-After, and the posting queue (or `withRateLimit`) waits it out.
 */
export const RETRY_POLICY: webApi.RetryOptions = { retries: 3, factor: 2, minTimeout: 250, maxTimeout: 2000, randomize: true };

/** Per request; a hung connection must not hold a channel's queue for ever. */
export const REQUEST_TIMEOUT_MS = 10_000;

export function webClientOptions(apiUrl: string | undefined, logger?: BoltLogger): webApi.WebClientOptions {
  return {
    ...(apiUrl ? { slackApiUrl: apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/` } : {}),
    retryConfig: RETRY_POLICY,
    rejectRateLimitedCalls: true,
    timeout: REQUEST_TIMEOUT_MS,
    ...(logger ? { logger } : {}),
  };
}

/**
 * For the outbox sender: exactly one request per call, and a 429 rejected with its Retry-After. The sender keeps
 * order per channel, backs off and records every attempt; retries inside the client would hide all of that.
 */
export function outboxClientOptions(apiUrl: string | undefined, logger?: BoltLogger): webApi.WebClientOptions {
  return { ...webClientOptions(apiUrl, logger), retryConfig: { retries: 0 }, rejectRateLimitedCalls: true };
}

/** Milliseconds Slack asked us to wait, when `error` is a 429. */
export function rateLimitDelayMs(error: unknown): number | undefined {
  const coded = error as { code?: string; retryAfter?: number };
  if (coded?.code !== webApi.ErrorCode.RateLimitedError || typeof coded.retryAfter !== 'number') return undefined;
  return coded.retryAfter * 1000;
}

/** The Slack error code of a failed call (`channel_not_found`, `ratelimited`, …) or its message. */
export function slackErrorCode(error: unknown): string {
  const data = (error as { data?: { error?: unknown } })?.data;
  if (typeof data?.error === 'string') return data.error;
  if (rateLimitDelayMs(error) !== undefined) return 'ratelimited';
  return error instanceof Error ? error.message : String(error);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs a call, waiting out a 429's Retry-After when it is short enough; bounded in waits and in time. */
export async function withRateLimit<T>(call: () => Promise<T>, options: { maxWaits?: number; maxWaitMs?: number } = {}): Promise<T> {
  const maxWaits = options.maxWaits ?? 2;
  const maxWaitMs = options.maxWaitMs ?? 5_000;
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const delay = rateLimitDelayMs(error);
      if (delay === undefined || attempt >= maxWaits || delay > maxWaitMs) throw error;
      await sleep(delay);
    }
  }
}
