import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fastConfig, startEngine, verdict } from '../support/engine-harness.js';
import { median, percentile, type Bench } from './harness.js';

/**
 * From a failing verdict reaching the release engine to the first write the API-server stand-in answers (the
 * traffic drained to the stable): Lifeguard's own reaction time, with the store, the cluster read and the
 * compare-and-set commit in it, not a real cluster's network.
 */
export const bench: Bench = {
  name: 'release engine',
  async run() {
    const runs = 25;
    const dir = mkdtempSync(join(tmpdir(), 'lifeguard-bench-engine-'));
    // No cooldown: each run is a fresh failing canary that must be rolled back, not escalated.
    const env = await startEngine(dir, fastConfig({ cooldown: 1 }), { readyDelayMs: 0 });
    const samples: number[] = [];
    try {
      for (let run = 0; run < runs; run++) {
        const started = await env.engine.startFromRequest(env.grant(`1.5.${run}-bad`));
        if (!started.ok) throw new Error(`run ${run}: ${started.why}`);
        const id = started.operation.id;
        await waitFor(() => env.op(id).phase === 'hold', `run ${run}: the canary never reached its first step`);
        const before = env.fixture.standin.requests.length;
        const at = performance.now();
        await env.engine.onVerdicts([verdict('fail')]);
        const write = env.fixture.standin.requests.slice(before).find((r) => r.method !== 'GET');
        if (!write) throw new Error(`run ${run}: the failing verdict wrote nothing to the cluster`);
        samples.push(write.at - at);
        await waitFor(() => env.op(id).state === 'rolled-back', `run ${run}: the rollback did not finish`);
      }
    } finally {
      await env.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    return [
      { name: 'failing verdict → first cluster write (median)', unit: 'ms', median: median(samples), runs, target: { op: '<=', value: 200 } },
      { name: 'failing verdict → first cluster write (p99)', unit: 'ms', median: percentile(samples, 99), runs, target: { op: '<=', value: 200 }, note: 'p99 of the same runs' },
    ];
  },
};

async function waitFor(condition: () => boolean, message: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(message);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
