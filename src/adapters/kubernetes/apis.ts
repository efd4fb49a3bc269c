import type { KubeConfig } from '@kubernetes/client-node';
import type { Config } from '../../config/schema.js';
import type { ServiceTarget } from '../../domain/cluster-state.js';
import { DEFAULT_RETRY, KubeApi, type RetryPolicy } from './api.js';
import { DirectReads } from './direct-reads.js';
import { ClusterError } from './errors.js';
import { kubeConfigFor } from './kubeconfig.js';
import type { ObjectReads } from './object-reads.js';
import { DEFAULT_REQUEST_LIMITS, RequestGate } from './request-gate.js';
import { WatchedReads, type WatchLog } from './watched-reads.js';

export interface ClusterApisOptions {
  retry?: Partial<RetryPolicy>;
  /** How a cluster of lifeguard.yaml becomes a KubeConfig; the default reads KUBECONFIG or the in-cluster account. */
  kubeConfig?: (clusterName: string) => KubeConfig;
  /**
   * `watch` keeps a watched copy of what Lifeguard reads, so that a long-running process reads without
   * requests, on every cluster whose `watch` setting is not false; `direct` (the default, for one-shot
   * commands) asks the API server each time.
   */
  reads?: 'watch' | 'direct';
  /** Where watches report breaking and coming back (`watch` only). */
  log?: WatchLog;
  /** How long a write may take to show in the watched copy before the caller goes on (`watch` only). */
  observeTimeoutMs?: number;
}

type ClusterSettings = Config['clusters'][string];

/** The part of lifeguard.yaml clients are made from; limits left out (a config built in code) take the defaults. */
export interface ClustersConfig {
  clusters: Record<string, Partial<ClusterSettings>>;
  environments: Config['environments'];
}

interface ClusterClient {
  api: KubeApi;
  reads: ObjectReads;
}

const silent: WatchLog = { info: () => {}, warn: () => {} };

/** One client per cluster of lifeguard.yaml, made on first use and shared by workloads and traffic routers. */
export class ClusterApis {
  private readonly clients = new Map<string, ClusterClient>();
  private readonly retry: RetryPolicy;

  constructor(
    private readonly config: ClustersConfig,
    private readonly opts: ClusterApisOptions = {},
  ) {
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
  }

  /** The API of the cluster the target's environment runs on. */
  for(target: ServiceTarget): KubeApi {
    return this.client(target).api;
  }

  /** How objects of the target's cluster are read: watched or direct. */
  readsFor(target: ServiceTarget): ObjectReads {
    return this.client(target).reads;
  }

  /** Ends every watch, so that the process can exit. */
  async stop(): Promise<void> {
    await Promise.all([...this.clients.values()].map((c) => c.reads.stop()));
  }

  private client(target: ServiceTarget): ClusterClient {
    const environment = this.config.environments[target.environment];
    if (!environment) {
      throw new ClusterError('config', `unknown environment "${target.environment}": lifeguard.yaml defines ${Object.keys(this.config.environments).join(', ')}`);
    }
    const name = environment.cluster;
    let client = this.clients.get(name);
    if (!client) {
      const kc = this.opts.kubeConfig ? this.opts.kubeConfig(name) : kubeConfigFor(this.config, name);
      const settings: Partial<ClusterSettings> = this.config.clusters[name] ?? {};
      const limits = { ...DEFAULT_REQUEST_LIMITS, ...definedLimits(settings) };
      const api = new KubeApi(name, kc, this.retry, { read: new RequestGate(limits), write: new RequestGate(limits) });
      const reads = this.opts.reads === 'watch' && settings.watch !== false ? new WatchedReads(api, this.opts.log ?? silent, { observeTimeoutMs: this.opts.observeTimeoutMs }) : new DirectReads(api);
      client = { api, reads };
      this.clients.set(name, client);
    }
    return client;
  }
}

function definedLimits(settings: Partial<ClusterSettings>) {
  return Object.fromEntries(Object.entries({ concurrency: settings.concurrency, qps: settings.qps, burst: settings.burst }).filter(([, v]) => v !== undefined));
}
