import { hash } from 'node:crypto';

/** prev_hash of the first row. */
export const GENESIS_HASH = '0'.repeat(64);

export interface AuditRow {
  id: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  detail: string;
  prev_hash: string;
  hash: string;
}

/**
 * sha256 over prev_hash and a canonical encoding of the other columns. The id is part of it, so moving,
 * swapping or renumbering rows breaks the chain as surely as editing them.
 */
export function rowHash(row: Omit<AuditRow, 'hash'>): string {
  const body = JSON.stringify([row.id, row.at, row.actor, row.action, row.subject, row.detail]);
  return hash('sha256', `${row.prev_hash}\n${body}`, 'hex');
}

export type ChainCheck =
  | { ok: true; rows: number; lastId: number | undefined }
  | { ok: false; rows: number; brokenId: number; reason: string };

/** Walks rows in id order and reports the first that does not follow from the one before it. */
export function verifyChain(rows: Iterable<AuditRow>): ChainCheck {
  let prevHash = GENESIS_HASH;
  let prevId = 0;
  let count = 0;
  for (const row of rows) {
    count++;
    if (row.id !== prevId + 1) {
      return { ok: false, rows: count, brokenId: row.id, reason: `expected id ${prevId + 1} next, found ${row.id}: rows are missing` };
    }
    if (row.prev_hash !== prevHash) {
      return { ok: false, rows: count, brokenId: row.id, reason: `prev_hash does not match the hash of row ${prevId}` };
    }
    if (rowHash(row) !== row.hash) {
      return { ok: false, rows: count, brokenId: row.id, reason: 'hash does not match the row contents' };
    }
    prevHash = row.hash;
    prevId = row.id;
  }
  return { ok: true, rows: count, lastId: prevId || undefined };
}
