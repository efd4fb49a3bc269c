import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqliteRepositories } from '../../../src/adapters/sqlite/repositories.js';
import { openStore } from '../../../src/adapters/sqlite/store.js';
import { caughtVerdict, tenOperations } from '../../support/history-fixture.js';
import { responses, startHarness, type Harness } from '../../support/slack-standin/harness.js';

/*
 * `/release history` and the delivery gauges of a started Lifeguard over the recorded operations of
 * test/support/history-fixture.ts, 30 days after which is now (so all of them are in the default period).
 */
const NOW = new Date('2026-11-11T00:00:00Z');

describe('/release history and the delivery figures on /metrics', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness({ clock: { now: () => NOW } });
    // The ended ones only: #10 would be a running release for the engine to drive.
    const store = openStore(harness.db);
    const repositories = sqliteRepositories(store);
    store.transaction(() => {
      for (const op of tenOperations().slice(0, 9)) repositories.operations.insert(op);
      store.audit.append({ actor: 'lifeguard', action: 'rollback.automated', subject: 'checkout/production', detail: { operation: 2, verdict: { type: 'verdict', evidence: caughtVerdict() } } });
    });
    store.close();
  });
  afterAll(async () => {
    await harness?.close();
  });

  it('lists the operations and the figures in Block Kit', async () => {
    const sent = await harness.command('/release', 'history checkout env=production');
    expect(sent.body).toBe('');
    const posted = await harness.standin.waitFor(() => responses(harness.standin, sent.responseUrl).at(-1));
    expect(posted).toMatchObject({ response_type: 'ephemeral', text: 'History of checkout/production, 2026-10-12 to 2026-11-11: 9 operations' });
    const blocks = JSON.stringify(posted.blocks);
    expect(blocks).toContain('#2 2026-11-02 09:00 release production 1.1.0 → 1.2.0  rolled back, verified (verdict at 25 %)  30m  by U09BOB approved U01ALICE');
    expect(blocks).toContain('Deployment frequency: 0.17 a day (5 promoted in 30 days)');
    expect(blocks).toContain('Change failure rate: 63 % (5 of 8 ended changes');
    expect(blocks).toContain('served 33 failed requests over 5m30s at 3.0 % error-rate; at 100 % the same rate would have failed 132');
  });

  it('exports them as gauges per service and environment that pass promtool', async () => {
    const text = await (await fetch(`${harness.url}/metrics`)).text();
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 20_000 });
    expect(check.stdout + check.stderr).toBe('');
    const sample = (name: string) => new RegExp(`^${name}\\{service="checkout",environment="production"\\} (\\S+)$`, 'm').exec(text)?.[1];
    expect(sample('lifeguard_delivery_deployments_per_day')).toBe(String(5 / 30));
    expect(sample('lifeguard_delivery_change_failure_ratio')).toBe('0.625');
    expect(sample('lifeguard_delivery_recovery_seconds_mean')).toBe('375');
    expect(sample('lifeguard_delivery_release_seconds_median')).toBe('2400');
    expect(sample('lifeguard_delivery_automated_rollbacks')).toBe('2');
    expect(sample('lifeguard_delivery_canary_failed_requests')).toBe('33');
    expect(sample('lifeguard_delivery_canary_failed_requests_at_full_traffic')).toBe('132');
    // Staging has no ended change: its rate has no sample rather than a misleading 0.
    expect(text).toMatch(/^lifeguard_delivery_deployments_per_day\{service="checkout",environment="staging"\} 0$/m);
    expect(text).not.toMatch(/^lifeguard_delivery_change_failure_ratio\{service="checkout",environment="staging"\}/m);
  });
});
