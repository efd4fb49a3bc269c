import { ReleaseStack } from '../support/release-stack.js';
import { median, type Bench } from './harness.js';

/**
 * From a failing canary's breach to Lifeguard's decision, against the workload simulator and a real Prometheus
 * scraping it every second with engine-config.ts's second-scale rules (`for` 5 s, analysis every 1 s): the
 * target is `for` plus one interval. "Breach start" is when the judge saw the breach begin (the evaluation time
 * less how long the failing rule had held); the traffic figure counts from the canary's first step instead, so
 * it includes Prometheus's scrape and the metric window filling.
 */
export const bench: Bench = {
  name: 'breach to decision (end to end)',
  async run() {
    const runs = 5;
    const stack = await ReleaseStack.start({ rollbackCooldown: '1s' });
    const fromBreach: number[] = [];
    const fromTraffic: number[] = [];
    try {
      for (let run = 0; run < runs; run++) {
        const card = await stack.release(`1.5.${run}-bad`);
        const op = stack.operationOf(card.requestId)!;
        const decision = await stack.waitFor(
          () => stack.audit().find((r) => r.action === 'rollback.automated' && r.detail.operation === op.id),
          `run ${run}: the bad canary was not rolled back`,
          120_000,
        );
        const decided = stack.operationOf(card.requestId)!.rollback!;
        fromBreach.push(Date.parse(decision.at) - Date.parse(decided.breachStartedAt!));
        const firstStep = stack.audit().find((r) => r.action === 'operation.step' && r.detail.operation === op.id)!;
        fromTraffic.push(Date.parse(decision.at) - Date.parse(firstStep.at));
        await stack.waitFor(() => (['rolled-back', 'failed'].includes(stack.operationOf(card.requestId)!.state) ? true : undefined), `run ${run}: the rollback did not end`, 120_000);
      }
    } finally {
      await stack.close();
    }
    return [
      { name: 'breach start → decision (median)', unit: 'ms', median: median(fromBreach), runs, target: { op: '<=', value: 6_000 }, note: '`for` 5 s + interval 1 s' },
      { name: 'breach start → decision (worst)', unit: 'ms', median: Math.max(...fromBreach), runs, target: { op: '<=', value: 6_000 } },
      { name: 'canary takes traffic → decision (median)', unit: 'ms', median: median(fromTraffic), runs, note: 'includes the scrape and the 5 s window filling' },
    ];
  },
};
