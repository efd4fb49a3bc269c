import type { WatchEvent } from './store.js';

/**
 * The changes to one resource type a watch can resume from, as the API server's watch cache keeps them: the
 * newest `limit` events. A watch from a resourceVersion below `floor` has missed events that are gone.
 */
export class History {
  private events: WatchEvent[] = [];
  private start = 0;
  /** A watch may resume from this resourceVersion or a later one (0: every change since the start is kept). */
  floor = 0;

  constructor(private readonly limit: number) {}

  push(event: WatchEvent) {
    this.events.push(event);
    if (this.events.length - this.start <= this.limit) return;
    this.start++;
    // As the watch cache reckons it: from just before the oldest event kept.
    this.floor = this.events[this.start]!.resourceVersion - 1;
    // Drops the forgotten events in one copy now and then rather than shifting the array on every push.
    if (this.start >= this.limit) {
      this.events = this.events.slice(this.start);
      this.start = 0;
    }
  }

  /** The kept events after `resourceVersion`, oldest first; undefined when some of them are no longer kept. */
  since(resourceVersion: number): WatchEvent[] | undefined {
    if (resourceVersion < this.floor) return undefined;
    let low = this.start;
    let high = this.events.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.events[mid]!.resourceVersion > resourceVersion) high = mid;
      else low = mid + 1;
    }
    return this.events.slice(low);
  }

  /** Forgets every change up to `revision`, as an etcd compaction does. */
  compact(revision: number) {
    this.events = [];
    this.start = 0;
    this.floor = revision;
  }
}
