/**
 * A checkpoint: the audit chain's head (row id and hash) as published at a time, kept outside the database so
 * that a shortened or rewritten log can be told from the real one.
 */

/** A row hash as stored: 64 hex digits, prefixed with the scheme when keyed. */
export const ROW_HASH = /^(?:hmac-sha256:)?[0-9a-f]{64}$/;

export interface Checkpoint {
  /** The head row's id, a positive integer. */
  id: number;
  /** Its hash, as ROW_HASH. */
  hash: string;
  /** When it was published, RFC 3339. */
  at: string;
}

/** `<id>:<hash>`, the form `audit verify --expect` takes and the checkpoint log line and ConfigMap give. */
export const expectForm = (c: Pick<Checkpoint, 'id' | 'hash'>) => `${c.id}:${c.hash}`;

/** Parses `<id>:<hash>`; undefined when it is not that. */
export function parseExpect(text: string): Pick<Checkpoint, 'id' | 'hash'> | undefined {
  const match = /^([1-9][0-9]{0,15}):(.+)$/.exec(text.trim());
  if (!match || !ROW_HASH.test(match[2]!)) return undefined;
  const id = Number(match[1]);
  return Number.isSafeInteger(id) ? { id, hash: match[2]! } : undefined;
}

export type CheckpointFinding =
  | { ok: true; id: number; headId: number }
  /** The log ends before the checkpoint's row: its tail was cut off. */
  | { ok: false; problem: 'missing-tail'; id: number; headId: number }
  /** The log goes past the checkpoint's row, but that row is gone. */
  | { ok: false; problem: 'missing-row'; id: number; headId: number }
  /** The checkpoint's row is there with another hash: it, or a row before it, was rewritten. */
  | { ok: false; problem: 'rewritten'; id: number; found: string; expected: string };

/** Whether the log, read through `hashAt` with its newest row `headId` (0 when empty), still holds the checkpoint. */
export function compareCheckpoint(checkpoint: Pick<Checkpoint, 'id' | 'hash'>, headId: number, hashAt: (id: number) => string | undefined): CheckpointFinding {
  if (checkpoint.id > headId) return { ok: false, problem: 'missing-tail', id: checkpoint.id, headId };
  const found = hashAt(checkpoint.id);
  if (found === undefined) return { ok: false, problem: 'missing-row', id: checkpoint.id, headId };
  if (found !== checkpoint.hash) return { ok: false, problem: 'rewritten', id: checkpoint.id, found, expected: checkpoint.hash };
  return { ok: true, id: checkpoint.id, headId };
}

/** One line for a person reading `audit verify` or the log. */
export function describeFinding(f: CheckpointFinding): string {
  if (f.ok) return `checkpoint at row ${f.id} matches (the log now ends at row ${f.headId})`;
  if (f.problem === 'missing-tail') {
    return `missing tail: rows after ${f.headId} are gone (the checkpoint names row ${f.id})`;
  }
  if (f.problem === 'missing-row') return `row ${f.id}, which the checkpoint names, is gone`;
  return `row ${f.id} was rewritten: its hash is ${f.found}, the checkpoint says ${f.expected}`;
}
