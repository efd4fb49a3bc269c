import type { Config } from '../config/schema.js';
import { canaryCountsAtDecision, deliveryFigures, type CanaryCounts, type DeliveryFigures } from '../domain/delivery-figures.js';
import { historyEntry, type HistoryEntry } from '../domain/history-entry.js';
import type { DeliveryRow } from '../delivery-metrics.js';
import type { Clock, OperationHistory } from '../ports.js';

/** The period history and the figures cover when nobody says: DORA's usual month. */
export const DEFAULT_HISTORY_MS = 30 * 86_400_000;

export interface HistoryReport {
  service: string;
  /** Null: every environment of the service. */
  environment: string | null;
  /** Newest first. */
  operations: HistoryEntry[];
  figures: DeliveryFigures;
}

/**
 * A service's operations created in [since, now] and its delivery figures over that period: what `lifeguard history` and
 * `/release history` show. `now` may be in the past: operations after it still tell whether a change promoted
 * in the period was undone next.
 */
export function serviceHistory(history: OperationHistory, config: Config, query: { service: string; environment?: string | undefined; since: Date; now: Date }): HistoryReport {
  const ops = history.list(query.service, query.environment, query.since);
  const caught = ops.filter((op) => op.rollback?.trigger === 'verdict' && !op.rollback.afterPromotion);
  const verdicts = history.decisionVerdicts(caught);
  // Each metric's window as configured now: the counts in a verdict are over it.
  const windows = Object.fromEntries(Object.entries(config.metrics).map(([name, m]) => [name, 'window' in m ? m.window : undefined]));
  const counts = new Map<number, CanaryCounts>();
  for (const op of ops) {
    const verdict = verdicts.get(op.id);
    const found = verdict && canaryCountsAtDecision(op, verdict, windows);
    if (found) counts.set(op.id, found);
  }
  return {
    service: query.service,
    environment: query.environment ?? null,
    operations: ops.filter((op) => Date.parse(op.createdAt) <= query.now.getTime()).map(historyEntry),
    figures: deliveryFigures(ops, { since: query.since, until: query.now }, counts),
  };
}

/** What Slack and `/metrics` ask: a service's history over the last `DEFAULT_HISTORY_MS` (or since `since`). */
export type HistoryReader = (service: string, environment?: string, since?: Date) => HistoryReport;

export function historyReader(deps: { history: OperationHistory; config: Config; clock: Clock }): HistoryReader {
  return (service, environment, since) => {
    const now = deps.clock.now();
    return serviceHistory(deps.history, deps.config, { service, environment, since: since ?? new Date(now.getTime() - DEFAULT_HISTORY_MS), now });
  };
}

/** The figures of every service in every environment of the config, for the `/metrics` gauges. */
export function deliveryRows(config: Config, read: HistoryReader): DeliveryRow[] {
  return Object.entries(config.services).flatMap(([service, s]) =>
    Object.keys(s.environments).map((environment) => ({ service, environment, figures: read(service, environment).figures })),
  );
}
