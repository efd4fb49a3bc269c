import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/adapters/sqlite/store.js';
import { runCli } from '../support/cli.js';
import { moduleTrace } from '../support/module-trace.js';
import { useTempDirs } from '../support/tmp.js';

const tempDir = useTempDirs();

/** The packages among the modules a `lifeguard` run loaded. */
async function packagesLoaded(args: string[]): Promise<{ code: number; packages: Set<string> }> {
  const trace = moduleTrace(tempDir());
  const result = await runCli(args, {}, undefined, { nodeOptions: trace.nodeOptions, timeoutMs: 20_000 });
  const packages = trace
    .loaded()
    .map((url) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1])
    .filter((name): name is string => name !== undefined && name !== 'tsx' && name !== 'esbuild');
  return { code: result.code, packages: new Set(packages) };
}

const ADAPTERS = ['@kubernetes/client-node', '@slack/bolt', '@slack/web-api', 'axios', 'prom-client', 'pino'];

describe('lifeguard loads only what the command it runs needs', () => {
  it('--help loads no package at all', async () => {
    const { code, packages } = await packagesLoaded(['--help']);
    expect(code).toBe(0);
    expect([...packages]).toEqual([]);
  });

  it('audit verify loads SQLite, and neither the YAML parser, zod nor any adapter', async () => {
    const db = join(tempDir(), 'lifeguard.db');
    openStore(db).close();
    const { code, packages } = await packagesLoaded(['audit', 'verify', '--db', db]);
    expect(code).toBe(0);
    expect(packages).toContain('better-sqlite3');
    for (const unneeded of [...ADAPTERS, 'yaml', 'zod']) expect(packages).not.toContain(unneeded);
  });

  it('config check loads the YAML parser and zod, and no adapter', async () => {
    const { code, packages } = await packagesLoaded(['config', 'check', '--config', 'lifeguard.example.yaml']);
    expect(code).toBe(0);
    expect(packages).toContain('yaml');
    expect(packages).toContain('zod');
    for (const adapter of [...ADAPTERS, 'better-sqlite3']) expect(packages).not.toContain(adapter);
  });
});
