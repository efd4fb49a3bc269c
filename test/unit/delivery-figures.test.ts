import { describe, expect, it } from 'vitest';
import { canaryCountsAtDecision, deliveryFigures } from '../../src/domain/delivery-figures.js';
import { figureLines } from '../../src/domain/delivery-figures-text.js';
import { historyEntry } from '../../src/domain/history-entry.js';
import { PERIOD, caughtVerdict, tenOperations } from '../support/history-fixture.js';

const MINUTE = 60_000;

describe('delivery figures of ten operations, against a hand calculation', () => {
  const ops = tenOperations();
  const counts = new Map([[2, canaryCountsAtDecision(ops[1]!, caughtVerdict(), { 'error-rate': 5 * MINUTE })!]]);
  const f = deliveryFigures(ops, PERIOD, counts);

  it('deployment frequency: 5 promoted (#1 #3 #4 #5 #8) over 10 days = 0.5 a day', () => {
    expect(f.days).toBe(10);
    expect(f.deployments).toBe(5);
    expect(f.deploymentsPerDay).toBe(0.5);
  });

  it('change failure rate: 8 ended changes (#10 runs, #6 is a rollback), 5 failed (#2 #7 #9 rolled back or aborted, #3 hotfixed next, #5 rolled back next) = 0.625', () => {
    expect(f.changes).toBe(8);
    expect(f.failedChanges).toBe(5);
    expect(f.changeFailureRate).toBe(0.625);
  });

  it('MTTR: (5 + 10 + 2 + 8 minutes) ÷ 4 verified rollbacks = 6.25 minutes', () => {
    expect(f.recoveries).toBe(4);
    expect(f.meanTimeToRecoveryMs).toBe(375_000);
  });

  it('median release duration of 20, 30, 40, 50, 60 minutes = 40 minutes; 2 automated rollbacks (#2 verdict, #9 watch)', () => {
    expect(f.medianReleaseDurationMs).toBe(40 * MINUTE);
    expect(f.automatedRollbacks).toBe(2);
  });

  it('what the canary saved: #2 at 25 % failed 30/300 s × 330 s = 33 requests; all traffic would have failed 33 × 100 ÷ 25 = 132', () => {
    expect(f.canarySaved).toEqual([{ operation: 2, version: '1.2.0', weightReached: 25, exposedMs: 330_000, metric: 'error-rate', errorRate: 0.03, failedServed: 33, failedAtFullTraffic: 132 }]);
    expect(figureLines(f)).toEqual([
      'Deployment frequency: 0.50 a day (5 promoted in 10 days)',
      'Change failure rate: 63 % (5 of 8 ended changes rolled back, aborted, failed or undone next)',
      'Mean time to recovery: 6m15s (decision to verified, 4 rollbacks)',
      'Median release duration: 40m',
      'Automated rollbacks: 2',
      'What the canary saved: 1 bad canary caught',
      '  #2 (1.2.0) caught at 25 % of traffic: served 33 failed requests over 5m30s at 3.0 % error-rate; at 100 % the same rate would have failed 132',
    ]);
  });

  it('leaves the saved figures unknown without counts, rather than inventing them', () => {
    expect(deliveryFigures(ops, PERIOD).canarySaved[0]).toMatchObject({ exposedMs: 330_000, errorRate: null, failedServed: null, failedAtFullTraffic: null });
  });

  it('counts only operations created in the period, and has no rates without changes', () => {
    const empty = deliveryFigures(ops, { since: new Date('2026-11-10T00:00:00Z'), until: PERIOD.until });
    expect(empty).toMatchObject({ days: 1, deployments: 0, changes: 0, changeFailureRate: null, meanTimeToRecoveryMs: null, medianReleaseDurationMs: null, canarySaved: [] });
  });

  it('reads a success rate failing low as the requests that were not successes', () => {
    const verdict = caughtVerdict();
    const m = verdict.metrics[0]!;
    verdict.metrics[0] = { ...m, metric: 'success-rate', classification: 'low', comparison: { ...(m.comparison as object), canaryEvents: 940, canaryTotal: 1000 } as typeof m.comparison };
    const op = { ...ops[1]!, rollback: { ...ops[1]!.rollback!, failing: [{ ...ops[1]!.rollback!.failing[0]!, metric: 'success-rate' }] } };
    expect(canaryCountsAtDecision(op, verdict, { 'success-rate': MINUTE })).toEqual({ metric: 'success-rate', failed: 60, total: 1000, windowMs: MINUTE });
  });
});

describe('history entries', () => {
  it('say who asked and approved, the outcome, the rollback and the duration', () => {
    const [, caught, , , , , aborted, , , running] = tenOperations();
    expect(historyEntry(caught!)).toEqual({
      id: 2,
      kind: 'release',
      environment: 'production',
      from: '1.1.0',
      to: '1.2.0',
      state: 'rolled-back',
      outcome: 'rolled back, verified',
      requestedBy: 'U09BOB',
      approvedBy: ['U01ALICE'],
      rollback: { trigger: 'verdict', by: 'lifeguard', weightReached: 25 },
      createdAt: '2026-11-02T09:00:00.000Z',
      finishedAt: '2026-11-02T09:30:00.000Z',
      durationMs: 30 * MINUTE,
    });
    expect(historyEntry(aborted!).rollback).toEqual({ trigger: 'abort', by: 'U01ALICE', weightReached: 25 });
    expect(historyEntry(running!)).toMatchObject({ state: 'running', outcome: 'running', rollback: null, durationMs: null });
  });
});
