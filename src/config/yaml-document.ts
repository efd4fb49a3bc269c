import { Composer, CST, isScalar, Lexer, LineCounter, Parser, visit, YAMLParseError, type Document } from 'yaml';
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
 * yaml's tokens of `text`, ending where the text first nests deeper than MAX_DEPTH (`deep.line` then says where), so
 * that yaml's parser never sees such nesting: flow brackets open, and block indicators (`- - -`, `? ? ?`) stacked on
 * one line. Nesting by indentation needs a line per level, so the size limit already bounds it.
 */
function* shallowTokens(text: string, deep: { line?: number }): Generator<string> {
  let line = 1;
  let flow = 0;
  let onLine = 0;
  for (const token of new Lexer().lex(text)) {
    const type = CST.tokenType(token);
    if (type === 'flow-seq-start' || type === 'flow-map-start') flow++;
    else if (type === 'flow-seq-end' || type === 'flow-map-end') flow = Math.max(0, flow - 1);
    else if (flow === 0 && (type === 'seq-item-ind' || type === 'explicit-key-ind' || type === 'map-value-ind')) onLine++;
    if (flow + onLine > MAX_DEPTH) {
      deep.line = line;
      return;
    }
    const newlines = token.split('\n').length - 1;
    if (newlines > 0) {
      line += newlines;
      onLine = 0;
    }
    yield token;
  }
}

/**
 * yaml's parseDocument, with the text lexed once: its tokens are checked for depth on their way to the parser (yaml's
 * documented way to give its parser tokens of one's own). Undefined when the text nests too deep.
 */
function parseShallowDocument(text: string, lines: LineCounter, deep: { line?: number }): Document.Parsed | undefined {
  const parser = new Parser(lines.addNewLine);
  function* syntaxTree() {
    lines.addNewLine(0); // as Parser.parse() reports the start of input
    for (const token of shallowTokens(text, deep)) yield* parser.next(token);
    if (deep.line === undefined) yield* parser.end();
  }
  let doc: Document.Parsed | undefined;
  for (const next of new Composer({ lineCounter: lines, uniqueKeys: false }).compose(syntaxTree(), true, text.length)) {
    if (!doc) doc = next;
    else {
      doc.errors.push(new YAMLParseError([next.range[0], next.range[1]], 'MULTIPLE_DOCS', 'Source contains multiple documents; please use YAML.parseAllDocuments()'));
      break;
    }
  }
  return deep.line === undefined ? doc : undefined;
}

/** A YAML text as plain data, or `(yaml): …` lines saying what is wrong with it and where. */
export function readYaml(text: string): YamlResult {
  const lines = new LineCounter();
  const deep: { line?: number } = {};
  const doc = parseShallowDocument(text, lines, deep);
  if (!doc) return { ok: false, errors: [`(yaml): line ${deep.line}: nested deeper than ${MAX_DEPTH} levels`] };
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
