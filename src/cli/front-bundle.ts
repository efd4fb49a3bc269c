import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Script } from 'node:vm';
import * as configError from '../config/config-error.js';
import * as command from './command.js';
import type * as FrontModule from './front.js';

/*
 * Most of a command's start-up goes to compiling JavaScript: zod, yaml and the config schema for `config check`, a
 * few dozen small modules for any command. Node 20 keeps no compile cache for ES modules (module.enableCompileCache
 * is Node 22), but a script run with node:vm takes V8's code cache. So `npm run build` (scripts/build-cli-front.ts)
 * bundles the front (front.ts: dispatch and the commands' descriptions) and the config loader into one CommonJS
 * script next to this module, runs `--help` and `config check` of the example config through it, and keeps V8's code
 * cache of what that compiled. What else a command imports with `import()` (SQLite, Kubernetes, Prometheus, the bot)
 * stays a compiled module in dist/src, imported from there as before. `npm run build` writes both; tsc alone would
 * leave the bundle of an earlier build.
 */

export const BUNDLE_FILE = 'front.bundle.cjs';
export const CODE_CACHE_FILE = 'front.bundle.v8-cache';

/**
 * Modules the bundle takes from here instead of holding a copy: they define the errors that commands throw and
 * dispatch recognises, and the modules a command imports from dist/src throw them too, so there must be one of each.
 * Keyed by their path from this directory, as the bundle asks for them.
 */
export const SHARED_MODULES: Readonly<Record<string, object>> = { './command.js': command, '../config/config-error.js': configError };

/** What the bundle's code calls for `import()` and reads for `import.meta.url`, which a script run by node:vm lacks. */
export const BUNDLE_SCOPE = { importModule: '__lifeguardImport', url: '__lifeguardUrl' } as const;

export type Front = typeof FrontModule;

/**
 * The bundled front in `dir` (built, this module's own directory), or undefined when there is none: run from source.
 * V8 rejects a code cache made by another Node version or with other V8 flags (`script.cachedDataRejected`), and then
 * compiles the bundle as it runs it: slower to start, the same otherwise.
 */
export function loadFrontBundle(dir = dirname(fileURLToPath(import.meta.url)), options: { codeCache?: boolean } = {}): { front: Front; script: Script } | undefined {
  const file = join(dir, BUNDLE_FILE);
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  let cachedData: Buffer | undefined;
  try {
    if (options.codeCache !== false) cachedData = readFileSync(join(dir, CODE_CACHE_FILE));
  } catch {
    // No cache: compiled as it runs.
  }
  // The same wrapper as Node's for CommonJS, on the first line so that line numbers in stack traces are the file's.
  const wrapped = `(function (exports, require, module, ${BUNDLE_SCOPE.importModule}, ${BUNDLE_SCOPE.url}) {'use strict';${source}\n})`;
  const script = new Script(wrapped, { filename: file, ...(cachedData ? { cachedData } : {}) });
  const url = pathToFileURL(file);
  const nodeRequire = createRequire(file);
  const importModule = (specifier: string) => import(specifier.startsWith('.') ? new URL(specifier, url).href : specifier);
  const bundle = { exports: {} as Front };
  script.runInThisContext()(bundle.exports, (id: string) => SHARED_MODULES[id] ?? nodeRequire(id), bundle, importModule, url.href);
  return { front: bundle.exports, script };
}
