import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFront } from '../../scripts/build-cli-front.js';
import { openStore } from '../../src/adapters/sqlite/store.js';
import { REPO_ROOT, runCli, type CliResult } from '../support/cli.js';
import { moduleTrace } from '../support/module-trace.js';

/*
 * The built `lifeguard` runs its front from a bundle (src/cli/front-bundle.ts); every other test runs the modules.
 * Here the bundle is built as `npm run build` does, except that what it leaves out is imported from the source
 * (through tsx) rather than from dist/, and each run must match the same run of the modules.
 */

let dir: string;
const loader = pathToFileURL(join(REPO_ROOT, 'src', 'cli', 'front-bundle.ts')).href;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lifeguard-front-'));
  await buildFront({ outDir: dir, modulesRoot: REPO_ROOT, nodeOptions: ['--import', 'tsx'] });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Node's output of a script, run as src/cli.ts runs the front but from the bundle in `dir`. */
function runNode(script: string, args: string[] = [], nodeOptions: string[] = []): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeOptions, '--import', 'tsx', '--input-type=module', '--eval', script, '--', ...args], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

function runBundled(args: string[], nodeOptions: string[] = []): Promise<CliResult> {
  return runNode(
    `import { loadFrontBundle } from ${JSON.stringify(loader)};
     const { front } = loadFrontBundle(${JSON.stringify(dir)});
     const io = { out: (t) => process.stdout.write(t + '\\n'), err: (t) => process.stderr.write(t + '\\n'), env: process.env };
     // Run with --eval, Node's argv has no script: the arguments follow the executable.
     process.exitCode = await front.dispatch(front.COMMANDS, process.argv.slice(1), io);`,
    args,
    nodeOptions,
  );
}

async function sameAsModules(args: string[]): Promise<CliResult> {
  const [bundled, modules] = await Promise.all([runBundled(args), runCli(args)]);
  expect(bundled).toEqual(modules);
  return bundled;
}

describe('the bundled CLI front', () => {
  it('runs from its code cache', async () => {
    const result = await runNode(
      `import { loadFrontBundle } from ${JSON.stringify(loader)};
       const { script } = loadFrontBundle(${JSON.stringify(dir)});
       console.log(script.cachedDataRejected);`,
    );
    expect(result).toEqual({ code: 0, stdout: 'false\n', stderr: '' });
  });

  it('answers --help, no command and an unknown command as the modules do', async () => {
    expect((await sameAsModules(['--help'])).code).toBe(0);
    expect((await sameAsModules([])).code).toBe(2);
    expect((await sameAsModules(['frobnicate'])).code).toBe(2);
  });

  it('checks configs as the modules do: valid, invalid, missing', async () => {
    expect((await sameAsModules(['config', 'check', '--config', 'lifeguard.example.yaml'])).code).toBe(0);
    const invalid = join(dir, 'invalid.yaml');
    writeFileSync(invalid, 'slack:\n  releaseChannel: releases\nprometheus: {}\nclusters: {}\nroles: {}\nenvironments: {}\nhotfix: { approvers: {} }\nmetrics: {}\nservices: {}\nextra: 1\n');
    const result = await sameAsModules(['config', 'check', '--config', invalid]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('slack.releaseChannel: must be a #channel-name');
    expect((await sameAsModules(['config', 'check', '--config', join(dir, 'missing.yaml')])).code).toBe(2);
  });

  it('checks a config with nothing but the bundle and the modules it shares', async () => {
    const trace = moduleTrace(dir);
    const result = await runBundled(['config', 'check', '--config', 'lifeguard.example.yaml'], trace.nodeOptions);
    expect(result.code).toBe(0);
    const ours = trace.loaded().filter((url) => url.startsWith(pathToFileURL(REPO_ROOT).href) && !url.includes('/node_modules/'));
    expect(ours.map((url) => url.slice(pathToFileURL(REPO_ROOT).href.length)).sort()).toEqual(['/src/cli/command.ts', '/src/cli/front-bundle.ts', '/src/config/config-error.ts']);
    expect(trace.loaded().filter((url) => url.includes('/node_modules/') && !/\/node_modules\/(tsx|esbuild)\//.test(url))).toEqual([]);
  });

  it('imports what it leaves out, whose errors dispatch still recognises', async () => {
    const db = join(dir, 'lifeguard.db');
    openStore(db).close();
    expect((await sameAsModules(['audit', 'verify', '--db', db])).code).toBe(0);
    // A usage error thrown by audit-verify.ts, which the bundle imports: one UsageError class for both.
    const refused = await sameAsModules(['audit', 'verify', '--db', db, '--expect', 'bogus']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('usage: lifeguard audit verify');
  });
});
