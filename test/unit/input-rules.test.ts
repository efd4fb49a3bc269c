import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REASON_MAX, checkReason, idSchema, parseId, reasonSchema, visibleText } from '../../src/domain/input-rules.js';

/** Characters that show nothing: zero-width space and non-joiner, word joiner, BOM, soft hyphen, bidi controls, Hangul filler. */
const INVISIBLES = ['\u200b', '\u200c', '\u2060', '\ufeff', '\u00ad', '\u202e', '\u2066', '\u3164', '\u0000', '\u001b'];

describe('visible text', () => {
  it('removes invisible characters wherever they are and trims every kind of space', () => {
    expect(visibleText('\u200b\ufeff  error\u200b spike \u2060\n')).toBe('error spike');
    expect(visibleText('\u00a0\u3000\u2028rollback\u202e now\t')).toBe('rollback now');
    expect(visibleText('\u200b\u200c\u200d\u2060\ufeff')).toBe('');
    expect(visibleText('line one\r\nline two\rthree')).toBe('line one\nline two\nthree');
  });

  it('keeps the joiners and variation selectors that are part of an emoji', () => {
    expect(visibleText('👩‍💻 on it')).toBe('👩‍💻 on it');
    expect(visibleText('🏳️‍🌈 ❤️ ok')).toBe('🏳️‍🌈 ❤️ ok');
    expect(visibleText('a\u200db\ufe0f\ufe0f')).toBe('ab');
  });

  it('is idempotent, trimmed and free of format characters outside emoji, for any text', () => {
    const text = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }));
    fc.assert(
      fc.property(text, (raw) => {
        const seen = visibleText(raw);
        expect(visibleText(seen)).toBe(seen);
        expect(seen).toBe(seen.trim());
        const emojiJoiners = /(?<=\p{Extended_Pictographic}|\ufe0f|\p{Emoji_Modifier})\u200d(?=\p{Extended_Pictographic})/gu;
        expect(seen.replace(emojiJoiners, '').replace(/[\n\t]/g, '')).not.toMatch(/[\p{Cf}\p{Cc}]/u);
      }),
      { seed: 8, numRuns: 3000 },
    );
  });

  it('invisible characters around a reason change nothing about it', () => {
    const padding = fc.array(fc.constantFrom(...INVISIBLES, ' ', '\n'), { maxLength: 8 }).map((a) => a.join(''));
    fc.assert(
      fc.property(padding, fc.string({ unit: 'grapheme', maxLength: 30 }), padding, (before, reason, after) => {
        expect(checkReason(before + reason + after)).toEqual(checkReason(reason));
      }),
      { seed: 9, numRuns: 2000 },
    );
  });
});

describe('reasons', () => {
  it('need 3 visible characters and at most 500', () => {
    expect(checkReason(undefined)).toEqual({ ok: false, problem: 'too-short', visible: 0 });
    expect(checkReason('ok\u200b\u200b\u200b')).toEqual({ ok: false, problem: 'too-short', visible: 2 });
    expect(checkReason('e\u0301\u0301\u0301\u0301')).toMatchObject({ ok: false, problem: 'too-short', visible: 1 });
    expect(checkReason('  bad ')).toEqual({ ok: true, reason: 'bad' });
    expect(checkReason('x'.repeat(REASON_MAX))).toMatchObject({ ok: true });
    expect(checkReason('x'.repeat(100_000))).toEqual({ ok: false, problem: 'too-long', length: 100_000 });
    expect(checkReason(`${'😀'.repeat(REASON_MAX)}`)).toMatchObject({ ok: true });
  });

  it('as a zod schema, give back the cleaned reason or the message for the context', () => {
    const schema = reasonSchema({ tooShort: 'say why', tooLong: 'shorter please' });
    expect(schema.parse('\u200b disk full \u200b')).toBe('disk full');
    expect(schema.safeParse('\u200b').error?.issues[0]).toMatchObject({ code: 'too_small', message: 'say why' });
    expect(schema.safeParse('x'.repeat(600)).error?.issues[0]).toMatchObject({ code: 'too_big', message: 'shorter please (it has 600)' });
  });
});

describe('ids', () => {
  it('are positive integers written plainly, nothing Number() would forgive', () => {
    expect(parseId('1')).toBe(1);
    expect(parseId('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
    for (const text of ['0x1', ' 1', '1 ', '1e0', '01', '-1', '1.0', '+1', '0', '', '1\u200b', '１', '9007199254740992', '12345678901234567', 'Infinity']) {
      expect(parseId(text), JSON.stringify(text)).toBeUndefined();
    }
    expect(idSchema('not an id').safeParse('0x1').error?.issues[0]?.message).toBe('not an id');
  });

  it('read back exactly as written: one id, one spelling', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), (text) => {
        const id = parseId(text);
        if (id !== undefined) expect(String(id)).toBe(text);
      }),
      { seed: 10, numRuns: 5000 },
    );
    fc.assert(fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (n) => void expect(parseId(String(n))).toBe(n)), { seed: 12, numRuns: 1000 });
  });
});
