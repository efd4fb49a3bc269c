import type * as z from 'zod';
import { clip } from '../../commands/grammar.js';
import { ConfigError } from './config-error.js';
import { readConfigFile } from './config-file.js';
import { configSchema, type Config } from './schema.js';
import { readYaml } from './yaml-document.js';

export { ConfigError };

/** How much of a value or key the user wrote is echoed back in an error line; the rest is elided. */
const ECHO_CHARS = 80;
/** No error line grows past this, whatever a message quotes from the file. */
const LINE_CHARS = 500;
/** A file with thousands of mistakes gets the first ones and a count, not a flood. */
const MAX_LINES = 50;

function formatPath(path: readonly PropertyKey[]): string {
  return path.length ? path.map((key) => clip(String(key), ECHO_CHARS)).join('.') : '(root)';
}

function received(root: unknown, path: readonly PropertyKey[]): unknown {
  let node: unknown = root;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

function bounded(lines: string[]): string[] {
  const shown = lines.slice(0, MAX_LINES).map((line) => clip(line, LINE_CHARS));
  return lines.length > MAX_LINES ? [...shown, `(and ${lines.length - MAX_LINES} more errors)`] : shown;
}

function echo(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(clip(value, ECHO_CHARS)) : clip(String(JSON.stringify(value)), ECHO_CHARS);
}

/** One line per issue; a wrong-typed or wrong-valued scalar is quoted so the user sees what they wrote. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], raw: unknown): string[] {
  const lines = issues.flatMap((issue) => {
    const path = formatPath(issue.path);
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => `${formatPath([...issue.path, key])}: unknown field`);
    }
    const value = received(raw, issue.path);
    if (issue.code === 'invalid_type' && value === undefined) return [`${path}: required`];
    const shown = issue.code !== 'custom' && value !== undefined && typeof value !== 'object' ? ` (got ${echo(value)})` : '';
    return `${path}: ${issue.message}${shown}`.split('\n');
  });
  return bounded(lines);
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
  // Parsed once per process: zod's compiled fast path for objects would cost more to generate than it saves.
  const result = configSchema.safeParse(withEnv, { jitless: true });
  if (!result.success) throw new ConfigError(file, formatIssues(result.error.issues, withEnv));
  return result.data;
}

/** Reads, parses and validates `lifeguard.yaml`; throws ConfigError with readable lines. */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Config {
  const yaml = readYaml(readConfigFile(file));
  if (!yaml.ok) throw new ConfigError(file, bounded(yaml.errors));
  return parseConfig(yaml.value, file, env);
}

/** Where the config lives: `--config`, then LIFEGUARD_CONFIG, then ./lifeguard.yaml. */
export function configPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag ?? env.LIFEGUARD_CONFIG ?? './lifeguard.yaml';
}
