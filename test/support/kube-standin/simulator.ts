import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { seeded } from '../http-history.js';
import { typeOfKind } from './resources.js';
import type { KubeObject, ObjectStore, WatchEvent } from './store.js';

/*
 * The applications behind the stand-in's Deployments, as Prometheus sees them: every Deployment with ready pods
 * serves requests and exports the usual HTTP instrumentation (DESIGN §3) on one /metrics endpoint. How many
 * requests each gets follows the traffic weights in force; how it answers follows the image its pods run.
 */

/** Upper bounds of the latency histogram's buckets, in seconds: the Prometheus client libraries' defaults. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
/** Requests per second a service receives in total when the options do not name it. */
const DEFAULT_REQUESTS_PER_SECOND = 200;

/** How a version answers: the share of requests that end in a 5xx and how much slower than usual it is. */
interface Behaviour {
  errorRatio: number;
  latencyFactor: number;
  /** Above this share of its service's traffic it behaves as BAD: a version that breaks only under full load. */
  overloadedAbove?: number;
}

const HEALTHY: Behaviour = { errorRatio: 0.004, latencyFactor: 1 };
const BAD: Behaviour = { errorRatio: 0.08, latencyFactor: 2 };
const SLOW: Behaviour = { errorRatio: HEALTHY.errorRatio, latencyFactor: 2 };
const OVERLOADS: Behaviour = { ...HEALTHY, overloadedAbove: 0.5 };
/**
 * Log-normal latency, median 75 ms and p99 about 0.15 s. The tail stays inside the 0.1–0.25 s bucket (3 in
 * 100,000 requests above it), so histogram_quantile's p99 holds still on the fifty requests of a small canary
 * share, and twice the latency moves it up a bucket.
 */
const LATENCY = { medianSeconds: 0.075, sigma: 0.3 };

const DEPLOYMENTS = typeOfKind('Deployment');
const REPLICASETS = typeOfKind('ReplicaSet');
const VIRTUAL_SERVICES = typeOfKind('VirtualService');
const HTTP_ROUTES = typeOfKind('HTTPRoute');
/** Kinds whose changes move traffic or behaviour; the rest (pods, events) reach it through these. */
const WATCHED_KINDS = new Set(['Deployment', 'ReplicaSet', 'VirtualService', 'HTTPRoute']);
/** The `version` label of each `track` (DESIGN §3). Deployments on no known track are not judged, so not exported. */
const VERSION_OF_TRACK = new Map<string, 'canary' | 'baseline'>([
  ['canary', 'canary'],
  ['stable', 'baseline'],
]);

/**
 * The behaviour an image's tag asks for: `-bad` (8 % 5xx, twice the latency), `-slow` (twice the latency),
 * `-overload` (healthy up to half of the traffic, bad above: passes a canary, fails once promoted), else healthy.
 */
function behaviourOf(image: string): Behaviour {
  const name = image.split('@')[0]!;
  const tag = name.lastIndexOf(':') > name.lastIndexOf('/') ? name.slice(name.lastIndexOf(':') + 1) : '';
  if (tag.endsWith('-bad')) return BAD;
  if (tag.endsWith('-slow')) return SLOW;
  if (tag.endsWith('-overload')) return OVERLOADS;
  return HEALTHY;
}

/** Ready pods of one ReplicaSet: they serve with the behaviour of the image they run. */
interface Pods {
  ready: number;
  behaviour: Behaviour;
}

/** A Deployment with ready pods, as the traffic sees it. */
interface LiveDeployment {
  uid: string;
  name: string;
  namespace: string;
  app: string;
  track: string;
  version: 'canary' | 'baseline';
  ready: number;
  pods: Pods[];
}

/** One exported workload: its labels, the traffic it gets until the next change, and its counters so far. */
interface Workload {
  labels: string;
  requestsPerSecond: number;
  /** Its share of its service's traffic, 0 to 1. */
  share: number;
  pods: Pods[];
  /** Fraction of a request owed from the previous advance, so rates hold exactly over time. */
  owed: number;
  ok: number;
  errors: number;
  /** Requests per latency bucket (not cumulative); the last entry counts those above the highest bound. */
  buckets: number[];
  latencySum: number;
  random: () => number;
}

/** A weighted destination of a route and the Deployments whose pods it reaches. */
interface Destination {
  weight: number;
  reaches: (d: LiveDeployment) => boolean;
}

