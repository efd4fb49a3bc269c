import type { Config } from '../config/schema.js';
import { serviceTarget } from '../domain/cluster-state.js';
import type { TrafficRouter, Workloads } from '../ports.js';
import type { ActiveCanary } from '../scheduler.js';
import type { TrafficShareSource } from './canary-analysis.js';

/** `lifeguard analyze` without --weight: the canary's current share of traffic, from the cluster. */
export function clusterTrafficShare(traffic: TrafficRouter): TrafficShareSource {
  return async (service, environment, config) => (await traffic.read(serviceTarget(config, service, environment))).canary;
}

/** Told, for every service read, whether its state could be read. */
export interface ReadReport {
  unreadable(service: string, environment: string, error: unknown): void;
  readable(service: string, environment: string): void;
}

/**
 * The canaries serving traffic in an environment right now: a canary Deployment that wants pods and gets a
 * share of the traffic. A service whose state cannot be read is reported and left out, so one broken
 * service does not stop the analysis of the others.
 */
export function liveCanaries(workloads: Workloads, config: Pick<Config, 'services'>, report: ReadReport): (environment: string) => Promise<ActiveCanary[]> {
  return async (environment) => {
    const services = Object.entries(config.services).filter(([, svc]) => environment in svc.environments);
    const found = await Promise.all(
      services.map(async ([service]): Promise<ActiveCanary | undefined> => {
        try {
          const state = await workloads.readState(serviceTarget(config, service, environment));
          report.readable(service, environment);
          const serving = state.canary.replicas.desired > 0 && state.traffic.canary > 0;
          return serving ? { service, trafficShare: state.traffic.canary } : undefined;
        } catch (error) {
          report.unreadable(service, environment, error);
          return undefined;
        }
      }),
    );
    return found.filter((canary): canary is ActiveCanary => canary !== undefined);
  };
}
