import * as z from 'zod';

/**
 * What Lifeguard accepts from people, whichever way it arrives (a Slack form, a button, a slash command, the
 * CLI): reasons and ids. One place, so the form's bounds and the server's are the same rule.
 */

/** A reason needs this many visible characters (grapheme clusters): "ok" is not a reason, nor is "a" + accents. */
export const REASON_MIN = 3;
/** And at most this many characters (code points), which bounds what the audit log and the card store. */
export const REASON_MAX = 500;

/** Control, format and default-ignorable characters: zero-width spaces and joiners, BOM, bidi controls, fillers. */
const INVISIBLE = /^[\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}]$/u;
const KEPT_CONTROLS = new Set(['\n', '\t']);
const ZWJ = '\u200d';
const PICTOGRAPH = /^\p{Extended_Pictographic}$/u;
const EMOJI_JOINABLE = /^[\p{Extended_Pictographic}\p{Emoji_Modifier}\ufe0f]$/u;
const EMOJI_BASE = /^\p{Emoji}$/u;
const VARIATION_SELECTOR = /^[\ufe0e\ufe0f]$/u;

/**
 * The text as people will see it: invisible characters removed wherever they are, whitespace trimmed at both
 * ends, line breaks normalised. Two invisible characters survive where they are part of what is shown: a
 * zero-width joiner between two emoji (👩‍💻) and a variation selector right after an emoji (❤️).
 */
export function visibleText(raw: string): string {
  const chars = [...raw.normalize('NFC').replace(/\r\n?/g, '\n')];
  const kept: string[] = [];
  chars.forEach((char, i) => {
    if (!INVISIBLE.test(char) || KEPT_CONTROLS.has(char) || partOfEmoji(char, kept.at(-1), chars[i + 1])) kept.push(char);
  });
  return kept.join('').trim();
}

function partOfEmoji(char: string, before: string | undefined, after: string | undefined): boolean {
  if (before === undefined) return false;
  if (char === ZWJ) return EMOJI_JOINABLE.test(before) && after !== undefined && PICTOGRAPH.test(after);
  return VARIATION_SELECTOR.test(char) && !VARIATION_SELECTOR.test(before) && EMOJI_BASE.test(before);
}

const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });

export type ReasonCheck =
  | { ok: true; reason: string }
  | { ok: false; problem: 'too-short'; visible: number }
  | { ok: false; problem: 'too-long'; length: number };

/** A reason as given (absent counts as empty), cleaned and measured against the bounds. */
export function checkReason(raw: string | undefined): ReasonCheck {
  const reason = visibleText(raw ?? '');
  const length = [...reason].length;
  if (length > REASON_MAX) return { ok: false, problem: 'too-long', length };
  const visible = [...graphemes.segment(reason)].length;
  if (visible < REASON_MIN) return { ok: false, problem: 'too-short', visible };
  return { ok: true, reason };
}

/** The reason rule as a zod schema: the parsed value is the cleaned reason; `messages` say what to do in context. */
export function reasonSchema(messages: { tooShort: string; tooLong: string }) {
  return z.string().transform((raw, ctx) => {
    const checked = checkReason(raw);
    if (checked.ok) return checked.reason;
    if (checked.problem === 'too-short') {
      ctx.addIssue({ code: 'too_small', origin: 'string', minimum: REASON_MIN, inclusive: true, input: raw, message: messages.tooShort });
    } else {
      ctx.addIssue({ code: 'too_big', origin: 'string', maximum: REASON_MAX, inclusive: true, input: raw, message: `${messages.tooLong} (it has ${checked.length})` });
    }
    return z.NEVER;
  });
}

/**
 * Ids Lifeguard hands out (approval requests, releases) are positive integers written plainly: no sign, no
 * leading zero, no spaces, no exponent or hex, at most 16 digits, and within what a JS number holds exactly.
 */
export const ID_PATTERN = /^[1-9][0-9]{0,15}$/;

/** Parses an id strictly; anything `Number()` would forgive (`0x1`, ` 1`, `1e0`, `01`, `1.0`) is refused. */
export function parseId(text: string): number | undefined {
  if (!ID_PATTERN.test(text)) return undefined;
  const id = Number(text);
  return Number.isSafeInteger(id) ? id : undefined;
}

/** The id rule as a zod schema, with the message for where the id came from. */
export function idSchema(message: string) {
  return z.string().transform((text, ctx) => {
    const id = parseId(text);
    if (id !== undefined) return id;
    ctx.addIssue({ code: 'custom', input: text, message });
    return z.NEVER;
  });
}
