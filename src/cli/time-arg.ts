import { parseDuration } from '../config/duration.js';
import { UsageError } from './command.js';

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * A point in time given on the command line: RFC 3339 (`2026-11-22T10:00:00Z`), unix seconds (`1795000000`),
 * or a duration meaning that long ago (`24h`).
 */
export function parseTimeArg(text: string, flag: string, now: Date = new Date()): Date {
  if (/^\d+(\.\d+)?$/.test(text)) return new Date(Number(text) * 1000);
  const ago = parseDuration(text);
  if (ago !== undefined) return new Date(now.getTime() - ago);
  if (RFC3339.test(text)) {
    const date = new Date(text);
    if (!Number.isNaN(date.getTime())) return date;
  }
  throw new UsageError(`${flag}: "${text}" is not a time (use RFC 3339 such as 2026-11-22T10:00:00Z, unix seconds, or a duration ago such as 24h)`);
}
