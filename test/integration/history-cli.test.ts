import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sqliteRepositories } from '../../src/adapters/sqlite/repositories.js';
import { openStore } from '../../src/adapters/sqlite/store.js';
import { runCli } from '../support/cli.js';
import { caughtVerdict, tenOperations } from '../support/history-fixture.js';
import { useTempDirs } from '../support/tmp.js';

const tempDir = useTempDirs();
const config = { LIFEGUARD_CONFIG: 'lifeguard.example.yaml' };
const PERIOD_ARGS = ['--since', '2026-11-01T00:00:00Z', '--until', '2026-11-11T00:00:00Z'];

/** The ten operations written through the real repository, and #2's decision audited as the engine audits it. */
function recordedDatabase(): string {
  const db = join(tempDir(), 'lifeguard.db');
  const store = openStore(db);
  const repositories = sqliteRepositories(store);
  store.transaction(() => {
    for (const op of tenOperations()) repositories.operations.insert(op);
    store.audit.append({ actor: 'lifeguard', action: 'rollback.automated', subject: 'checkout/production', detail: { operation: 2, trigger: 'verdict', verdict: { type: 'verdict', evidence: caughtVerdict() } } });
  });
  store.close();
  return db;
}

describe('lifeguard history over recorded operations', () => {
  it('--json gives the figures a hand calculation gives (see test/unit/delivery-figures.test.ts)', async () => {
    const db = recordedDatabase();
    const result = await runCli(['history', 'checkout', '--env', 'production', ...PERIOD_ARGS, '--json', '--db', db], config);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.operations.map((e: { id: number }) => e.id)).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(report.operations[8]).toMatchObject({ kind: 'release', from: '1.1.0', to: '1.2.0', requestedBy: 'U09BOB', approvedBy: ['U01ALICE'], rollback: { trigger: 'verdict', weightReached: 25 }, durationMs: 1_800_000 });
    expect(report.figures).toEqual({
      since: '2026-11-01T00:00:00.000Z',
      until: '2026-11-11T00:00:00.000Z',
      days: 10,
      deployments: 5,
      deploymentsPerDay: 0.5,
      changes: 8,
      failedChanges: 5,
      changeFailureRate: 0.625,
      recoveries: 4,
      meanTimeToRecoveryMs: 375_000,
      medianReleaseDurationMs: 2_400_000,
      automatedRollbacks: 2,
      // error-rate's window in the example config is 5m: 30 failed in 300 s, over 330 s of exposure.
      canarySaved: [{ operation: 2, version: '1.2.0', weightReached: 25, exposedMs: 330_000, metric: 'error-rate', errorRate: 0.03, failedServed: 33, failedAtFullTraffic: 132 }],
    });
  });

  it('prints a table and the figures, and keeps to the period', async () => {
    const db = recordedDatabase();
    const result = await runCli(['history', 'checkout', ...PERIOD_ARGS, '--db', db], config);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^2\s+release\s+production\s+1\.1\.0\s+1\.2\.0\s+rolled back, verified \(verdict at 25 %\)\s+U09BOB\s+U01ALICE\s+2026-11-02T09:00:00\.000Z\s+30m$/m);
    expect(result.stdout).toContain('Deployment frequency: 0.50 a day (5 promoted in 10 days)');
    expect(result.stdout).toContain('Mean time to recovery: 6m15s (decision to verified, 4 rollbacks)');

    const later = await runCli(['history', 'checkout', '--since', '2026-11-08T00:00:00Z', '--until', '2026-11-11T00:00:00Z', '--json', '--db', db], config);
    expect(JSON.parse(later.stdout).operations.map((e: { id: number }) => e.id)).toEqual([10, 9]);
  });

  it('refuses a period that ends before it starts', async () => {
    const db = recordedDatabase();
    const result = await runCli(['history', 'checkout', '--since', '2026-11-11T00:00:00Z', '--until', '2026-11-01T00:00:00Z', '--db', db], config);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--since: 2026-11-11T00:00:00.000Z is not before 2026-11-01T00:00:00.000Z');
  });
});
