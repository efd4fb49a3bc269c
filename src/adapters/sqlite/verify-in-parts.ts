import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { AuditKeyRequired, CHAIN_GENESIS, noRowKeyed, type AuditKey, type ChainCheck } from './audit-chain.js';
import type { PartResult, PartTask } from './verify-part.js';

/** Below this many rows a worker's start costs more than it saves. */
export const PARTS_FROM_ROWS = 200_000;

/** One part per core, up to four: the scan is bound by SQLite reading rows, which more threads do not speed up. */
export const partsFor = (cores: number) => Math.min(4, cores);

export interface ChainSource {
  file: string;
  key?: AuditKey;
  head(): { id: number; hash: string } | undefined;
  hashAt(id: number): string | undefined;
  /** The whole chain in this thread. */
  verify(): ChainCheck;
}

/**
 * The worker module next to this one. Node 20 runs no loader hooks in worker threads, so only the built CLI
 * (`.js`) can start one; from the TypeScript sources (`npm run lifeguard`, tsx) the chain is verified in one pass.
 */
const here = fileURLToPath(import.meta.url);
const workerUrl = extname(here) === '.js' ? new URL('./verify-part.js', import.meta.url) : undefined;

function runPart(url: URL, task: PartTask): Promise<PartResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(url, { workerData: { auditPart: task } });
    worker.once('message', (result: PartResult) => resolve(result));
    worker.once('error', reject);
    worker.once('exit', (code) => code !== 0 && reject(new Error(`the audit verify worker for rows ${task.from}–${task.to} exited ${code}`)));
  });
}

/**
 * Verifies a long chain on every core: each worker checks one range of ids, starting from the stored hash of the
 * row before its range. A range only holds if the range before it ends on exactly that row, which that range's
 * worker recomputes, so together they check every link a single pass would. The first broken range is reported,
 * as a single pass would report its first broken row.
 */
export async function verifyInParts(source: ChainSource, parts = partsFor(availableParallelism())): Promise<ChainCheck> {
  const head = source.head();
  if (!workerUrl || parts < 2 || !head || head.id < PARTS_FROM_ROWS) return source.verify();
  const size = Math.ceil(head.id / parts);
  const ranges = Array.from({ length: parts }, (_, i) => ({ from: i * size + 1, to: Math.min(head.id, (i + 1) * size) })).filter((r) => r.from <= r.to);
  const tasks: (PartTask | ChainCheck)[] = ranges.map(({ from, to }) => {
    const hash = from === 1 ? undefined : source.hashAt(from - 1);
    if (from > 1 && hash === undefined) return { ok: false, rows: 0, brokenId: from - 1, reason: `expected row ${from - 1}, found none: rows are missing` };
    return { file: source.file, from, to, start: hash === undefined ? CHAIN_GENESIS : { id: from - 1, hash }, ...(source.key ? { key: source.key } : {}) };
  });
  const results = await Promise.all(tasks.map((t) => ('file' in t ? runPart(workerUrl, t) : { check: t })));
  let rows = 0;
  let keyedFrom: number | undefined;
  for (const [i, result] of results.entries()) {
    if ('keyRequired' in result) throw new AuditKeyRequired(result.keyRequired);
    const check = result.check;
    if (!check.ok) return { ...check, rows: rows + check.rows };
    rows += check.rows;
    // Ids are contiguous within a range; one that stops short of its end is missing its last rows.
    if (check.lastId !== ranges[i]!.to) {
      const missing = (check.lastId ?? ranges[i]!.from - 1) + 1;
      return { ok: false, rows, brokenId: missing, reason: `expected row ${missing}, found none: rows are missing` };
    }
    keyedFrom ??= check.keyedFrom;
  }
  if (source.key && keyedFrom === undefined) return noRowKeyed(rows);
  return { ok: true, rows, lastId: head.id, lastHash: head.hash, keyedFrom };
}
