import type { CanarySaved, DeliveryFigures } from './delivery-figures.js';

/** The delivery figures in words, one line each: what the CLI prints and Slack shows under a history. */

/** A duration as people say it: 45s, 12m, 5m30s, 3.5h, 2.1d. */
export function spokenDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m${s % 60 ? `${s % 60}s` : ''}`;
  if (s < 172_800) return `${(s / 3600).toFixed(1)}h`;
  return `${(s / 86_400).toFixed(1)}d`;
}

const count = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));
const pct = (ratio: number) => `${(ratio * 100).toFixed(ratio * 100 < 10 ? 1 : 0)} %`;

function savedLine(c: CanarySaved): string {
  const at = `#${c.operation}${c.version ? ` (${c.version})` : ''} caught at ${c.weightReached} % of traffic`;
  if (c.failedServed === null || c.failedAtFullTraffic === null || c.errorRate === null) {
    return `${at}: failed requests unknown (${c.exposedMs === null ? 'never drained' : 'no failing metric with counts in the decision'})`;
  }
  return `${at}: served ${count(c.failedServed)} failed requests over ${spokenDuration(c.exposedMs!)} at ${pct(c.errorRate)} ${c.metric}; at 100 % the same rate would have failed ${count(c.failedAtFullTraffic)}`;
}

export function figureLines(f: DeliveryFigures): string[] {
  const days = Number.isInteger(f.days) ? f.days : f.days.toFixed(1);
  return [
    `Deployment frequency: ${f.deploymentsPerDay.toFixed(2)} a day (${f.deployments} promoted in ${days} days)`,
    `Change failure rate: ${f.changeFailureRate === null ? 'none ended' : `${pct(f.changeFailureRate)} (${f.failedChanges} of ${f.changes} ended changes rolled back, aborted, failed or undone next)`}`,
    `Mean time to recovery: ${f.meanTimeToRecoveryMs === null ? 'no verified rollback' : `${spokenDuration(f.meanTimeToRecoveryMs)} (decision to verified, ${f.recoveries} rollback${f.recoveries === 1 ? '' : 's'})`}`,
    `Median release duration: ${f.medianReleaseDurationMs === null ? 'none promoted' : spokenDuration(f.medianReleaseDurationMs)}`,
    `Automated rollbacks: ${f.automatedRollbacks}`,
    `What the canary saved: ${f.canarySaved.length === 0 ? 'no bad canary caught' : `${f.canarySaved.length} bad canar${f.canarySaved.length === 1 ? 'y' : 'ies'} caught`}`,
    ...f.canarySaved.map((c) => `  ${savedLine(c)}`),
  ];
}
