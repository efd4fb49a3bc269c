import { KubeConfig } from '@kubernetes/client-node';
import { loadConfig } from '../../../src/config/load.js';
import { serviceTarget, type ServiceTarget } from '../../../src/domain/cluster-state.js';
import type { Cluster } from '../../../src/ports.js';
import { kubernetesCluster } from '../../../src/adapters/kubernetes/cluster.js';
import type { RetryPolicy } from '../../../src/adapters/kubernetes/api.js';
import type { ClusterApisOptions } from '../../../src/adapters/kubernetes/apis.js';
import { KubeStandin, type StandinOptions } from '../../support/kube-standin/server.js';
import { seedCheckout } from '../../support/kube-standin/seed.js';

export const exampleConfig = loadConfig('lifeguard.example.yaml', {});

export interface Fixture {
  standin: KubeStandin;
  cluster: Cluster;
  kubeconfig: string;
  production: ServiceTarget;
  staging: ServiceTarget;
}

/** The KubeConfig of the stand-in's kubeconfig file, on the context the example config names. */
export function kubeConfigOf(kubeconfig: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  kc.setCurrentContext(exampleConfig.clusters.prod!.context!);
  return kc;
}

/** A seeded stand-in and a Kubernetes cluster adapter talking to it through the kubeconfig context the example config names. */
export async function startFixture(opts: StandinOptions & { retry?: Partial<RetryPolicy>; reads?: ClusterApisOptions['reads'] } = {}): Promise<Fixture> {
  const standin = await KubeStandin.start({ readyDelayMs: 0, ...opts });
  await seedCheckout(standin);
  standin.setReadyDelay(opts.readyDelayMs ?? 50);
  const kubeconfig = standin.writeKubeconfig('lifeguard-standin');
  const cluster = kubernetesCluster(exampleConfig, {
    retry: { baseDelayMs: 5, maxDelayMs: 20, requestTimeoutMs: 2_000, ...opts.retry },
    ...(opts.reads ? { reads: opts.reads } : {}),
    kubeConfig: () => kubeConfigOf(kubeconfig),
  });
  return {
    standin,
    cluster,
    kubeconfig,
    production: serviceTarget(exampleConfig, 'checkout', 'production'),
    staging: serviceTarget(exampleConfig, 'checkout', 'staging'),
  };
}
