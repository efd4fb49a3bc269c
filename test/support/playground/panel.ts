import type { KubeObject, ObjectStore } from '../kube-standin/store.js';
import { typeOfKind } from '../kube-standin/resources.js';

/**
 * The page's side panel: the cluster as the Kubernetes stand-in holds it (what `kubectl get` would show), and the
 * canary's and baseline's error rate and p99 from Prometheus, by the same metric templates Lifeguard judges with.
 */

export interface Workload {
  name: string;
  image: string | undefined;
  replicas: number;
  ready: number;
  /** Percent of traffic the VirtualService sends it. */
  weight: number | undefined;
}

export interface ServiceTarget {
  service: string;
  namespace: string;
  stable: string;
  canary: string;
  virtualService: string;
}

function workload(store: ObjectStore, namespace: string, name: string, weight: number | undefined): Workload | undefined {
  const deployment = store.get(typeOfKind('Deployment'), namespace, name);
  if (!deployment) return undefined;
  const spec = deployment.spec as { replicas?: number; template?: { spec?: { containers?: { name: string; image: string }[] } } };
  const status = (deployment.status ?? {}) as { readyReplicas?: number };
  return { name, image: spec.template?.spec?.containers?.[0]?.image, replicas: spec.replicas ?? 1, ready: status.readyReplicas ?? 0, weight };
}

/** The weight of each route's subset in the VirtualService's first HTTP route. */
function weights(virtualService: KubeObject | undefined): Record<string, number> {
  const http = (virtualService?.spec as { http?: { route?: { destination?: { subset?: string }; weight?: number }[] }[] } | undefined)?.http;
  return Object.fromEntries((http?.[0]?.route ?? []).map((r) => [r.destination?.subset ?? '', r.weight ?? 0]));
}

export function clusterView(store: ObjectStore, target: ServiceTarget): { service: string; namespace: string; stable?: Workload; canary?: Workload } {
  const split = weights(store.get(typeOfKind('VirtualService'), target.namespace, target.virtualService));
  return {
    service: target.service,
    namespace: target.namespace,
    stable: workload(store, target.namespace, target.stable, split.stable),
    canary: workload(store, target.namespace, target.canary, split.canary),
  };
}

/** A metric template of the config, as Lifeguard fills it in. */
export interface MetricTemplate {
  query: string;
  window?: string;
}

export const CHARTED = ['error-rate', 'latency-p99'] as const;
const VARIANTS = ['canary', 'baseline'] as const;

export function chartQueries(templates: Record<string, MetricTemplate>, service: string): { metric: string; variant: string; query: string }[] {
  return CHARTED.flatMap((metric) => {
    const template = templates[metric];
    if (!template) return [];
    return VARIANTS.map((variant) => ({
      metric,
      variant,
      query: template.query.replaceAll('{{service}}', service).replaceAll('{{variant}}', variant).replaceAll('{{window}}', template.window ?? '5m'),
    }));
  });
}

/** The last `seconds` of each charted series, one point a second: [unix seconds, value] pairs, NaN left out. */
export async function chartSeries(prometheusUrl: string, queries: ReturnType<typeof chartQueries>, seconds = 180): Promise<{ metric: string; variant: string; points: [number, number][] }[]> {
  const end = Math.floor(Date.now() / 1000);
  return Promise.all(
    queries.map(async (q) => {
      const url = new URL('/api/v1/query_range', prometheusUrl);
      url.search = new URLSearchParams({ query: q.query, start: String(end - seconds), end: String(end), step: '1' }).toString();
      const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
      const body = (await response.json()) as { data?: { result?: { values: [number, string][] }[] } };
      const values = body.data?.result?.[0]?.values ?? [];
      return { metric: q.metric, variant: q.variant, points: values.map(([t, v]): [number, number] => [t, Number(v)]).filter(([, v]) => Number.isFinite(v)) };
    }),
  );
}