export interface SimulatorOptions {
  /** Seeds every workload's noise (errors and latencies), per Deployment name: no unseeded randomness. */
  seed: number;
  /** Requests per second each service (`app` label) receives in total; 200 for those not named. */
  requestsPerSecond?: Record<string, number>;
}

/**
 * Serves GET /metrics for the workloads of a KubeStandin's store. Counters advance with real time: every
 * scrape and every change to Deployments, ReplicaSets or routes first serves the requests of the time since
 * the last one at the rates then in force, then reads the new rates, so a weight change shows at its moment.
 */
export class WorkloadSimulator {
  /** Workloads by Deployment uid: a Deployment deleted and created again starts its counters from zero. */
  private readonly workloads = new Map<string, Workload>();
  /** Each workload's counters as they stood after every advance (wall-clock ms), kept after it stops serving. */
  private readonly history = new Map<string, { app: string; version: string; points: { at: number; ok: number; errors: number }[] }>();
  private lastAdvance = performance.now();
  private readonly server: Server;
  private readonly listener = (event: WatchEvent) => {
    if (WATCHED_KINDS.has(event.object.kind)) this.advance();
  };
  /** `127.0.0.1:port`: the scrape target. */
  target = '';
  /** `http://127.0.0.1:port`; the metrics are at `${url}/metrics`. */
  url = '';

  private constructor(
    private readonly store: ObjectStore,
    private readonly options: SimulatorOptions,
  ) {
    this.server = createServer((req, res) => {
      if (req.method !== 'GET' || new URL(req.url ?? '/', 'http://simulator').pathname !== '/metrics') {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
        return;
      }
      this.advance();
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' }).end(this.exposition());
    });
  }

  static async start(standin: { store: ObjectStore }, options: SimulatorOptions): Promise<WorkloadSimulator> {
    const simulator = new WorkloadSimulator(standin.store, options);
    await new Promise<void>((resolve, reject) => {
      simulator.server.once('error', reject);
      simulator.server.listen(0, '127.0.0.1', () => {
        simulator.server.off('error', reject);
        resolve();
      });
    });
    simulator.target = `127.0.0.1:${(simulator.server.address() as AddressInfo).port}`;
    simulator.url = `http://${simulator.target}`;
    simulator.observe();
    standin.store.changes.on('change', simulator.listener);
    return simulator;
  }

