import { createHmac, createSecretKey, hash, type KeyObject } from 'node:crypto';

/** prev_hash of the first row. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * A keyed row's hash is this prefix and the hex HMAC. The prefix records the scheme in the row itself, so a
 * database keeps verifying across the switch (older rows stay plain SHA-256), and since the next row's prev_hash
 * carries it, no row's scheme can be changed without recomputing everything after it.
 */
export const KEYED_PREFIX = 'hmac-sha256:';

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
 * A row as `.raw()` statements return it, columns in AUDIT_COLUMNS order. better-sqlite3 builds arrays faster than
 * objects, which counts over millions of rows (verify, export).
 */
export type AuditTuple = [id: number, at: string, actor: string, action: string, subject: string, detail: string, prevHash: string, hash: string];

export const AUDIT_COLUMNS = 'id, at, actor, action, subject, detail, prev_hash, hash';

/** LIFEGUARD_AUDIT_KEY, ready for HMAC. */
export type AuditKey = KeyObject;

export const auditKey = (secret: string): AuditKey => createSecretKey(Buffer.from(secret, 'utf8'));

export const isKeyed = (rowHashValue: string): boolean => rowHashValue.startsWith(KEYED_PREFIX);

/**
 * sha256 (or, with a key, HMAC-SHA256) over prev_hash and a canonical encoding of the other columns. The id is
 * part of it, so moving, swapping or renumbering rows breaks the chain as surely as editing them.
 */
export function rowHash(row: Omit<AuditRow, 'hash'>, key?: AuditKey): string {
  return chainHash(row.prev_hash, row.id, row.at, row.actor, row.action, row.subject, row.detail, key);
}

/** rowHash over the columns themselves, so that neither an append batch nor verify builds an object per row. */
export function chainHash(prevHash: string, id: number, at: string, actor: string, action: string, subject: string, detail: string, key?: AuditKey): string {
  const text = `${prevHash}\n${JSON.stringify([id, at, actor, action, subject, detail])}`;
  return key ? KEYED_PREFIX + createHmac('sha256', key).update(text).digest('hex') : hash('sha256', text, 'hex');
}

/** The chain is keyed and no key was given: nothing after `keyedFrom` can be checked. */
export class AuditKeyRequired extends Error {
  override name = 'AuditKeyRequired';
  constructor(readonly keyedFrom: number) {
    super(`the audit chain is keyed (HMAC-SHA256) from row ${keyedFrom}: set LIFEGUARD_AUDIT_KEY to the key Lifeguard writes with to verify it`);
  }
}

export type ChainCheck =
  | { ok: true; rows: number; lastId: number | undefined; lastHash: string | undefined; keyedFrom: number | undefined }
  | { ok: false; rows: number; brokenId: number; reason: string };

/** verifyRows over rows as objects. */
export function verifyChain(rows: Iterable<AuditRow>, key?: AuditKey): ChainCheck {
  return verifyRows(asTuples(rows), key);
}

function* asTuples(rows: Iterable<AuditRow>): Generator<AuditTuple> {
  for (const r of rows) yield [r.id, r.at, r.actor, r.action, r.subject, r.detail, r.prev_hash, r.hash];
}

/** The row before the first one checked: the genesis for a whole chain, a stored row for a part of it. */
export interface ChainStart {
  id: number;
  hash: string;
}

export const CHAIN_GENESIS: ChainStart = { id: 0, hash: GENESIS_HASH };

/** Checking one part of a chain, after `start`: whether any row of the whole is keyed is for the caller to judge. */
export interface ChainPart {
  start: ChainStart;
}

/**
 * Walks rows in id order and reports the first that does not follow from the one before it. Once a row is keyed,
 * every later row must be: going back to plain SHA-256 is how someone without the key would rewrite the tail.
 * Given a key, a chain with no keyed row at all fails too, since Lifeguard keys its rows (and marks the switch)
 * as soon as it runs with one. Without a key, a keyed row throws AuditKeyRequired. It holds one row at a time, so
 * a log of any length verifies in constant memory. Given a `part`, it checks rows following `part.start`, which
 * only holds if the part before ends on that row.
 */
export function verifyRows(rows: Iterable<AuditTuple>, key?: AuditKey, part?: ChainPart): ChainCheck {
  const start = part?.start ?? CHAIN_GENESIS;
  let prevHash = start.hash;
  let prevId = start.id;
  let count = 0;
  // A part that follows a keyed row is keyed from before it.
  let keyedFrom: number | undefined = isKeyed(start.hash) ? start.id : undefined;
  for (const row of rows) {
    count++;
    const id = row[0];
    const stored = row[7];
    if (id !== prevId + 1) {
      return { ok: false, rows: count, brokenId: id, reason: `expected id ${prevId + 1} next, found ${id}: rows are missing` };
    }
    if (row[6] !== prevHash) {
      return { ok: false, rows: count, brokenId: id, reason: `prev_hash does not match the hash of row ${prevId}` };
    }
    if (isKeyed(stored)) {
      if (!key) throw new AuditKeyRequired(id);
      keyedFrom ??= id;
    } else if (keyedFrom !== undefined) {
      return { ok: false, rows: count, brokenId: id, reason: `plain SHA-256 after keyed rows (keyed from row ${keyedFrom}): the chain was recomputed without the key` };
    }
    if (chainHash(prevHash, id, row[1], row[2], row[3], row[4], row[5], keyedFrom === undefined ? undefined : key) !== stored) {
      const why = keyedFrom === undefined ? '' : ': the row was changed, or LIFEGUARD_AUDIT_KEY is not the key it was written with';
      return { ok: false, rows: count, brokenId: id, reason: `hash does not match the row contents${why}` };
    }
    prevHash = stored;
    prevId = id;
  }
  if (!part && key && count > 0 && keyedFrom === undefined) return noRowKeyed(count);
  return { ok: true, rows: count, lastId: count ? prevId : undefined, lastHash: count ? prevHash : undefined, keyedFrom };
}

/** Given a key, a chain none of whose rows is keyed was recomputed without it, or never written with it. */
export function noRowKeyed(rows: number): ChainCheck {
  return {
    ok: false,
    rows,
    brokenId: 1,
    reason: 'no row is keyed although LIFEGUARD_AUDIT_KEY is set: the chain was recomputed with plain SHA-256, or Lifeguard never ran with this key',
  };
}
