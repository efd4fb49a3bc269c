import { trimmedDeployment, type KeptEvidence, type KeptPodLog } from './kept-evidence.js';

/*
 * The size bound of kept evidence (config `evidence.maxBytes`), measured on the JSON that is stored. Pod logs are
 * what grows without limit, so they are cut first: the longest first, down to a common length, each keeping its
 * last (most recent) lines, which are the ones nearest the decision. Only when no log text is left do the oldest
 * Events go, and then the Deployments shrink to their summaries. The operation and its failing metrics always stay.
 */

const bytes = (text: string): number => Buffer.byteLength(text, 'utf8');
const size = (value: unknown): number => bytes(JSON.stringify(value));

/** Bytes of an empty JSON array: a log with no lines left costs this much. */
const EMPTY = 2;

/** `record` cut to at most `maxBytes` of JSON, each cut counted in its `cutBytes` and in `bound`. */
export function boundEvidence(record: KeptEvidence, maxBytes: number): KeptEvidence {
  let out: KeptEvidence = { ...record, bound: { ...record.bound, maxBytes } };
  // Counting the cut bytes lengthens the record a little, so a second pass may trim a few bytes more.
  for (let excess = size(out) - maxBytes; excess > 0; excess = size(out) - maxBytes) {
    const logs = cutLogs(out.logs, excess);
    if (!logs) break;
    out = { ...out, logs, bound: { ...out.bound, cutBytes: logs.reduce((total, log) => total + log.cutBytes, 0) } };
  }
  let excess = size(out) - maxBytes;
  if (excess > 0) {
    let dropped = 0;
    while (dropped < out.events.length && excess > 0) excess -= size(out.events[dropped++]) + 1;
    out = { ...out, events: out.events.slice(dropped), bound: { ...out.bound, eventsCut: out.bound.eventsCut + dropped } };
  }
  if (size(out) > maxBytes) {
    out = {
      ...out,
      deployments: { stable: trimmedDeployment(out.deployments.stable), canary: trimmedDeployment(out.deployments.canary) },
      bound: { ...out.bound, deploymentsSummarised: true },
    };
  }
  return out;
}

/**
 * Cuts at least `excess` bytes off the logs by lowering the longest to a common cap (water-filling), so that one
 * huge log gives up its bytes before ten ordinary ones lose any; undefined when no log has text left.
 */
function cutLogs(logs: KeptPodLog[], excess: number): KeptPodLog[] | undefined {
  const costs = logs.map((log) => size(log.lines));
  if (costs.every((cost) => cost <= EMPTY)) return undefined;
  const sorted = [...costs].sort((a, b) => b - a);
  let cap = EMPTY;
  let prefix = 0;
  for (let k = 0; k < sorted.length; k++) {
    prefix += sorted[k]!;
    const next = sorted[k + 1] ?? EMPTY;
    if (prefix - (k + 1) * next >= excess) {
      cap = Math.max(EMPTY, Math.floor((prefix - excess) / (k + 1)));
      break;
    }
  }
  return logs.map((log, i) => (costs[i]! > cap ? tailWithin(log, cap) : log));
}

/** Text bytes of a line in the log as the container wrote it: the line and its newline. */
const textBytes = (line: string): number => bytes(line) + 1;

/** The log's last lines whose JSON fits in `cap` bytes; a last line longer than that keeps its end. */
function tailWithin(log: KeptPodLog, cap: number): KeptPodLog {
  let budget = cap - EMPTY;
  const kept: string[] = [];
  for (let i = log.lines.length - 1; i >= 0; i--) {
    const line = log.lines[i]!;
    const cost = size(line) + 1;
    if (cost <= budget) {
      kept.unshift(line);
      budget -= cost;
      continue;
    }
    if (kept.length === 0) {
      const end = endWithin(line, budget - 1);
      if (end) kept.unshift(end);
    }
    break;
  }
  const cut = log.lines.reduce((total, line) => total + textBytes(line), 0) - kept.reduce((total, line) => total + textBytes(line), 0);
  return { ...log, lines: kept, cutBytes: log.cutBytes + cut };
}

/** The end of `line` whose JSON string takes at most `budget` bytes (escapes included); '' when none fits. */
function endWithin(line: string, budget: number): string {
  const raw = Buffer.from(line, 'utf8');
  let take = budget - 2;
  while (take > 0) {
    let start = raw.length - take;
    // Never start inside a UTF-8 sequence: skip its continuation bytes.
    while (start < raw.length && (raw[start]! & 0xc0) === 0x80) start++;
    const end = raw.subarray(start).toString('utf8');
    const over = size(end) - budget;
    if (over <= 0) return end;
    take -= over;
  }
  return '';
}