  async stop(): Promise<void> {
    this.store.changes.off('change', this.listener);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private advance(): void {
    const now = performance.now();
    const seconds = (now - this.lastAdvance) / 1000;
    this.lastAdvance = now;
    const at = Date.now();
    for (const [uid, workload] of this.workloads) {
      serve(workload, seconds);
      this.history.get(uid)?.points.push({ at, ok: workload.ok, errors: workload.errors });
    }
    this.observe();
  }

  /**
   * The requests and 5xx that `app`'s `version` side served between two moments, by the simulator's own counters:
   * each as it stood at the moments the simulator served (every scrape and every change), linear in between.
   */
  served(app: string, version: 'canary' | 'baseline', from: Date, to: Date): { requests: number; errors: number } {
    let requests = 0;
    let errors = 0;
    for (const series of this.history.values()) {
      if (series.app !== app || series.version !== version) continue;
      const [start, end] = [counterAt(series.points, from.getTime()), counterAt(series.points, to.getTime())];
      requests += end.ok + end.errors - (start.ok + start.errors);
      errors += end.errors - start.errors;
    }
    return { requests, errors };
  }

  /** Reads which Deployments serve and at what rate from the store; forgets those without ready pods. */
  private observe(): void {
    const live = liveDeployments(this.store);
    const uids = new Set(live.map((d) => d.uid));
    for (const uid of this.workloads.keys()) if (!uids.has(uid)) this.workloads.delete(uid);
    // Each namespace's routes are read once, however many services it holds.
    const routes = new Map<string, Destination[][]>();
    for (const service of groupByService(live)) {
      const { namespace, app } = service[0]!;
      if (!routes.has(namespace)) routes.set(namespace, namespaceRoutes(this.store, namespace));
      const shares = trafficShares(service, routes.get(namespace)!.find((route) => route.some((destination) => service.some(destination.reaches))));
      const total = this.requestsPerSecond(app);
      for (const deployment of service) {
        const workload = this.workloads.get(deployment.uid) ?? this.newWorkload(deployment);
        workload.share = shares.get(deployment)!;
        workload.requestsPerSecond = total * workload.share;
        workload.pods = deployment.pods;
      }
    }
  }

  private requestsPerSecond(service: string): number {
    const given = this.options.requestsPerSecond ?? {};
    return Object.hasOwn(given, service) ? given[service]! : DEFAULT_REQUESTS_PER_SECOND;
  }

  private newWorkload(d: LiveDeployment): Workload {
    const workload: Workload = {
      labels: `namespace="${d.namespace}",app="${d.app}",version="${d.version}"`,
      requestsPerSecond: 0,
      share: 0,
      pods: [],
      owed: 0,
      ok: 0,
      errors: 0,
      buckets: [...LATENCY_BUCKETS.map(() => 0), 0],
      latencySum: 0,
      random: seeded(this.options.seed ^ fnv1a(`${d.namespace}/${d.name}`)),
    };
    this.workloads.set(d.uid, workload);
    if (!this.history.has(d.uid)) this.history.set(d.uid, { app: d.app, version: d.version, points: [{ at: Date.now(), ok: 0, errors: 0 }] });
    return workload;
  }

  private exposition(): string {
    const workloads = [...this.workloads.values()];
    const lines = ['# HELP http_requests_total HTTP requests served, by status code.', '# TYPE http_requests_total counter'];
    // Both statuses are exported from the start, as the instrumentation guidelines advise: a side that has
    // served no error yet reads as an error rate of 0, not as no data.
    for (const w of workloads) lines.push(`http_requests_total{${w.labels},status="200"} ${w.ok}`, `http_requests_total{${w.labels},status="500"} ${w.errors}`);
    lines.push('# HELP http_request_duration_seconds Time to serve an HTTP request.', '# TYPE http_request_duration_seconds histogram');
    for (const w of workloads) {
      let cumulative = 0;
      LATENCY_BUCKETS.forEach((le, i) => {
        cumulative += w.buckets[i]!;
        lines.push(`http_request_duration_seconds_bucket{${w.labels},le="${le}"} ${cumulative}`);
      });
      lines.push(
        `http_request_duration_seconds_bucket{${w.labels},le="+Inf"} ${w.ok + w.errors}`,
        `http_request_duration_seconds_sum{${w.labels}} ${w.latencySum}`,
        `http_request_duration_seconds_count{${w.labels}} ${w.ok + w.errors}`,
      );
    }
    return `${lines.join('\n')}\n`;
  }
}

/** A counter at `at`: 0 before it existed, the last value after it stopped, linear between two readings. */
function counterAt(points: { at: number; ok: number; errors: number }[], at: number): { ok: number; errors: number } {
  if (at <= points[0]!.at) return { ok: 0, errors: 0 };
  const after = points.findIndex((p) => p.at >= at);
  if (after === -1) return points[points.length - 1]!;
  const [a, b] = [points[after - 1]!, points[after]!];
  const f = b.at === a.at ? 1 : (at - a.at) / (b.at - a.at);
  return { ok: a.ok + f * (b.ok - a.ok), errors: a.errors + f * (b.errors - a.errors) };
}

/** Serves the requests of `seconds` at the workload's rate, each drawn: which pod, error or not, how long. */
function serve(w: Workload, seconds: number): void {
  w.owed += w.requestsPerSecond * seconds;
  const requests = Math.floor(w.owed);
  w.owed -= requests;
  const readyPods = w.pods.reduce((n, p) => n + p.ready, 0);
  for (let i = 0; i < requests; i++) {
    const picked = pick(w.pods, w.random() * readyPods).behaviour;
    const behaviour = picked.overloadedAbove !== undefined && w.share > picked.overloadedAbove ? BAD : picked;
    if (w.random() < behaviour.errorRatio) w.errors++;
    else w.ok++;
    const latency = LATENCY.medianSeconds * behaviour.latencyFactor * Math.exp(LATENCY.sigma * normal(w.random));
    const bucket = LATENCY_BUCKETS.findIndex((le) => latency <= le);
    w.buckets[bucket === -1 ? LATENCY_BUCKETS.length : bucket]!++;
    w.latencySum += latency;
  }
}

/** The pods that serve the request falling at `position` among all ready pods. */
function pick(pods: Pods[], position: number): Pods {
  let remaining = position;
  for (const p of pods) {
    if (remaining < p.ready) return p;
    remaining -= p.ready;
  }
  return pods[pods.length - 1]!;
}

/** A standard normal draw (Box-Muller). */
function normal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text)) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash;
}

type Labelled = { metadata?: { labels?: Record<string, string> }; spec?: { containers?: { image: string }[] } };

