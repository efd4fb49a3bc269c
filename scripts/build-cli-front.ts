/**
 * Bundles the command-line front so that `lifeguard` starts fast (issue #8; src/cli/front-bundle.ts says why and how
 * it runs). `npm run build` runs this after tsc: it writes dist/src/cli/front.bundle.cjs and V8's code cache of it.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { BUNDLE_FILE, BUNDLE_SCOPE, CODE_CACHE_FILE, SHARED_MODULES } from '../src/cli/front-bundle.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Modules that commands import with `import()` and that the bundle holds all the same: the config loader, all that
 * `config check` needs besides the front, and the slow part of starting it (zod, yaml, the schema).
 */
const BUNDLED_LAZILY = ['src/config/load.ts'];

/** The runs the code cache is made from: those that must start fast, and what their code compiles. */
const WARM_UP = [['--help'], ['config', 'check', '--config', 'lifeguard.example.yaml']];

/** Marks an `import()` that the bundle leaves to run time, so that it can be made through BUNDLE_SCOPE.importModule. */
const AT_RUN_TIME = 'lifeguard-at-run-time:';

/** `path` (relative, to a .ts or .js file) as an import specifier of the compiled module. */
const specifier = (path: string) => (path.startsWith('.') ? path : `./${path}`).replace(/\.ts$/, '.js');

export interface FrontBuild {
  /** Where the bundle and its code cache go (built: dist/src/cli). */
  outDir: string;
  /** Where the modules that the bundle leaves out are imported from: a tree like the repository's (built: dist). */
  modulesRoot: string;
  /** Node options for the warm-up run, which imports src/cli/front-bundle.js from modulesRoot. */
  nodeOptions?: string[];
}

export async function buildFront({ outDir, modulesRoot, nodeOptions = [] }: FrontBuild): Promise<void> {
  const loaderDir = join(ROOT, 'src', 'cli');
  const frontPlugin: esbuild.Plugin = {
    name: 'lifeguard-front',
    setup(build) {
      build.onResolve({ filter: /^\.\.?\// }, ({ path, resolveDir, kind }) => {
        const source = resolve(resolveDir, path).replace(/\.js$/, '.ts');
        const shared = specifier(relative(loaderDir, source));
        if (Object.hasOwn(SHARED_MODULES, shared)) return { path: shared, external: true };
        const fromRoot = relative(ROOT, source);
        const ours = fromRoot.startsWith('src/') || fromRoot.startsWith('commands/');
        if (kind !== 'dynamic-import' || !ours || BUNDLED_LAZILY.includes(fromRoot)) return undefined;
        return { path: `${AT_RUN_TIME}${specifier(relative(outDir, join(modulesRoot, fromRoot)))}`, external: true };
      });
      build.onResolve({ filter: /^node:/ }, ({ path, kind }) => (kind === 'dynamic-import' ? { path: `${AT_RUN_TIME}${path}`, external: true } : undefined));
    },
  };
  const result = await esbuild.build({
    entryPoints: [join(ROOT, 'src', 'cli', 'front.ts')],
    absWorkingDir: ROOT,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    supported: { 'dynamic-import': true },
    define: { 'import.meta.url': BUNDLE_SCOPE.url },
    plugins: [frontPlugin],
    metafile: true,
    write: false,
    logLevel: 'silent',
  });
  if (result.warnings.length) throw new Error((await esbuild.formatMessages(result.warnings, { kind: 'warning' })).join('\n'));

  // What the bundle asks for at run time: Node's own modules, the shared ones, and the modules it leaves out.
  const external = Object.values(result.metafile.outputs).flatMap((output) => output.imports.filter((i) => i.external).map((i) => i.path));
  const unexpected = external.filter((path) => !isBuiltin(path) && !Object.hasOwn(SHARED_MODULES, path) && !path.startsWith(AT_RUN_TIME));
  if (unexpected.length) throw new Error(`the CLI front bundle would require() ${[...new Set(unexpected)].join(', ')}: bundle it, or import it with import()`);
  const code = result.outputFiles[0]!.text.replaceAll(`import("${AT_RUN_TIME}`, `${BUNDLE_SCOPE.importModule}("`);
  if (/\bimport\(/.test(code)) throw new Error('the CLI front bundle makes an import() of its own, which a script run by node:vm cannot');
  writeFileSync(join(outDir, BUNDLE_FILE), code);

  // The code cache serves a Node of the same version and V8 flags, so the warm-up runs without NODE_OPTIONS.
  const loader = pathToFileURL(join(modulesRoot, 'src', 'cli', 'front-bundle.js')).href;
  const warmUp = `
    import { writeFileSync } from 'node:fs';
    import { loadFrontBundle } from ${JSON.stringify(loader)};
    const { front, script } = loadFrontBundle(${JSON.stringify(outDir)}, { codeCache: false });
    const quiet = { out() {}, err() {}, env: {} };
    for (const argv of ${JSON.stringify(WARM_UP)}) await front.dispatch(front.COMMANDS, argv, quiet);
    writeFileSync(${JSON.stringify(join(outDir, CODE_CACHE_FILE))}, script.createCachedData());`;
  const run = spawnSync(process.execPath, [...nodeOptions, '--input-type=module', '--eval', warmUp], { cwd: ROOT, env: { ...process.env, NODE_OPTIONS: '' }, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`the warm-up run for the CLI front's code cache failed:\n${run.stderr}`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await buildFront({ outDir: join(ROOT, 'dist', 'src', 'cli'), modulesRoot: join(ROOT, 'dist') });
}
