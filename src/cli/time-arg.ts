import { clip } from '../../commands/grammar.js';
import { parseDuration } from '../config/duration.js';
import { UsageError } from './command.js';

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
/** The times an audit row or a metric can carry: from the unix epoch to the last moment RFC 3339 can write. */
const EARLIEST = Date.UTC(1970, 0, 1);
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** Milliseconds since the epoch, unchecked (a huge number is Infinity); undefined when the text is no time at all. */
function parse(text: string, now: Date): number | undefined {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const ago = parseDuration(text);
  if (ago !== undefined) return now.getTime() - ago;
  const ms = RFC3339.test(text) ? Date.parse(text) : NaN;
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * A point in time given on the command line: RFC 3339 (`2026-11-22T10:00:00Z`), unix seconds (`1795000000`),
 * or a duration meaning that long ago (`24h`). It must fall between 1970 and the end of 9999, so that a mistyped
 * number is a usage error here rather than an invalid date deeper down.
 */
export function parseTimeArg(text: string, flag: string, now: Date = new Date()): Date {
  const ms = parse(text, now);
  if (ms === undefined) {
    throw new UsageError(`${flag}: "${clip(text)}" is not a time (use RFC 3339 such as 2026-11-22T10:00:00Z, unix seconds, or a duration ago such as 24h)`);
  }
  if (!(ms >= EARLIEST && ms <= LATEST)) {
    throw new UsageError(`${flag}: "${clip(text)}" is out of range (use a time from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z)`);
  }
  return new Date(ms);
}
