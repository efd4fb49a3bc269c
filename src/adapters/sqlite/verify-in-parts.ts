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
  /** The lowest id above `after`, if any. */
  nextId(after: number): number | undefined;
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
    // After a message this does nothing; without one, the worker ended without an answer.
    worker.once('exit', (code) => reject(new Error(`the audit verify worker for rows ${task.from}–${task.to} exited ${code} without a result`)));
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
  // The first range has no lower bound, so a row forged with an id of 0 or less is read and refused as a single pass does.
  const ranges = Array.from({ length: parts }, (_, i) => ({ from: i === 0 ? Number.MIN_SAFE_INTEGER : i * size + 1, to: Math.min(head.id, (i + 1) * size) })).filter((r) => r.from <= r.to);
  const runs = ranges.map(({ from, to }): Promise<PartResult> | undefined => {
    const start = from <= 1 ? CHAIN_GENESIS : { id: from - 1, hash: source.hashAt(from - 1) };
    // Without the row before it, the range before ends short of its end, and that is reported first.
    if (start.hash === undefined) return undefined;
    return runPart(workerUrl, { file: source.file, from, to, start: { id: start.id, hash: start.hash }, ...(source.key ? { key: source.key } : {}) });
  });
  // Ranges are read in order below; one after the first broken range is never awaited, and its failure is moot.
  for (const run of runs) run?.catch(() => undefined);
  let rows = 0;
  let keyedFrom: number | undefined;
  for (const [i, run] of runs.entries()) {
    const result = await run!;
    if ('keyRequired' in result) throw new AuditKeyRequired(result.keyRequired);
    const check = result.check;
    if (!check.ok) return { ...check, rows: rows + check.rows };
    rows += check.rows;
    const { from, to } = ranges[i]!;
    if (check.lastId !== to) {
      // The range stops short of its end: rows are missing there, named as a single pass names them.
      const last = check.lastId ?? (i === 0 ? 0 : from - 1);
      const expected = last + 1;
      const found = source.nextId(last);
      return { ok: false, rows: rows + 1, brokenId: found ?? expected, reason: `expected id ${expected} next, found ${found ?? 'none'}: rows are missing` };
    }
    keyedFrom ??= check.keyedFrom;
  }
  if (source.key && keyedFrom === undefined) return noRowKeyed(rows);
  return { ok: true, rows, lastId: head.id, lastHash: head.hash, keyedFrom };
}
