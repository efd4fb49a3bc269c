import { KubeConfig } from '@kubernetes/client-node';
import { kubernetesCluster } from '../../src/adapters/kubernetes/cluster.js';
import { loadConfig } from '../../src/config/load.js';
import { serviceTarget } from '../../src/domain/cluster-state.js';
import { KubeStandin } from '../support/kube-standin/server.js';
import { seedCheckout } from '../support/kube-standin/seed.js';
import { median, repeat, type Bench } from './harness.js';

/**
 * The Kubernetes adapter against the API-server stand-in on loopback, with pods ready at once:
 * what Lifeguard itself adds to a rollback, not what a real cluster's pods take to start.
 */
export const bench: Bench = {
  name: 'kubernetes adapter',
  async run() {
    const config = loadConfig('lifeguard.example.yaml', {});
    const standin = await KubeStandin.start({ readyDelayMs: 0, syncDelayMs: 0 });
    try {
      await seedCheckout(standin);
      const file = standin.writeKubeconfig();
      const cluster = kubernetesCluster(config, {
        retry: { baseDelayMs: 5, maxDelayMs: 20 },
        kubeConfig: () => {
          const kc = new KubeConfig();
          kc.loadFromFile(file);
          return kc;
        },
      });
      const production = serviceTarget(config, 'checkout', 'production');
      const time = async (fn: () => Promise<unknown>) => {
        const started = performance.now();
        await fn();
        return performance.now() - started;
      };

      const readState = await repeat(30, () => time(() => cluster.workloads.readState(production)));
      const rollback = await repeat(10, () =>
        time(async () => {
          await cluster.workloads.rollback(production);
          const done = await cluster.workloads.waitForRollout(production, 'stable', { timeoutMs: 10_000, pollMs: 10 });
          if (done.outcome !== 'complete') throw new Error(`rollout ${done.outcome}: ${done.message}`);
        }),
      );
      const conflicted = await repeat(10, (run) =>
        time(async () => {
          standin.inject({ path: '/apis/networking.istio.io/v1/namespaces/shop/virtualservices/checkout', method: 'PATCH', concurrentWrite: true, times: 3 });
          await cluster.traffic.set(production, run % 2 ? 5 : 25);
        }),
      );
      return [
        { name: 'read service state (2 Deployments, history, weights)', unit: 'ms', median: median(readState), runs: readState.length, target: { op: '<=', value: 50 } },
        { name: 'rollback until rolled out (pods ready at once)', unit: 'ms', median: median(rollback), runs: rollback.length, target: { op: '<=', value: 1_000 }, note: 'poll every 10 ms' },
        { name: 'traffic shift through a storm of 3 conflicts', unit: 'ms', median: median(conflicted), runs: conflicted.length, target: { op: '<=', value: 200 } },
      ];
    } finally {
      await standin.stop();
    }
  },
};
