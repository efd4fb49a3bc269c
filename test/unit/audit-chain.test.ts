import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { auditKey, AuditKeyRequired, GENESIS_HASH, KEYED_PREFIX, rowHash, verifyChain, type AuditKey, type AuditRow } from '../../src/adapters/sqlite/audit-chain.js';

const KEY = 'k'.repeat(16) + '0123456789abcdef0123';
const key = auditKey(KEY);

type Entry = Pick<AuditRow, 'actor' | 'action' | 'subject' | 'detail'>;

const entry = (i: number): Entry => ({ actor: `U0${i}`, action: 'operator.note', subject: 'checkout/production', detail: JSON.stringify({ text: `note ${i}` }) });

/** A chain as the store writes it: rows before `keyedFrom` plain SHA-256, from it on keyed with `withKey`. */
function chain(entries: Entry[], withKey?: AuditKey, keyedFrom = 1): AuditRow[] {
  const rows: AuditRow[] = [];
  let prev = GENESIS_HASH;
  entries.forEach((e, i) => {
    const row = { id: i + 1, at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(), ...e, prev_hash: prev };
    const hash = rowHash(row, row.id >= keyedFrom ? withKey : undefined);
    rows.push({ ...row, hash });
    prev = hash;
  });
  return rows;
}

/** What someone without the key does after editing: recompute every hash from the edit on with plain SHA-256 (or another key). */
function recompute(rows: AuditRow[], withKey?: AuditKey): AuditRow[] {
  return chain(rows.map(({ actor, action, subject, detail }) => ({ actor, action, subject, detail })), withKey).map((r, i) => ({ ...r, at: rows[i]!.at }));
}

describe('rowHash', () => {
  it('stays plain SHA-256 without a key, so databases written before keying keep verifying', () => {
    const row = { id: 1, at: '2026-01-02T03:04:05.000Z', actor: 'U01ALICE', action: 'approval.requested', subject: 'checkout/production', detail: '{"request":1}', prev_hash: GENESIS_HASH };
    // Computed by the code on main before keying existed.
    expect(rowHash(row)).toBe('b6f3c626309714aa60850bc2b9f03ec091e99c8987fbb4d303d6543944154e58');
  });

  it('is HMAC-SHA256 over the same text with a key, marked with its scheme', () => {
    const row = { id: 2, at: '2026-01-02T03:04:05.000Z', actor: 'lifeguard', action: 'approval.granted', subject: 'checkout/production', detail: '{}', prev_hash: GENESIS_HASH };
    const text = `${GENESIS_HASH}\n${JSON.stringify([2, row.at, row.actor, row.action, row.subject, row.detail])}`;
    expect(rowHash(row, key)).toBe(`${KEYED_PREFIX}${createHmac('sha256', KEY).update(text).digest('hex')}`);
  });
});

describe('verifyChain', () => {
  const entries = Array.from({ length: 5 }, (_, i) => entry(i + 1));

  it('verifies a keyed chain with its key and says it is keyed', () => {
    expect(verifyChain(chain(entries, key), key)).toEqual({ ok: true, rows: 5, lastId: 5, lastHash: chain(entries, key)[4]!.hash, keyedFrom: 1 });
  });

  it('verifies a chain keyed part-way, legacy rows first', () => {
    expect(verifyChain(chain(entries, key, 3), key)).toMatchObject({ ok: true, rows: 5, keyedFrom: 3 });
  });

  it('refuses to judge a keyed chain without the key, naming the first keyed row', () => {
    expect(() => verifyChain(chain(entries, key, 3))).toThrow(AuditKeyRequired);
    expect(() => verifyChain(chain(entries, key, 3))).toThrow('the audit chain is keyed (HMAC-SHA256) from row 3: set LIFEGUARD_AUDIT_KEY');
  });

  it('reports a wrong key as broken at the first keyed row', () => {
    expect(verifyChain(chain(entries, key), auditKey('another key that is long enough to use'))).toMatchObject({ ok: false, brokenId: 1, reason: expect.stringContaining('not the key it was written with') });
  });

  it('catches a keyed chain recomputed with plain SHA-256 after an edit', () => {
    const rows = chain(entries, key);
    rows[2] = { ...rows[2]!, detail: '{"text":"nothing happened"}' };
    const forged = recompute(rows);
    expect(verifyChain(forged)).toMatchObject({ ok: true, keyedFrom: undefined });
    expect(verifyChain(forged, key)).toMatchObject({ ok: false, brokenId: 1, reason: expect.stringContaining('no row is keyed although LIFEGUARD_AUDIT_KEY is set') });
  });

  it('catches plain rows appended after keyed ones, with or without the key', () => {
    const rows = chain(entries, key);
    const tail = { id: 6, at: '2026-02-01T00:00:00.000Z', ...entry(6), prev_hash: rows[4]!.hash };
    const forged = [...rows, { ...tail, hash: rowHash(tail) }];
    expect(verifyChain(forged, key)).toMatchObject({ ok: false, brokenId: 6, reason: expect.stringContaining('plain SHA-256 after keyed rows (keyed from row 1)') });
  });

  it('detects any single edit of a keyed chain, whatever the forger recomputes without the key', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4 }),
        fc.constantFrom('actor', 'action', 'subject', 'detail', 'at') satisfies fc.Arbitrary<keyof AuditRow>,
        fc.string({ minLength: 1, maxLength: 20 }),
        fc.constantFrom('none', 'sha256', 'other-key'),
        (index, field, value, forgery) => {
          const rows = chain(entries, key);
          fc.pre(rows[index]![field] !== value);
          const edited = rows.map((r, i) => (i === index ? { ...r, [field]: value } : r));
          const forged = forgery === 'none' ? edited : forgery === 'sha256' ? recompute(edited) : recompute(edited, auditKey('a forger’s own key, long enough to pass'));
          expect(verifyChain(forged, key).ok).toBe(false);
        },
      ),
    );
  });
});
