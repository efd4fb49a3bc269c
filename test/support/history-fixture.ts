import { newOperation, type Operation } from '../../src/domain/operation.js';
import type { Verdict } from '../../src/domain/verdict.js';

/*
 * Ten operations of checkout in production over 1–11 November 2026 with known times, for the delivery figures'
 * hand calculation (test/unit/delivery-figures.test.ts) and `lifeguard history --json` (test/integration/history-cli.test.ts).
 */

export const PERIOD = { since: new Date('2026-11-01T00:00:00Z'), until: new Date('2026-11-11T00:00:00Z') };

type Rollback = NonNullable<Operation['rollback']>;

function op(id: number, kind: Operation['kind'], from: string, to: string, createdAt: string, patch: Partial<Operation> = {}): Operation {
  const base = newOperation(
    {
      id,
      requestId: null,
      kind,
      strategy: 'canary',
      service: 'checkout',
      environment: 'production',
      from: { version: from, image: `shop/checkout:${from}`, revision: id },
      to: { version: to, image: `shop/checkout:${to}` },
      steps: [5, 25, 50, 100],
      pauseForApprovalAt: [50],
      requestedBy: 'U09BOB',
      approvedBy: ['U01ALICE'],
      card: null,
    },
    new Date(createdAt),
  );
  return { ...base, phase: 'done', ...patch };
}

const promoted = (finishedAt: string): Partial<Operation> => ({ state: 'promoted', outcome: 'promoted', finishedAt, weight: 0 });

function rolledBack(rb: Partial<Rollback> & Pick<Rollback, 'trigger' | 'decidedAt' | 'verifiedAt'>, state: Operation['state'] = 'rolled-back'): Partial<Operation> {
  return {
    state,
    outcome: 'rolled back, verified',
    finishedAt: rb.verifiedAt,
    rollback: {
      by: rb.trigger === 'verdict' || rb.trigger === 'watch' ? 'lifeguard' : 'U01ALICE',
      why: 'error-rate too high',
      afterPromotion: false,
      stepReached: 2,
      weightReached: 25,
      failing: [],
      breachStartedAt: null,
      drainedAt: rb.decidedAt,
      restoredAt: rb.verifiedAt,
      ...rb,
    },
  };
}

/** Operation #2's canary: error-rate failing, 30 of its 1,000 requests failed over the metric's 5m window. */
export const CAUGHT_FAILING = [{ metric: 'error-rate', classification: 'high', canary: 0.03, baseline: 0.002, thresholds: ['max 0.03'], breachingForMs: 300_000, reason: '3 % > 3 %' }];

export function tenOperations(): Operation[] {
  return [
    // 40 minutes; the next operation is a release: it stayed out.
    op(1, 'release', '1.0.0', '1.1.0', '2026-11-01T10:00:00Z', promoted('2026-11-01T10:40:00.000Z')),
    // Caught at 25 %: breach from 09:20, decided 09:25, drained 09:25:30, verified 09:30 (5 minutes to recover).
    op(
      2,
      'release',
      '1.1.0',
      '1.2.0',
      '2026-11-02T09:00:00Z',
      rolledBack({ trigger: 'verdict', breachStartedAt: '2026-11-02T09:20:00.000Z', decidedAt: '2026-11-02T09:25:00.000Z', drainedAt: '2026-11-02T09:25:30.000Z', verifiedAt: '2026-11-02T09:30:00.000Z', failing: CAUGHT_FAILING }),
    ),
    // 30 minutes, then hotfixed (#4): a failed change.
    op(3, 'release', '1.1.0', '1.2.1', '2026-11-03T10:00:00Z', promoted('2026-11-03T10:30:00.000Z')),
    // The hotfix: 20 minutes; the next is a release.
    op(4, 'hotfix', '1.2.1', '1.2.2', '2026-11-03T14:00:00Z', promoted('2026-11-03T14:20:00.000Z')),
    // 60 minutes, then rolled back by hand (#6): a failed change.
    op(5, 'release', '1.2.2', '1.3.0', '2026-11-05T10:00:00Z', promoted('2026-11-05T11:00:00.000Z')),
    // The manual rollback: 10 minutes from decision to verified.
    op(6, 'rollback', '1.3.0', '1.2.2', '2026-11-05T12:00:00Z', {
      steps: [],
      pauseForApprovalAt: [],
      ...rolledBack({ trigger: 'manual', decidedAt: '2026-11-05T12:00:00.000Z', verifiedAt: '2026-11-05T12:10:00.000Z', afterPromotion: true, weightReached: 0 }),
    }),
    // Aborted at 25 %: 2 minutes from decision to verified; a failed change.
    op(7, 'release', '1.2.2', '1.3.1', '2026-11-06T10:00:00Z', { ...rolledBack({ trigger: 'abort', decidedAt: '2026-11-06T10:15:00.000Z', verifiedAt: '2026-11-06T10:17:00.000Z' }, 'aborted'), outcome: 'rolled back, verified' }),
    // 50 minutes; the next is a release.
    op(8, 'release', '1.2.2', '1.3.2', '2026-11-07T10:00:00Z', promoted('2026-11-07T10:50:00.000Z')),
    // Promoted, then the watch failed: rolled back automatically, 8 minutes from decision to verified.
    op(
      9,
      'release',
      '1.3.2',
      '1.4.0',
      '2026-11-08T10:00:00Z',
      rolledBack({ trigger: 'watch', decidedAt: '2026-11-08T11:00:00.000Z', verifiedAt: '2026-11-08T11:08:00.000Z', afterPromotion: true, weightReached: 100 }),
    ),
    // Still running: not ended, so not a change yet.
    op(10, 'release', '1.3.2', '1.4.1', '2026-11-09T10:00:00Z', { state: 'running', phase: 'hold', step: 1, weight: 25 }),
  ];
}

/** The verdict behind #2's rollback, as the decision's audit row holds it: error-rate judged on counts. */
export function caughtVerdict(): Verdict {
  return {
    service: 'checkout',
    environment: 'production',
    evaluatedAt: '2026-11-02T09:25:00.000Z',
    verdict: 'fail',
    reasons: ['error-rate: 3 % > 3 %'],
    score: null,
    scoreThresholds: { pass: 95, marginal: 75 },
    trafficShare: 25,
    metrics: [
      {
        metric: 'error-rate',
        kind: 'prometheus',
        critical: true,
        weight: 1,
        classification: 'high',
        reason: '3 % > 3 %',
        canary: 0.03,
        baseline: 0.002,
        ratio: 15,
        trafficShare: null,
        rules: [],
        comparison: {
          test: 'two-proportions',
          outcome: 'significant',
          canaryEvents: 30,
          canaryTotal: 1000,
          baselineEvents: 6,
          baselineTotal: 3000,
          minSamples: 50,
          z: 5,
          pValue: 0.0001,
          significance: 0.05,
          difference: 0.028,
          tolerance: 0.1,
        },
        queries: [],
        range: null,
        warnings: [],
      },
    ],
  };
}
