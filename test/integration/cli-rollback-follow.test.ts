import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { openStore } from '../../src/adapters/sqlite/store.js';
import { runRollback } from '../../src/cli/rollback-run.js';
import { fastConfig, startEngine, type EngineHarness } from '../support/engine-harness.js';
import { useTempDirs } from '../support/tmp.js';

/*
 * `lifeguard rollback` when a rollback is already under way, as after a terminal that started one was closed:
 * it follows that rollback to its end instead of refusing or starting a second one.
 */

const tempDir = useTempDirs();
const running: EngineHarness[] = [];
afterEach(async () => {
  for (const env of running.splice(0)) await env.stop();
});

describe('lifeguard rollback with a rollback under way', () => {
  test('follows it to its end, and rolls back once', async () => {
    const dir = tempDir();
    const config = fastConfig();
    const env = await startEngine(dir, config, { readyDelayMs: 1_500 });
    running.push(env);
    const plan = (await env.grantRollback('first terminal')).plan;
    if (plan.kind !== 'rollback') throw new Error('not a rollback plan');
    const first = await env.engine.startRollback({ requestId: null, service: 'checkout', environment: 'production', plan, requestedBy: 'cli:bob', approvedBy: [], card: null, preempt: false });
    expect(first.ok).toBe(true);
    // The terminal that started it is gone: nothing drives the rollback any more.
    await env.engine.stop();

    const store = openStore(join(dir, 'lifeguard.db'));
    const lines: string[] = [];
    const io = { out: (text: string) => lines.push(text), err: (text: string) => lines.push(text), env: { KUBECONFIG: env.fixture.kubeconfig } };
    try {
      const code = await runRollback(
        config,
        store,
        { service: 'checkout', environment: 'production', toRevision: undefined, reason: 'second terminal', operator: 'cli:bob', dryRun: false, yes: true, force: false },
        io,
        { confirm: async () => true, tickMs: 50 },
      );
      expect(code, lines.join('\n')).toBe(0);
    } finally {
      store.close();
    }
    const id = first.ok ? first.operation.id : 0;
    expect(lines[0]).toMatch(new RegExp(`^rollback #${id} is already rolling checkout/production back: Rolling back`));
    expect(lines).toContain('following it to its end (Ctrl-C stops following, not the rollback)');
    expect(lines.at(-1)).toMatch(/^rolled-back: rolled back, verified/);
    expect(env.op(id).state).toBe('rolled-back');
    // One rollback: 1.4.2 (revision 3) → 1.4.1 (revision 2, now 4), not a second one further back.
    const state = await env.cluster();
    expect(state.stable.image).toBe('registry.example.com/shop/checkout:1.4.1');
    expect(state.history.map((r) => r.revision)).toEqual([4, 3, 1]);
  });
});
