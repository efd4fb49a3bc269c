import { verdictSchema, type MetricEvidence, type Verdict } from './verdict.js';

export interface RollUpInput {
  service: string;
  environment: string;
  evaluatedAt: Date;
  metrics: MetricEvidence[];
  score: { pass: number; marginal: number };
  trafficShare: number | undefined;
}

const summary = (m: MetricEvidence): string => {
  const values = m.canary === null ? '' : ` (canary ${m.canary}${m.baseline === null ? '' : `, baseline ${m.baseline}`})`;
  return `${m.metric} ${m.classification}${values}: ${m.reason}`;
};

/**
 * The canary's verdict from its metrics. A critical metric out of bounds fails the canary alone. Otherwise a
 * metric without data or with a failed query makes the verdict inconclusive (never fail); then the
 * non-critical metrics' weighted score decides: at or above `pass` passes, under `marginal` fails, and in
 * between is inconclusive, so a marginal canary is neither promoted nor rolled back.
 */
export function rollUp(input: RollUpInput): Verdict {
  const { metrics } = input;
  // Parsing checks the verdict against its contract and puts every key in the schema's order, so the JSON
  // reads classification and reason first wherever it is shown.
  const verdict = (verdict: Verdict['verdict'], reasons: string[], score: number | null): Verdict =>
    verdictSchema.parse({
      service: input.service,
      environment: input.environment,
      evaluatedAt: input.evaluatedAt.toISOString(),
      verdict,
      reasons,
      score,
      scoreThresholds: input.score,
      trafficShare: input.trafficShare ?? null,
      metrics,
    });
  const outOfBounds = (m: MetricEvidence) => m.classification === 'high' || m.classification === 'low';

  const criticalFailures = metrics.filter((m) => m.critical && outOfBounds(m));
  if (criticalFailures.length > 0) return verdict('fail', criticalFailures.map((m) => `critical ${summary(m)}`), null);

  const unknown = metrics.filter((m) => m.classification === 'nodata' || m.classification === 'error');
  if (unknown.length > 0) return verdict('inconclusive', unknown.map(summary), null);

  const scored = metrics.filter((m) => !m.critical);
  if (scored.length === 0) return verdict('pass', ['every metric is critical and within bounds'], null);
  const total = scored.reduce((sum, m) => sum + m.weight, 0);
  const score = Math.round((1000 * scored.filter((m) => !outOfBounds(m)).reduce((sum, m) => sum + m.weight, 0)) / total) / 10;
  const failing = scored.filter(outOfBounds).map(summary);
  const of = `score ${score} (pass ≥ ${input.score.pass}, marginal ≥ ${input.score.marginal})`;
  if (score >= input.score.pass) return verdict('pass', [of, ...failing], score);
  if (score >= input.score.marginal) return verdict('inconclusive', [`marginal ${of}`, ...failing], score);
  return verdict('fail', [of, ...failing], score);
}
