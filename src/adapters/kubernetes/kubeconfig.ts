import { KubeConfig } from '@kubernetes/client-node';
import { delimiter } from 'node:path';
import { ClusterError } from './errors.js';

/**
 * The KubeConfig for a named cluster of lifeguard.yaml: its kubeconfig context (from KUBECONFIG or
 * ~/.kube/config), or the in-cluster ServiceAccount when it names no context.
 */
export function kubeConfigFor(config: { clusters: Record<string, { context?: string | undefined }> }, clusterName: string, env: NodeJS.ProcessEnv = process.env): KubeConfig {
  const cluster = config.clusters[clusterName];
  if (!cluster) {
    throw new ClusterError('config', `unknown cluster "${clusterName}": lifeguard.yaml defines ${Object.keys(config.clusters).join(', ') || 'no clusters'}`);
  }
  const kc = new KubeConfig();
  if (!cluster.context) {
    if (!env.KUBERNETES_SERVICE_HOST) {
      throw new ClusterError(
        'config',
        `clusters.${clusterName} names no context, so Lifeguard uses its in-cluster ServiceAccount, but it is not running in a cluster (KUBERNETES_SERVICE_HOST is not set): run it in the cluster or set clusters.${clusterName}.context`,
      );
    }
    kc.loadFromCluster();
    return kc;
  }
  try {
    loadKubeconfigFiles(kc, env);
  } catch (error) {
    throw new ClusterError('config', `cannot read the kubeconfig for clusters.${clusterName} (KUBECONFIG=${env.KUBECONFIG ?? '~/.kube/config'}): ${(error as Error).message}`);
  }
  const names = kc.getContexts().map((c) => c.name);
  if (!names.includes(cluster.context)) {
    throw new ClusterError(
      'config',
      `clusters.${clusterName}.context: context "${cluster.context}" is not in the kubeconfig (KUBECONFIG=${env.KUBECONFIG ?? '~/.kube/config'}); it has ${names.length ? names.join(', ') : 'no contexts'}`,
    );
  }
  kc.setCurrentContext(cluster.context);
  return kc;
}

/** The cluster Lifeguard itself runs on (for its leader-election Lease): in-cluster, else the kubeconfig's current context. */
export function homeKubeConfig(env: NodeJS.ProcessEnv = process.env): KubeConfig {
  const kc = new KubeConfig();
  if (env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
  else loadKubeconfigFiles(kc, env);
  return kc;
}

/**
 * KUBECONFIG as kubectl reads it (a list of files, merged in order) from the given environment rather than the
 * process's, so a caller that passes its own environment is obeyed; without it, ~/.kube/config.
 */
function loadKubeconfigFiles(kc: KubeConfig, env: NodeJS.ProcessEnv): void {
  const files = (env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
  if (files.length === 0) {
    kc.loadFromDefault();
    return;
  }
  kc.loadFromFile(files[0]!);
  for (const file of files.slice(1)) {
    const more = new KubeConfig();
    more.loadFromFile(file);
    kc.mergeConfig(more, true);
  }
}