/**
 * Deployments with ready pods, on a known track. Readiness is read from their ReplicaSets (whose ready pods add
 * up to the Deployment's readyReplicas), because during a rollout old and new pods serve side by side.
 */
function liveDeployments(store: ObjectStore): LiveDeployment[] {
  return store.peekAll(DEPLOYMENTS).flatMap((d) => {
    const labels = (d.spec?.template as Labelled | undefined)?.metadata?.labels ?? {};
    const version = VERSION_OF_TRACK.get(labels.track ?? '');
    const pods = store.peekOwned(REPLICASETS, d.metadata.namespace, d.metadata.uid).flatMap(readyPods);
    const ready = pods.reduce((n, p) => n + p.ready, 0);
    if (!labels.app || !version || ready === 0) return [];
    return [{ uid: d.metadata.uid, name: d.metadata.name, namespace: d.metadata.namespace, app: labels.app, track: labels.track!, version, ready, pods }];
  });
}

/** A ReplicaSet's ready pods; the first container is the application, as kubectl assumes by default. */
function readyPods(rs: KubeObject): Pods[] {
  const ready = (rs.status?.readyReplicas as number | undefined) ?? 0;
  const image = (rs.spec?.template as Labelled | undefined)?.spec?.containers?.[0]?.image ?? '';
  return ready > 0 ? [{ ready, behaviour: behaviourOf(image) }] : [];
}

/** Live Deployments grouped by service: the `app` label within a namespace. */
function groupByService(live: LiveDeployment[]): LiveDeployment[][] {
  const services = new Map<string, LiveDeployment[]>();
  for (const d of live) services.set(`${d.namespace}/${d.app}`, [...(services.get(`${d.namespace}/${d.app}`) ?? []), d]);
  return [...services.values()];
}

/** The weighted routes of the namespace's VirtualServices and HTTPRoutes, in order: a service takes the first that reaches it. */
function namespaceRoutes(store: ObjectStore, namespace: string): Destination[][] {
  return [...store.peekAll(VIRTUAL_SERVICES, namespace).flatMap(istioRoutes), ...store.peekAll(HTTP_ROUTES, namespace).flatMap(gatewayRoutes)];
}

/**
 * An Istio VirtualService's routes. The stand-in holds no DestinationRules or Services: a subset is taken to
 * select the pods of the host's app whose `track` it names, and a host without a subset to be a Service named
 * after the Deployment it fronts (the two ways the seed's objects are written).
 */
function istioRoutes(vs: KubeObject): Destination[][] {
  type Route = { destination?: { host?: string; subset?: string }; weight?: number };
  const http = (vs.spec?.http ?? []) as { route?: Route[] }[];
  return http.map(({ route = [] }) =>
    route.map(({ destination, weight }) => {
      const host = (destination?.host ?? '').split('.')[0];
      const subset = destination?.subset;
      // Istio gives a lone destination all the traffic when its weight is left out.
      return { weight: weight ?? (route.length === 1 ? 100 : 0), reaches: (d: LiveDeployment) => (subset ? d.app === host && d.track === subset : d.name === host) };
    }),
  );
}

/** A Gateway API HTTPRoute's rules; a backendRef names a Service, taken to be named after its Deployment. */
function gatewayRoutes(route: KubeObject): Destination[][] {
  const rules = (route.spec?.rules ?? []) as { backendRefs?: { name: string; weight?: number }[] }[];
  // The Gateway API's default weight is 1.
  return rules.map(({ backendRefs = [] }) => backendRefs.map(({ name, weight }) => ({ weight: weight ?? 1, reaches: (d: LiveDeployment) => d.name === name })));
}

/**
 * Each Deployment's share of its service's requests: by the route's weights (a destination's share split over
 * the Deployments it reaches by ready pods), or without a route by ready pods. Weight sent to a destination with
 * no ready pods is lost: the mesh answers it and the application never sees it.
 */
function trafficShares(service: LiveDeployment[], route: Destination[] | undefined): Map<LiveDeployment, number> {
  const readyOf = (ds: LiveDeployment[]) => ds.reduce((n, d) => n + d.ready, 0);
  if (!route) return new Map(service.map((d) => [d, d.ready / readyOf(service)]));
  const shares = new Map(service.map((d) => [d, 0]));
  const total = route.reduce((n, r) => n + r.weight, 0);
  if (total === 0) return shares;
  for (const destination of route) {
    const reached = service.filter(destination.reaches);
    for (const d of reached) shares.set(d, shares.get(d)! + ((destination.weight / total) * d.ready) / readyOf(reached));
  }
  return shares;
}
