import type { ServerResponse } from 'node:http';
import { apiVersionOf, type ResourceType } from './resources.js';
import { typeKey, type KubeObject, type ObjectStore, type WatchEvent } from './store.js';

export interface WatchOptions {
  /** How often a watch that allows bookmarks gets one (the API server: about every minute). */
  bookmarkIntervalMs: number;
}

export interface WatchRequest {
  type: ResourceType;
  /** Undefined for a watch across all namespaces. */
  namespace?: string;
  /** The request's label and field selectors. */
  matches: (obj: KubeObject) => boolean;
  params: URLSearchParams;
}

/** Watches of every namespace are kept under this key: no namespace has an empty name. */
const ALL_NAMESPACES = '';
/** The watch cache sends a watch's last bookmark this long before the watch times out. */
const BOOKMARK_BEFORE_TIMEOUT_MS = 2_000;
/** Without `timeoutSeconds`, the API server ends a watch after --min-request-timeout (1800 s by default). */
const DEFAULT_TIMEOUT_SECONDS = 1800;

/** The `Status` of a watch that starts, or stands, before the oldest change kept: kube-apiserver's words for it. */
function expired(since: number, floor: number) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `too old resource version: ${since} (${floor})`, reason: 'Expired', code: 410 };
}

/** One open watch: a chunked response that streams one type's changes passing its selectors, one JSON event per line. */
class Watcher {
  /** The resourceVersion of the last change or bookmark it sent, or where it started. */
  lastSent: number;
  private readonly timers = new Set<NodeJS.Timeout>();
  private ended = false;
  /** Called once when it ends, whichever side ends it. */
  onEnd = () => {};

  constructor(
    readonly res: ServerResponse,
    readonly request: WatchRequest,
    since: number,
  ) {
    this.lastSent = since;
  }

  /** Sends the changes that pass its selectors, in one write. */
  send(events: WatchEvent[]) {
    if (this.ended) return;
    let text = '';
    for (const event of events) {
      if (!this.request.matches(event.object)) continue;
      text += event.line;
      this.lastSent = event.resourceVersion;
    }
    if (text) this.res.write(text);
  }

  write(type: string, object: unknown) {
    if (!this.ended) this.res.write(`${JSON.stringify({ type, object })}\n`);
  }

  /** Ends the watch with an ERROR event, as the API server does once the watch has started. */
  fail(status: unknown) {
    this.write('ERROR', status);
    this.end();
  }

  end() {
    if (this.ended) return;
    this.ended = true;
    this.clearTimers();
    this.onEnd();
    this.res.end();
  }

  after(ms: number, fn: () => void) {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  private clearTimers() {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}

/**
 * The open watches, by type and namespace so that a change is offered only to the watches of its type and
 * namespace (and those of all namespaces), each written once whatever the number of watches sending it.
 */
export class WatchHub {
  private readonly watchers = new Map<string, Map<string, Set<Watcher>>>();
  private readonly listener = (event: WatchEvent) => this.dispatch(event);
  /** Set while a proxy on the way ends every watch this long after it opens (see KubeStandin.cutWatches). */
  cutAfterMs: number | undefined;

  constructor(
    private readonly store: ObjectStore,
    private readonly opts: WatchOptions,
  ) {
    store.changes.on('change', this.listener);
  }

  /** How many watches are open. */
  get open(): number {
    let n = 0;
    for (const byNamespace of this.watchers.values()) for (const set of byNamespace.values()) n += set.size;
    return n;
  }

  /**
   * Starts a watch as the API server does: without a resourceVersion (or with 0) an ADDED event for every
   * object first; from a resourceVersion every kept change since, or, when some are gone, an ERROR event
   * (410 Expired) and the end.
   */
  start(res: ServerResponse, request: WatchRequest) {
    const { type, namespace, matches, params } = request;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    // Clients treat the watch as established once headers arrive, before any event.
    res.flushHeaders();
    const since = Number(params.get('resourceVersion') ?? '0');
    const watcher = new Watcher(res, request, since || this.store.currentRevision);
    if (since === 0) {
      const added = this.store.peekAll(type, namespace).filter(matches);
      if (added.length > 0) res.write(added.map((obj) => `{"type":"ADDED","object":${this.store.toJson(obj)}}\n`).join(''));
    } else {
      const missed = this.store.changesSince(type, since);
      if (!missed) return watcher.fail(expired(since, this.store.historyFloor(type)));
      watcher.send(namespace === undefined ? missed : missed.filter((e) => e.object.metadata.namespace === namespace));
    }
    const set = this.setOf(typeKey(type), namespace ?? ALL_NAMESPACES);
    set.add(watcher);
    watcher.onEnd = () => set.delete(watcher);
    // As the API server reads it, a timeout of 0 is no timeout given.
    const timeoutMs = (Number(params.get('timeoutSeconds')) || DEFAULT_TIMEOUT_SECONDS) * 1000;
    watcher.after(Math.min(timeoutMs, this.cutAfterMs ?? Infinity), () => watcher.end());
    if (params.get('allowWatchBookmarks') === 'true') this.scheduleBookmark(watcher, Date.now() + timeoutMs);
    // The response closes when the client goes away (the request's own 'close' only says its body was read).
    res.on('close', () => watcher.end());
  }

  /**
   * Forgets every change so far and ends every open watch with 410 Expired, as when the API server's history
   * no longer reaches back far enough: an informer must list again and watch from the list.
   */
  expire() {
    this.store.compact();
    for (const watcher of this.all()) watcher.fail(expired(watcher.lastSent, this.store.currentRevision));
  }

  /** Ends every open watch cleanly, as the API server does when a watch's request timeout passes. */
  endAll() {
    for (const watcher of this.all()) watcher.end();
  }

  closeAll() {
    this.store.changes.off('change', this.listener);
    this.endAll();
  }

  private all(): Watcher[] {
    return [...this.watchers.values()].flatMap((byNamespace) => [...byNamespace.values()].flatMap((set) => [...set]));
  }

  private setOf(key: string, namespace: string): Set<Watcher> {
    let byNamespace = this.watchers.get(key);
    if (!byNamespace) this.watchers.set(key, (byNamespace = new Map()));
    let set = byNamespace.get(namespace);
    if (!set) byNamespace.set(namespace, (set = new Set()));
    return set;
  }

  private dispatch(event: WatchEvent) {
    const byNamespace = this.watchers.get(event.typeKey);
    if (!byNamespace) return;
    const events = [event];
    for (const watcher of byNamespace.get(ALL_NAMESPACES) ?? []) watcher.send(events);
    for (const watcher of byNamespace.get(event.object.metadata.namespace) ?? []) watcher.send(events);
  }

  /** Bookmarks about every interval and one just before the watch times out, as the watch cache sends them. */
  private scheduleBookmark(watcher: Watcher, deadline: number) {
    const now = Date.now();
    const next = Math.min(now + this.opts.bookmarkIntervalMs, deadline - BOOKMARK_BEFORE_TIMEOUT_MS);
    if (next <= now) return;
    watcher.after(next - now, () => {
      const { type } = watcher.request;
      watcher.lastSent = this.store.currentRevision;
      watcher.write('BOOKMARK', { kind: type.kind, apiVersion: apiVersionOf(type), metadata: { resourceVersion: String(watcher.lastSent) } });
      this.scheduleBookmark(watcher, deadline);
    });
  }
}
