import type * as z from 'zod';

/**
 * The shared grammar of the slash commands: words and `key=value` options, values optionally quoted.
 * Slack clients often turn straight quotes into typographic ones, so both count as quotes.
 */

export type Token = { kind: 'word'; value: string } | { kind: 'option'; key: string; value: string };

/** What a parser returns: the typed command, or what was wrong and the usage line. Parsers never throw. */
export type Parsed<T> = { ok: true; command: T } | { ok: false; error: string; usage: string };

/** The names a command may refer to, taken from the config. */
export interface Catalog {
  /** Each service and the environments it is deployed to. */
  services: Record<string, string[]>;
  /** Every configured environment (freezes name one); absent: those the services run in. */
  environments?: string[] | undefined;
}

const OPENING_QUOTES: Record<string, string> = { '"': '"', "'": "'", '\u201c': '\u201d', '\u2018': '\u2019', '\u201d': '\u201d' };
const OPTION_KEY = /^([a-z][a-z-]*)=/;
const MAX_INPUT = 4000;

/** Splits `text` into tokens; a quote that is never closed is an error rather than a guess. */
export function tokenize(text: string): { ok: true; tokens: Token[] } | { ok: false; error: string } {
  if (text.length > MAX_INPUT) return { ok: false, error: `the command is ${text.length} characters long; the limit is ${MAX_INPUT}` };
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length) break;
    const key = OPTION_KEY.exec(text.slice(i, i + 40));
    const start = key ? i + key[0].length : i;
    const read = readValue(text, start);
    if (!read.ok) return read;
    tokens.push(key ? { kind: 'option', key: key[1]!, value: read.value } : { kind: 'word', value: read.value });
    i = read.end;
  }
  return { ok: true, tokens };
}

function readValue(text: string, start: number): { ok: true; value: string; end: number } | { ok: false; error: string } {
  const open = text[start];
  const close = open === undefined ? undefined : OPENING_QUOTES[open];
  if (close !== undefined) {
    const alternatives = close === '\u201d' ? ['\u201d', '"'] : close === '\u2019' ? ['\u2019', "'"] : [close];
    let end = -1;
    for (let j = start + 1; j < text.length; j++) {
      if (alternatives.includes(text[j]!)) {
        end = j;
        break;
      }
    }
    if (end === -1) return { ok: false, error: `a quote opened at character ${start + 1} is never closed` };
    return { ok: true, value: text.slice(start + 1, end), end: end + 1 };
  }
  let end = start;
  while (end < text.length && !/\s/.test(text[end]!)) end++;
  return { ok: true, value: text.slice(start, end), end };
}

/** Words and options of one command, with the checks every command shares. */
export interface Split {
  words: string[];
  options: Record<string, string>;
}

/** Separates words from options, refusing unknown and repeated options. */
export function split(tokens: Token[], allowed: readonly string[]): { ok: true; split: Split } | { ok: false; error: string } {
  const words: string[] = [];
  const options: Record<string, string> = {};
  for (const token of tokens) {
    if (token.kind === 'word') {
      words.push(token.value);
      continue;
    }
    if (!allowed.includes(token.key)) {
      const hint = allowed.length ? `allowed here: ${allowed.map((a) => `${a}=`).join(', ')}` : 'this form takes no options';
      return { ok: false, error: `unknown option "${token.key}=" (${hint})` };
    }
    if (token.key in options) return { ok: false, error: `"${token.key}=" is given twice` };
    options[token.key] = token.value;
  }
  return { ok: true, split: { words, options } };
}

/** The first zod issue as one readable line: `field: message (got "value")`. */
export function describeIssue(error: z.ZodError, raw: Record<string, unknown>): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid command';
  const field = issue.path.map(String).join('.');
  const value = issue.path.length === 1 ? raw[String(issue.path[0])] : undefined;
  const shown = typeof value === 'string' && issue.code !== 'too_small' ? ` (got "${clip(value)}")` : '';
  return `${field ? `${field}: ` : ''}${issue.message}${shown}`;
}

/** Shortens a user's value for an error message so a huge paste does not flood the reply. */
export function clip(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** The known names nearest to `given` (closest first), or all of them when none is near. */
export function closest(given: string, known: readonly string[]): { near: boolean; names: string[] } {
  const needle = given.toLowerCase();
  const scored = known
    .map((name) => ({ name, distance: name.startsWith(needle) && needle.length >= 2 ? 0 : editDistance(needle, name) }))
    .filter((s) => s.distance <= Math.max(2, Math.floor(s.name.length / 3)))
    .sort((a, b) => a.distance - b.distance || a.name.localeCompare(b.name));
  if (scored.length) return { near: true, names: scored.slice(0, 3).map((s) => s.name) };
  return { near: false, names: [...known].sort() };
}

/** `unknown service "chekout": did you mean checkout?` or the list of known names. */
export function unknownName(what: string, given: string, known: readonly string[]): string {
  if (known.length === 0) return `unknown ${what} "${clip(given)}": none are configured`;
  const { near, names } = closest(given, known);
  return near
    ? `unknown ${what} "${clip(given)}": did you mean ${names.join(' or ')}?`
    : `unknown ${what} "${clip(given)}" (known: ${names.join(', ')})`;
}

/**
 * Checks a service name and settles its environment: the one named, else `production` when the service has it,
 * else the service's only environment.
 */
export function resolveTarget(
  catalog: Catalog,
  service: string,
  env: string | undefined,
): { ok: true; service: string; env: string } | { ok: false; error: string } {
  const envs = Object.hasOwn(catalog.services, service) ? catalog.services[service] : undefined;
  if (!envs) return { ok: false, error: unknownName('service', service, Object.keys(catalog.services)) };
  if (env !== undefined) {
    if (!envs.includes(env)) {
      const { near, names } = closest(env, envs);
      const hint = near ? `did you mean ${names.join(' or ')}?` : `it runs in ${envs.join(', ')}`;
      return { ok: false, error: `${service} has no environment "${clip(env)}": ${hint}` };
    }
    return { ok: true, service, env };
  }
  if (envs.includes('production')) return { ok: true, service, env: 'production' };
  if (envs.length === 1) return { ok: true, service, env: envs[0]! };
  return { ok: false, error: `${service} runs in several environments (${envs.join(', ')}): name one with env=…` };
}
