import { CST, isScalar, Lexer, LineCounter, parseDocument, visit, type Document } from 'yaml';
import { clip } from '../../commands/grammar.js';

/** Aliases may share a block or two; more expansions than this is a "billion laughs" document. */
export const MAX_ALIAS_COUNT = 100;

/** A config nests a handful of levels; yaml's parser takes seconds and a gigabyte on a line of 100,000 `[`. */
export const MAX_DEPTH = 64;

export type YamlResult = { ok: true; value: unknown } | { ok: false; errors: string[] };

/**
 * Map keys that repeat, found with one set per map. yaml's own `uniqueKeys` check compares every key with every
 * other (20,000 keys took 10 s), so it is off and this linear one stands in for it.
 */
function duplicateKeys(doc: Document.Parsed, position: (offset: number) => string): string[] {
  const errors: string[] = [];
  visit(doc, {
    Map(_key, map) {
      const seen = new Set<unknown>();
      for (const { key } of map.items) {
        const value = isScalar(key) ? key.value : key;
        if (seen.has(value)) errors.push(`(yaml): ${position(isScalar(key) ? (key.range?.[0] ?? -1) : -1)}: duplicate key "${clip(String(value))}"`);
        seen.add(value);
      }
    },
  });
  return errors;
}

/**
 * The line where the text first nests deeper than MAX_DEPTH, found by yaml's lexer before its parser sees it: flow
 * brackets open, and block indicators (`- - -`, `? ? ?`) stacked on one line. Nesting by indentation needs a line
 * per level, so the size limit already bounds it.
 */
function tooDeep(text: string): number | undefined {
  let line = 1;
  let flow = 0;
  let onLine = 0;
  for (const token of new Lexer().lex(text)) {
    const type = CST.tokenType(token);
    if (type === 'flow-seq-start' || type === 'flow-map-start') flow++;
    else if (type === 'flow-seq-end' || type === 'flow-map-end') flow = Math.max(0, flow - 1);
    else if (flow === 0 && (type === 'seq-item-ind' || type === 'explicit-key-ind' || type === 'map-value-ind')) onLine++;
    if (flow + onLine > MAX_DEPTH) return line;
    const newlines = token.split('\n').length - 1;
    if (newlines > 0) {
      line += newlines;
      onLine = 0;
    }
  }
  return undefined;
}

/** A YAML text as plain data, or `(yaml): …` lines saying what is wrong with it and where. */
export function readYaml(text: string): YamlResult {
  const deep = tooDeep(text);
  if (deep !== undefined) return { ok: false, errors: [`(yaml): line ${deep}: nested deeper than ${MAX_DEPTH} levels`] };
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false });
  const position = (offset: number) => {
    const at = offset >= 0 ? lines.linePos(offset) : undefined;
    return `line ${at?.line ?? '?'}, column ${at?.col ?? '?'}`;
  };
  const syntax = doc.errors.map((e) => `(yaml): ${position(e.pos[0])}: ${e.message.split(' at line ')[0]?.split('\n')[0]}`);
  const errors = syntax.length > 0 ? syntax : duplicateKeys(doc, position);
  if (errors.length > 0) return { ok: false, errors };
  try {
    return { ok: true, value: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) };
  } catch (error) {
    const message = (error as Error).message;
    return {
      ok: false,
      errors: [
        /excessive alias count/i.test(message)
          ? `(yaml): too many alias expansions (limit ${MAX_ALIAS_COUNT}): write the repeated parts out instead`
          : `(yaml): ${message.split('\n')[0]}`,
      ],
    };
  }
}
