import type { FailingMetric, VerdictEvent } from './operation.js';
import { ruleBound } from './rule-bound.js';
import type { MetricEvidence, Verdict } from './verdict.js';

/** The bounds a metric broke, as a person reads them ("≤ 0.03", "≤ 1.5× baseline"). */
function thresholds(metric: MetricEvidence): string[] {
  return metric.rules.filter((r) => r.outcome === 'breach').map((r) => ruleBound(r));
}

function failing(metric: MetricEvidence): FailingMetric {
  const held = metric.rules.filter((r) => r.outcome === 'breach').map((r) => r.breachingForMs ?? 0);
  return {
    metric: metric.metric,
    classification: metric.classification,
    canary: metric.canary,
    baseline: metric.baseline,
    thresholds: thresholds(metric),
    breachingForMs: held.length ? Math.max(...held) : null,
    reason: metric.reason,
  };
}

/**
 * A verdict as the state machine reads it: the metrics judged high or low with their values and thresholds,
 * and when the breach began (the evaluation time less the longest a failing rule has held).
 */
export function verdictEvent(verdict: Verdict, subject: VerdictEvent['subject']): VerdictEvent {
  const bad = verdict.metrics.filter((m) => m.classification === 'high' || m.classification === 'low').map(failing);
  const longest = Math.max(0, ...bad.map((m) => m.breachingForMs ?? 0));
  return {
    type: 'verdict',
    subject,
    verdict: verdict.verdict,
    evaluatedAt: verdict.evaluatedAt,
    reasons: verdict.reasons,
    failing: bad,
    breachStartedAt: bad.length ? new Date(Date.parse(verdict.evaluatedAt) - longest).toISOString() : null,
    evidence: verdict,
  };
}
