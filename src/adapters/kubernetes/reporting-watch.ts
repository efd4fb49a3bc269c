import { Watch, type KubeConfig } from '@kubernetes/client-node';

/**
 * A watch that ends cleanly this soon after it opened, having brought no event, was cut by something on the way:
 * the API server itself ends a watch after its request timeout (30 to 60 minutes), not within a second.
 */
export const CUT_WITHIN_MS = 1_000;

/** A watch ended as soon as it opened, with no event: the informer would otherwise open it again at once, in a loop. */
export class WatchCut extends Error {
  override name = 'WatchCut';
  constructor(path: string, cluster: string) {
    super(
      `the watch of ${path} on cluster "${cluster}" ended as soon as it opened, with no event: something between Lifeguard and the API server cuts long requests; if it always does, set clusters.${cluster}.watch: false`,
    );
  }
}

export interface ReportingWatchOwner {
  cluster: string;
  /** The informer's own reopening failed: its copy is no longer kept current. */
  failed(error: unknown): void;
  /** The owner stopped: a watch the informer reopens now must not stay open. */
  stopped(): boolean;
}

/**
 * client-node's Watch, for the informers of watch-cache.ts, with what an informer does by itself after a watch
 * ends made visible to its owner:
 * - After a clean close the informer opens the watch again on its own, unawaited. When that fails before the
 *   request leaves (credentials from an exec plugin or a file, say), nothing heard it: the informer stopped for
 *   good while its copy still looked current. Here the failure goes to `failed`, so the copy is known to be down
 *   and is reconnected with back-off.
 * - A watch cut as soon as it opened (WatchCut) is reported as the error it is, instead of being reopened at once,
 *   again and again. The second is counted from the call, credentials included: a plugin slow enough to hide a
 *   cut paces the reopening itself.
 */
export class ReportingWatch extends Watch {
  constructor(
    config: KubeConfig,
    private readonly owner: ReportingWatchOwner,
  ) {
    super(config);
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    const opened = performance.now();
    let events = 0;
    const counted = (phase: string, apiObj: unknown, watchObj?: unknown) => {
      events++;
      callback(phase, apiObj, watchObj);
    };
    const ended = (error: unknown) => {
      const cut = error === null && events === 0 && performance.now() - opened < CUT_WITHIN_MS;
      // `done` is the informer's async handler, which re-lists and re-watches after a clean close; its promise is
      // typed away as void, and a rejection of it would otherwise go unheard.
      const handled = done(cut ? new WatchCut(path, this.owner.cluster) : error) as unknown;
      if (handled instanceof Promise) handled.catch((failure: unknown) => this.owner.failed(failure));
    };
    // client-node's informer does not look at its stop flag again once it is reopening (re-listing, fetching
    // credentials): a stop that lands meanwhile would leave this watch open for good.
    if (this.owner.stopped()) return new AbortController();
    const request = await super.watch(path, queryParams, counted, ended);
    if (this.owner.stopped()) request.abort();
    return request;
  }
}
