import { readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import type { Traffic } from '../../../src/config/schema.js';
import { allSettled, serviceDeployment, serviceHttpRoute, serviceVirtualService } from './seed.js';
import type { KubeStandin } from './server.js';

/*
 * A fleet of services laid out as the example config's `checkout` in production: `svc-0001`… each with a
 * stable Deployment, a canary one scaled to 0, and its traffic split by an Istio VirtualService, a Gateway
 * API HTTPRoute or replica counts in turn, so that every kind of traffic object is there in numbers.
 */

export interface FleetService {
  name: string;
  namespace: string;
  stable: string;
  canary: string;
  traffic: Traffic;
  image: string;
}

export interface FleetOptions {
  /** Services per namespace (default 50): `fleet-01` holds the first ones, `fleet-02` the next… */
  perNamespace?: number;
  /** Replicas of each stable Deployment (default 1). */
  replicas?: number;
  /** How long to wait for the controller to roll every Deployment out (default a minute). */
  timeoutMs?: number;
}

const EXAMPLE_CONFIG = new URL('../../../lifeguard.example.yaml', import.meta.url);

/** The names, namespaces and traffic of `count` services, without creating anything. */
export function fleetServices(count: number, opts: Pick<FleetOptions, 'perNamespace'> = {}): FleetService[] {
  const perNamespace = opts.perNamespace ?? 50;
  const digits = Math.max(4, String(count).length);
  const namespaceDigits = Math.max(2, String(Math.ceil(count / perNamespace)).length);
  return Array.from({ length: count }, (_, i) => {
    const name = `svc-${String(i + 1).padStart(digits, '0')}`;
    const traffic: Traffic = [{ istio: { virtualService: name } }, { gatewayApi: { httpRoute: name } }, { replicas: {} }][i % 3]!;
    return {
      name,
      namespace: `fleet-${String(Math.floor(i / perNamespace) + 1).padStart(namespaceDigits, '0')}`,
      stable: name,
      canary: `${name}-canary`,
      traffic,
      image: `registry.example.com/fleet/${name}:1.0.0`,
    };
  });
}

/**
 * Creates `count` services in a started stand-in (their Deployments, and through its controller their
 * ReplicaSets and pods, and their routes) and resolves once every Deployment is rolled out.
 */
export async function seedServices(standin: KubeStandin, count: number, opts: FleetOptions = {}): Promise<FleetService[]> {
  const services = fleetServices(count, opts);
  for (const s of services) {
    standin.apply(serviceDeployment(s.name, { namespace: s.namespace, name: s.stable, track: 'stable', image: s.image, replicas: opts.replicas ?? 1, changeCause: 'release 1.0.0' }));
    standin.apply(serviceDeployment(s.name, { namespace: s.namespace, name: s.canary, track: 'canary', image: s.image, replicas: 0 }));
    if ('istio' in s.traffic) standin.apply(serviceVirtualService(s.name, s.namespace));
    if ('gatewayApi' in s.traffic) standin.apply(serviceHttpRoute(s.name, s.namespace));
  }
  await allSettled(
    standin,
    services.flatMap((s) => [s.stable, s.canary].map((name) => ({ namespace: s.namespace, name }))),
    opts.timeoutMs ?? 60_000,
  );
  return services;
}

export interface FleetConfigOptions {
  /** The kubeconfig context of the stand-in (default `lifeguard-standin`, as KubeStandin.writeKubeconfig names it). */
  context?: string;
  /** Default the example config's. */
  prometheusUrl?: string;
  /** Keeps the example config's `checkout` service too, for a stand-in that also holds it (seedCheckout). */
  withCheckout?: boolean;
}

/**
 * A lifeguard.yaml document for the fleet: the example config with each service in `production` as the
 * example's `checkout` is there (its steps, approvals and analysis), in its own namespace and traffic.
 */
export function fleetConfig(services: FleetService[], opts: FleetConfigOptions = {}): Record<string, unknown> {
  const example = parse(readFileSync(EXAMPLE_CONFIG, 'utf8')) as {
    prometheus: Record<string, unknown>;
    clusters: Record<string, Record<string, unknown>>;
    services: { checkout: { environments: { production: Record<string, unknown> } } };
  };
  const production = example.services.checkout.environments.production;
  const fleet = Object.fromEntries(
    services.map((s) => [
      s.name,
      {
        channel: `#${s.name}-releases`,
        environments: { production: { ...production, namespace: s.namespace, stable: s.stable, canary: s.canary, traffic: s.traffic } },
      },
    ]),
  );
  return {
    ...example,
    prometheus: { ...example.prometheus, ...(opts.prometheusUrl ? { url: opts.prometheusUrl } : {}) },
    clusters: Object.fromEntries(Object.entries(example.clusters).map(([name, cluster]) => [name, { ...cluster, context: opts.context ?? 'lifeguard-standin' }])),
    services: { ...(opts.withCheckout ? example.services : {}), ...fleet },
  };
}

/** Writes fleetConfig() to `path` as YAML; returns the path. */
export function writeFleetConfig(path: string, services: FleetService[], opts: FleetConfigOptions = {}): string {
  // Written out in full: the services share their settings, and the config loader refuses many YAML aliases.
  writeFileSync(path, stringify(fleetConfig(services, opts), { aliasDuplicateObjects: false }));
  return path;
}
