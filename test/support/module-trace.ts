import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dataUrl = (source: string) => `data:text/javascript,${encodeURIComponent(source)}`;

/**
 * Node options that make a child process record the URL of every module it loads, through a `load` hook
 * registered with node:module's public API, into `file`; `loaded()` reads them back (one per line).
 */
export function moduleTrace(dir: string): { nodeOptions: string[]; loaded(): string[] } {
  const file = join(dir, 'loaded-modules.txt');
  const hooks = dataUrl(
    `import { appendFileSync } from 'node:fs';
     export async function load(url, context, next) { appendFileSync(${JSON.stringify(file)}, url + '\\n'); return next(url, context); }`,
  );
  return {
    nodeOptions: ['--import', dataUrl(`import { register } from 'node:module'; register(${JSON.stringify(hooks)});`)],
    loaded: () => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []),
  };
}
