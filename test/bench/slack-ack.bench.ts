import type { Bench, Figure } from './harness.js';
import { median, percentile } from './harness.js';
import { startHarness } from '../support/slack-standin/harness.js';
import { startFixture } from '../integration/kubernetes/fixture.js';
import { parseRelease } from '../../commands/index.js';

/**
 * How fast Lifeguard acknowledges signed slash commands over HTTP (Slack gives up at 3 s), measured at the
 * client as Slack would see it, while every command's follow-up work waits on the Kubernetes stand-in answering
 * Deployment reads after 2 s.
 */
export const bench: Bench = {
  name: 'slack-ack',
  async run() {
    const kube = await startFixture({ retry: { requestTimeoutMs: 15_000 } });
    kube.standin.inject({ path: /\/apis\/apps\/v1\/namespaces\/[^/]+\/deployments\//, latencyMs: 2_000 });
    const harness = await startHarness({ cluster: kube.cluster });
    const figures: Figure[] = [];
    try {
      const sequential: number[] = [];
      for (let i = 0; i < 100; i++) sequential.push((await harness.command('/release', `checkout 1.${i}.0 env=staging`)).elapsedMs);
      const burst = await Promise.all(Array.from({ length: 50 }, (_, i) => harness.command('/release', i % 2 ? 'help' : `checkout 2.${i}.0`)));
      const burstMs = burst.map((r) => r.elapsedMs);
      figures.push(
        { name: 'ack latency, one at a time', unit: 'ms', median: median(sequential), runs: sequential.length, target: { op: '<=', value: 250 } },
        { name: 'ack latency p99, one at a time', unit: 'ms', median: percentile(sequential, 99), runs: sequential.length, target: { op: '<=', value: 3000 }, note: 'p99 (the "median" column holds the p99)' },
        { name: 'ack latency p99, 50 at once', unit: 'ms', median: percentile(burstMs, 99), runs: burstMs.length, target: { op: '<=', value: 3000 }, note: 'p99 of a burst of 50 concurrent commands' },
      );
      await harness.lifeguard.slack.queue.drain();
    } finally {
      await harness.close();
      await kube.standin.stop();
    }

    const texts = ['checkout 1.5.0 env=production strategy=canary', 'history checkout env=staging', 'chekout 1.5.0', 'checkout reason="a long quoted reason with spaces"'];
    const rounds: number[] = [];
    for (let round = 0; round < 5; round++) {
      const started = performance.now();
      for (let i = 0; i < 20_000; i++) parseRelease(texts[i % texts.length]!, { services: { checkout: ['staging', 'production'] } });
      rounds.push(20_000 / ((performance.now() - started) / 1000));
    }
    figures.push({ name: 'parser throughput', unit: 'commands/s', median: median(rounds), runs: rounds.length, target: { op: '>=', value: 20_000 } });
    return figures;
  },
};
