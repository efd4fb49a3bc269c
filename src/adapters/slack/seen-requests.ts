/**
 * Keys of signed Slack requests already accepted (their signatures, their delivery ids), each kept only until it
 * could no longer pass the timestamp check anyway. Bounded: when full of live entries, the oldest is dropped, so
 * memory stays flat whatever the traffic; `remember` says when that happened so it can be logged.
 */
export class SeenRequests {
  /** Insertion order is arrival order: the first key is the oldest. */
  private readonly until = new Map<string, number>();

  constructor(
    private readonly capacity: number,
    private readonly now: () => number = Date.now,
  ) {}

  has(key: string): boolean {
    const expiry = this.until.get(key);
    return expiry !== undefined && expiry > this.now();
  }

  /** Keeps `key` until `untilMs`; true when an unexpired entry had to be dropped to make room. */
  remember(key: string, untilMs: number): boolean {
    this.until.delete(key);
    let dropped = false;
    if (this.until.size >= this.capacity) {
      const now = this.now();
      for (const [seen, expiry] of this.until) if (expiry <= now) this.until.delete(seen);
      if (this.until.size >= this.capacity) {
        const oldest = this.until.keys().next().value;
        if (oldest !== undefined) this.until.delete(oldest);
        dropped = true;
      }
    }
    this.until.set(key, untilMs);
    return dropped;
  }

  get size(): number {
    return this.until.size;
  }
}
