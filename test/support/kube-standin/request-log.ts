export interface RequestRecord {
  method: string;
  path: string;
  verb: string;
  group: string;
  /** `deployments`, or `deployments/scale` for a subresource. */
  resource: string;
  namespace?: string;
  name?: string;
  status: number;
  /** When it was answered, on this process's `performance.now()` clock: benchmarks time cluster writes by it. */
  at: number;
}

/** How many requests the stand-in has answered since it started. */
export interface RequestCounts {
  total: number;
  /** By verb: `list`, `watch`, `create`, `patch`… */
  byVerb: Record<string, number>;
  /** By verb and resource: `list deployments`, `patch deployments/scale`… */
  byResource: Record<string, number>;
}

/**
 * The requests the stand-in answered: the latest `limit` in full, for tests that look at what was sent, and
 * every one counted, for benches that report requests per minute, without growing with thousands of them.
 */
export class RequestLog {
  /** The latest requests, oldest first; a test may empty it to look only at what follows. */
  readonly recent: RequestRecord[] = [];
  private total = 0;
  private readonly byVerb = new Map<string, number>();
  private readonly byResource = new Map<string, number>();

  constructor(private readonly limit: number) {}

  add(record: RequestRecord) {
    this.recent.push(record);
    // Drops a tenth at once so that the copy happens now and then, not on every request.
    if (this.recent.length > this.limit) this.recent.splice(0, Math.ceil(this.limit / 10));
    this.total++;
    this.byVerb.set(record.verb, (this.byVerb.get(record.verb) ?? 0) + 1);
    const key = `${record.verb} ${record.resource}`;
    this.byResource.set(key, (this.byResource.get(key) ?? 0) + 1);
  }

  counts(): RequestCounts {
    return { total: this.total, byVerb: Object.fromEntries(this.byVerb), byResource: Object.fromEntries(this.byResource) };
  }
}
