/** A run of failures of one thing, from the first to now. */
export interface Streak {
  since: Date;
  failures: number;
  error: string;
}

/**
 * Which things are failing, each since when: a failure repeated tick after tick (a missing Deployment, an
 * unreachable cluster) is news once when it starts and once when it ends, however many services and ticks it spans.
 */
export class FailureStreaks {
  private readonly streaks = new Map<string, Streak>();

  /** Records a failure; true when it starts a streak. */
  fail(key: string, at: Date, error: string): boolean {
    const streak = this.streaks.get(key);
    if (streak) {
      streak.failures++;
      streak.error = error;
      return false;
    }
    this.streaks.set(key, { since: at, failures: 1, error });
    return true;
  }

  /** Records a success; the streak it ends, if one was running. */
  succeed(key: string): Streak | undefined {
    const streak = this.streaks.get(key);
    this.streaks.delete(key);
    return streak;
  }

  /** Streaks running now whose key starts with `prefix`. */
  count(prefix = ''): number {
    let n = 0;
    for (const key of this.streaks.keys()) if (key.startsWith(prefix)) n++;
    return n;
  }
}
