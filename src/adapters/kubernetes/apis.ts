import type { KubeConfig } from '@kubernetes/client-node';
import type { Config } from '../../config/schema.js';
import type { ServiceTarget } from '../../domain/cluster-state.js';
import { DEFAULT_RETRY, KubeApi, type RetryPolicy } from './api.js';
import { ClusterError } from './errors.js';
import { kubeConfigFor } from './kubeconfig.js';

export interface ClusterApisOptions {
  retry?: Partial<RetryPolicy>;
  /** How a cluster of lifeguard.yaml becomes a KubeConfig; the default reads KUBECONFIG or the in-cluster account. */
  kubeConfig?: (clusterName: string) => KubeConfig;
}

/** One client per cluster of lifeguard.yaml, made on first use and shared by workloads and traffic routers. */
export class ClusterApis {
  private readonly apis = new Map<string, KubeApi>();
  private readonly retry: RetryPolicy;

  constructor(
    private readonly config: Pick<Config, 'clusters' | 'environments'>,
    private readonly opts: ClusterApisOptions = {},
  ) {
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
  }

  /** The API of the cluster the target's environment runs on. */
  for(target: ServiceTarget): KubeApi {
    const environment = this.config.environments[target.environment];
    if (!environment) {
      throw new ClusterError('config', `unknown environment "${target.environment}": lifeguard.yaml defines ${Object.keys(this.config.environments).join(', ')}`);
    }
    const name = environment.cluster;
    let api = this.apis.get(name);
    if (!api) {
      const kc = this.opts.kubeConfig ? this.opts.kubeConfig(name) : kubeConfigFor(this.config, name);
      api = new KubeApi(name, kc, this.retry);
      this.apis.set(name, api);
    }
    return api;
  }
}
