import { formatDuration } from '../config/duration.js';

export const SCHEDULABLE_INTERVALS = 'use one that divides a minute (e.g. 10s, 30s), an hour (1m, 5m, 15m) or a day (1h, 6h)';

/**
 * The six-field cron expression that fires every `intervalMs`, aligned on the clock so every replica and
 * every replay ticks at the same instants; undefined for an interval that does not divide a minute, an hour
 * or a day evenly.
 */
export function cronForInterval(intervalMs: number): string | undefined {
  const seconds = intervalMs / 1000;
  if (!Number.isInteger(seconds)) return undefined;
  if (seconds < 60 && 60 % seconds === 0) return `*/${seconds} * * * * *`;
  const minutes = seconds / 60;
  if (Number.isInteger(minutes) && minutes < 60 && 60 % minutes === 0) return `0 */${minutes} * * * *`;
  const hours = seconds / 3600;
  if (Number.isInteger(hours) && hours <= 24 && 24 % hours === 0) return hours === 24 ? '0 0 0 * * *' : `0 0 */${hours} * * *`;
  return undefined;
}

/** As `cronForInterval`, throwing a message that says which intervals work. */
export function intervalToCron(intervalMs: number): string {
  const expression = cronForInterval(intervalMs);
  if (expression === undefined) {
    throw new Error(`analysis.interval ${formatDuration(intervalMs)} cannot be scheduled on the clock: ${SCHEDULABLE_INTERVALS}`);
  }
  return expression;
}
