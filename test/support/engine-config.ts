import { stringify } from 'yaml';
import type { Traffic } from '../../src/config/schema.js';

/*
 * A lifeguard.yaml for end-to-end tests against the workload simulator (kube-standin/simulator.ts) and a
 * Prometheus scraping it every second: the example config's rules on a scale of seconds, so a whole release
 * (5, 25, 50 then 100 %) takes well under a minute.
 */

export interface FastConfigOptions {
  prometheusUrl: string;
  /** The service, as the workloads' `app` label names it (default `checkout`). */
  service?: string;
  /** Default `production`. */
  environment?: string;
  /** Default `shop`; the metric queries select it too, since the simulator exports every namespace. */
  namespace?: string;
  /** Default `checkout`. */
  stable?: string;
  /** Default `checkout-canary`. */
  canary?: string;
  /** Kubeconfig context of the cluster (default `lifeguard-standin`, as KubeStandin.writeKubeconfig names it). */
  context?: string;
  /** Default the Istio VirtualService named after the service, as the seed has it. */
  traffic?: Traffic;
  /** How long each step lasts (default `8s`: long enough for a window and a `for` of evidence). */
  stepDuration?: string;
  /** How long a promoted release is judged against its own past (default `8s`). */
  watch?: string;
  /** Default `10s`. */
  rollbackCooldown?: string;
  /** How long a rollback retries a cluster that keeps failing before it ends failed (default: the config's, `2m`). */
  rollbackRetryTimeout?: string;
}

/** The config document (to validate with parseConfig, or to write with fastConfigYaml). */
export function fastConfig(options: FastConfigOptions): Record<string, unknown> {
  const service = options.service ?? 'checkout';
  const environment = options.environment ?? 'production';
  const namespace = options.namespace ?? 'shop';
  return {
    slack: { releaseChannel: '#releases', incidentChannel: '#incidents' },
    prometheus: { url: options.prometheusUrl, timeout: '2s' },
    clusters: { standin: { context: options.context ?? 'lifeguard-standin' } },
    roles: {
      'release-manager': ['U01ALICE', '@release-managers'],
      'on-call': ['@oncall'],
      'team-lead': ['U02CAROL'],
      'platform-owner': ['U03DAVE'],
      'architecture-review': ['U04ERIN'],
    },
    environments: {
      // No freezes: a weekend freeze would stop the tests on Friday evenings.
      [environment]: {
        cluster: 'standin',
        approvals: { release: { roles: ['release-manager'], count: 1 }, rollback: { roles: ['release-manager', 'on-call'], count: 1 } },
        rollbackCooldown: options.rollbackCooldown ?? '10s',
        ...(options.rollbackRetryTimeout ? { rollbackRetryTimeout: options.rollbackRetryTimeout } : {}),
      },
    },
    hotfix: {
      approvers: {
        critical: ['on-call'],
        high: ['team-lead', 'platform-owner'],
        medium: ['team-lead', 'platform-owner', 'release-manager'],
        low: ['team-lead', 'platform-owner', 'release-manager', 'architecture-review'],
      },
    },
    metrics: fastMetrics(namespace),
    services: {
      [service]: {
        channel: '#checkout-releases',
        environments: {
          [environment]: {
            namespace,
            stable: options.stable ?? 'checkout',
            canary: options.canary ?? 'checkout-canary',
            container: 'app',
            traffic: options.traffic ?? { istio: { virtualService: service } },
            steps: [5, 25, 50, 100],
            stepDuration: options.stepDuration ?? '8s',
            pauseForApprovalAt: [50],
            watch: options.watch ?? '8s',
            analysis: { interval: '1s', metrics: ['error-rate', 'latency-p99', 'success-rate'], maxInconclusive: 3 },
          },
        },
      },
    },
  };
}

/** The same document as lifeguard.yaml text, for `lifeguard start` and `lifeguard config check`. */
export function fastConfigYaml(options: FastConfigOptions): string {
  return stringify(fastConfig(options), { lineWidth: 0 });
}

/**
 * The example's error-rate, latency-p99 and success-rate over 5 s windows, scraped every second. A verdict every
 * second asks the question sixty times a minute, of windows holding a handful of errors: with the example's
 * significance (5 %) and a 3 s `for`, about one verdict in 75 of a healthy canary on the 5 % step fails by
 * chance (simulated at 200 requests per second). So the critical two are held to a `for` as long as their window,
 * a breach showing in two windows without a request in common, and to a significance of 1 %: one in 2,000.
 */
function fastMetrics(namespace: string): Record<string, unknown> {
  const requests = (matchers = '') => `http_requests_total{namespace="${namespace}",app="{{service}}",version="{{variant}}"${matchers}}`;
  const rate = (matchers?: string) => `sum(rate(${requests(matchers)}[{{window}}]))`;
  return {
    // "or 0 * …" reads a side that serves requests but no 5xx as 0 % rather than as no data (as in the example).
    'error-rate': {
      query: `(${rate(',status=~"5.."')} or 0 * ${rate()}) / ${rate()}`,
      counts: { events: `sum(increase(${requests(',status=~"5.."')}[{{window}}]))`, total: `sum(increase(${requests()}[{{window}}]))` },
      window: '5s',
      step: '1s',
      max: 0.03,
      maxRatioToBaseline: 1.5,
      for: '5s',
      significance: 0.01,
      // A 5 s window at the 5 % step holds about 50 requests of the canary's.
      minSamples: 20,
      critical: true,
    },
    // Twice the latency moves the simulator's p99 up a histogram bucket: about 1.8× by histogram_quantile.
    'latency-p99': {
      query: `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{namespace="${namespace}",app="{{service}}",version="{{variant}}"}[{{window}}])))`,
      window: '5s',
      step: '1s',
      maxRatioToBaseline: 1.5,
      for: '5s',
      significance: 0.01,
      // Ten seconds of samples for the Mann-Whitney comparison rather than fifty.
      minSamples: 10,
      critical: true,
    },
    'success-rate': {
      query: `${rate(',status!~"5.."')} / ${rate()}`,
      window: '5s',
      step: '1s',
      min: 0.95,
      // As long as error-rate's: success-rate is its mirror under a looser bound, and must not trip first.
      for: '5s',
    },
  };
}
