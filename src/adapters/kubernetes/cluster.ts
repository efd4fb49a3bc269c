import type { Cluster, TrafficRouter, Workloads } from '../../ports.js';
import { ClusterApis, type ClusterApisOptions, type ClustersConfig } from './apis.js';
import { Deployments } from './deployments.js';
import { KubernetesTrafficRouter } from './traffic/factory.js';
import { KubernetesWorkloads } from './workloads.js';

export type KubernetesClusterOptions = ClusterApisOptions;

/**
 * The Cluster ports on real clusters through @kubernetes/client-node: one client per cluster of lifeguard.yaml,
 * shared, reading directly or from watched copies as `opts.reads` says.
 */
export function kubernetesCluster(config: ClustersConfig, opts: KubernetesClusterOptions = {}): Cluster {
  const apis = new ClusterApis(config, opts);
  const deployments = new Deployments(apis);
  const traffic: TrafficRouter = new KubernetesTrafficRouter({ apis, deployments });
  const workloads: Workloads = new KubernetesWorkloads(apis, deployments, traffic);
  return { workloads, traffic, stop: () => apis.stop() };
}
