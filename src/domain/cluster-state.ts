import type { Config, ServiceEnvironment } from '../config/schema.js';

/** Which of a service's two Deployments. */
export type Track = 'stable' | 'canary';

/** A service in one environment, with its settings from lifeguard.yaml. */
export interface ServiceTarget {
  service: string;
  environment: string;
  settings: ServiceEnvironment;
}

export interface DeploymentCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastUpdateTime?: string;
}

export interface DeploymentState {
  namespace: string;
  name: string;
  /** Image of the container named in the config. */
  image: string;
  /** Every container's image, by container name. */
  images: Record<string, string>;
  replicas: { desired: number; current: number; updated: number; ready: number; available: number };
  /** `deployment.kubernetes.io/revision`; 0 before the controller has seen the Deployment. */
  revision: number;
  generation: number;
  observedGeneration: number;
  paused: boolean;
  conditions: DeploymentCondition[];
  /** Fingerprint of the pod template: equal templates, equal fingerprints (see Revision.template). */
  template: string;
}

/** One entry of `kubectl rollout history`: a ReplicaSet of the Deployment. */
export interface Revision {
  revision: number;
  replicaSet: string;
  images: Record<string, string>;
  createdAt: string;
  changeCause?: string;
  replicas: number;
  /** Numbers this ReplicaSet had before a rollback renumbered it. */
  formerRevisions: number[];
  /** Fingerprint of its pod template, comparable with DeploymentState.template. */
  template: string;
}

/** Share of the service's traffic, in percent; `stable + canary` is 100. */
export interface TrafficWeights {
  stable: number;
  canary: number;
  /** Where the weights live: an Istio VirtualService, a Gateway API HTTPRoute, or the replica ratio. */
  source: 'istio' | 'gatewayApi' | 'replicas';
}

export interface ServiceState {
  service: string;
  environment: string;
  stable: DeploymentState;
  canary: DeploymentState;
  /** The stable Deployment's revisions, newest first. */
  history: Revision[];
  traffic: TrafficWeights;
}

export type RollbackResult =
  | { outcome: 'rolled-back'; deployment: string; fromRevision: number; toRevision: number; image: string; message: string }
  | { outcome: 'no-op'; deployment: string; revision: number; message: string };

export interface RolloutProgress {
  deployment: string;
  generation: number;
  observedGeneration: number;
  desired: number;
  updated: number;
  ready: number;
  available: number;
  /** What `kubectl rollout status` would print now. */
  message: string;
}

export type RolloutResult =
  | { outcome: 'complete'; message: string; progress: RolloutProgress }
  | { outcome: 'failed'; reason: string; message: string; progress: RolloutProgress }
  | { outcome: 'timeout'; message: string; progress: RolloutProgress }
  | { outcome: 'aborted'; message: string; progress: RolloutProgress };

export interface PodLog {
  pod: string;
  container: string;
  lines: string[];
  /** Why the log could not be read, when it could not. */
  error?: string;
}

export interface ClusterEvent {
  at: string;
  type: string;
  reason: string;
  message: string;
  /** e.g. `Deployment/checkout-canary`, `Pod/checkout-canary-7d9c-x2x4k`. */
  object: string;
  count: number;
}

/** What the cluster looked like when something went wrong: for the audit log and the post-mortem. */
export interface Evidence {
  collectedAt: string;
  deployments: Record<Track, unknown>;
  logs: PodLog[];
  events: ClusterEvent[];
}

/** Finds a service's settings for an environment; throws a message naming what exists when it does not. */
export function serviceTarget(config: Pick<Config, 'services'>, service: string, environment: string): ServiceTarget {
  const svc = config.services[service];
  if (!svc) {
    throw new Error(`unknown service "${service}": lifeguard.yaml defines ${Object.keys(config.services).join(', ') || 'no services'}`);
  }
  const settings = svc.environments[environment];
  if (!settings) {
    throw new Error(`service "${service}" has no environment "${environment}": it is configured for ${Object.keys(svc.environments).join(', ')}`);
  }
  return { service, environment, settings };
}

/**
 * A Deployment's rollout as `kubectl rollout status` judges it: the spec observed, every replica updated, old
 * ones gone and the new ones available, or failed once its progress deadline passed.
 */
export function rolloutOf(d: DeploymentState): 'complete' | 'progressing' | 'failed' {
  if (d.observedGeneration < d.generation) return 'progressing';
  if (d.conditions.some((c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded')) return 'failed';
  const { desired, current, updated, available } = d.replicas;
  return updated < desired || current > updated || available < updated ? 'progressing' : 'complete';
}
