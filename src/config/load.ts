import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { configSchema, type Config } from './schema.js';

/** A config that could not be loaded; `errors` are lines of the form `path.to.field: message`. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly errors: string[],
  ) {
    super(`invalid config ${file}:\n${errors.join('\n')}`);
    this.name = 'ConfigError';
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.length ? path.map(String).join('.') : '(root)';
}

function received(root: unknown, path: readonly PropertyKey[]): unknown {
  let node: unknown = root;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

/** One line per issue; a wrong-typed or wrong-valued scalar is quoted so the user sees what they wrote. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], raw: unknown): string[] {
  return issues.map((issue) => {
    const path = formatPath(issue.path);
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => `${formatPath([...issue.path, key])}: unknown field`).join('\n');
    }
    if (issue.code === 'invalid_type' && received(raw, issue.path) === undefined) {
      return `${path}: required`;
    }
    const value = received(raw, issue.path);
    const shown = issue.code !== 'custom' && value !== undefined && typeof value !== 'object' ? ` (got ${JSON.stringify(value)})` : '';
    return `${path}: ${issue.message}${shown}`;
  }).flatMap((line) => line.split('\n'));
}

/** Values from the environment that override the file (DESIGN §3). */
function applyEnvironment(raw: unknown, env: NodeJS.ProcessEnv): unknown {
  if (!env.PROMETHEUS_URL || raw === null || typeof raw !== 'object') return raw;
  const doc = raw as Record<string, unknown>;
  const prometheus = typeof doc.prometheus === 'object' && doc.prometheus !== null ? doc.prometheus : {};
  return { ...doc, prometheus: { ...prometheus, url: env.PROMETHEUS_URL } };
}

/** Validates an already parsed document; used by the loader and by tests. */
export function parseConfig(raw: unknown, file = '(inline)', env: NodeJS.ProcessEnv = {}): Config {
  const withEnv = applyEnvironment(raw, env);
  const result = configSchema.safeParse(withEnv);
  if (!result.success) throw new ConfigError(file, formatIssues(result.error.issues, withEnv));
  return result.data;
}

/** Reads, parses and validates `lifeguard.yaml`; throws ConfigError with readable lines. */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw new ConfigError(file, [`(file): cannot read ${file}: ${why}`]);
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => `(yaml): line ${e.linePos?.[0]?.line ?? '?'}, column ${e.linePos?.[0]?.col ?? '?'}: ${e.message.split(' at line ')[0]?.split('\n')[0]}`),
    );
  }
  return parseConfig(doc.toJS(), file, env);
}

/** Where the config lives: `--config`, then LIFEGUARD_CONFIG, then ./lifeguard.yaml. */
export function configPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag ?? env.LIFEGUARD_CONFIG ?? './lifeguard.yaml';
}
