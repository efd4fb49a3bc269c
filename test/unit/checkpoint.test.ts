import { describe, expect, it } from 'vitest';
import { compareCheckpoint, describeFinding, parseExpect } from '../../src/domain/checkpoint.js';

const HEX = 'ab'.repeat(32);

describe('parseExpect', () => {
  it('reads <id>:<hash>, plain or keyed', () => {
    expect(parseExpect(`12:${HEX}`)).toEqual({ id: 12, hash: HEX });
    expect(parseExpect(`3:hmac-sha256:${HEX}`)).toEqual({ id: 3, hash: `hmac-sha256:${HEX}` });
  });

  it('refuses anything else', () => {
    for (const bad of ['', '12', `:${HEX}`, `0:${HEX}`, `-1:${HEX}`, `0x1:${HEX}`, ` 1:${HEX.toUpperCase()}`, `1:${HEX.slice(2)}`, `1:sha1:${HEX}`, `99999999999999999999:${HEX}`, `1.5:${HEX}`]) {
      expect(parseExpect(bad), bad).toBeUndefined();
    }
  });
});

describe('compareCheckpoint', () => {
  const stored = new Map([
    [1, 'a'.repeat(64)],
    [2, 'b'.repeat(64)],
    [3, 'c'.repeat(64)],
  ]);
  const hashAt = (id: number) => stored.get(id);

  it('accepts a log that still holds the checkpoint, however much it grew', () => {
    expect(compareCheckpoint({ id: 2, hash: 'b'.repeat(64) }, 3, hashAt)).toEqual({ ok: true, id: 2, headId: 3 });
  });

  it('names a cut-off tail', () => {
    const finding = compareCheckpoint({ id: 5, hash: 'e'.repeat(64) }, 3, hashAt);
    expect(describeFinding(finding)).toBe('missing tail: rows after 3 are gone (the checkpoint names row 5)');
    expect(describeFinding(compareCheckpoint({ id: 5, hash: 'e'.repeat(64) }, 0, () => undefined))).toBe('missing tail: rows after 0 are gone (the checkpoint names row 5)');
  });

  it('names a rewritten row', () => {
    const finding = compareCheckpoint({ id: 2, hash: 'f'.repeat(64) }, 3, hashAt);
    expect(finding).toMatchObject({ ok: false, problem: 'rewritten', id: 2 });
    expect(describeFinding(finding)).toBe(`row 2 was rewritten: its hash is ${'b'.repeat(64)}, the checkpoint says ${'f'.repeat(64)}`);
  });

  it('names a row gone from the middle', () => {
    expect(describeFinding(compareCheckpoint({ id: 2, hash: 'b'.repeat(64) }, 3, (id) => (id === 2 ? undefined : hashAt(id))))).toBe('row 2, which the checkpoint names, is gone');
  });
});
