import pLimit, { type LimitFunction } from 'p-limit';

export interface RequestGateLimits {
  /** Requests at once; the rest wait their turn. */
  concurrency: number;
  /** Sustained requests per second (client-go's QPS). */
  qps: number;
  /** Requests that may go at once after a quiet spell (client-go's burst). */
  burst: number;
}

/** client-go's defaults for controllers are 5/10, kubectl's 50/300; a release bot sits in between. */
export const DEFAULT_REQUEST_LIMITS: RequestGateLimits = { concurrency: 16, qps: 20, burst: 40 };

/**
 * Every request of one cluster passes here: at most `concurrency` in flight, and a token bucket like client-go's
 * flowcontrol, so a burst of work (a restart, a thousand services) reaches the API server as a steady stream
 * that its API Priority and Fairness does not have to throttle.
 */
export class RequestGate {
  private readonly limit: LimitFunction;
  private tokens: number;
  private refilledAt: number;
  /** Callers waiting for a token, in order. */
  private readonly waiting: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly limits: RequestGateLimits = DEFAULT_REQUEST_LIMITS,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.limit = pLimit(limits.concurrency);
    this.tokens = limits.burst;
    this.refilledAt = now();
  }

  run<T>(fn: () => Promise<T>): Promise<T> {
    return this.limit(async () => {
      await this.token();
      return fn();
    });
  }

  /** Requests waiting for a slot or a token. */
  get queued(): number {
    return this.limit.pendingCount + this.waiting.length;
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.limits.burst, this.tokens + ((now - this.refilledAt) / 1000) * this.limits.qps);
    this.refilledAt = now;
  }

  private token(): Promise<void> {
    this.refill();
    if (this.waiting.length === 0 && this.tokens >= 1) {
      this.tokens -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.timer || this.waiting.length === 0) return;
    const wait = Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.limits.qps));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.refill();
      while (this.waiting.length > 0 && this.tokens >= 1) {
        this.tokens -= 1;
        this.waiting.shift()!();
      }
      this.schedule();
    }, wait);
  }
}
