import { describe, expect, it } from 'vitest';
import { holdFor } from '../../src/domain/holds.js';
import { newOperation, type Operation, type RollbackTrigger } from '../../src/domain/operation.js';

/* Which rollbacks hold which version: holdFor on hand-built operations. */

const base = newOperation(
  {
    id: 12, requestId: 4, kind: 'release', strategy: 'canary', service: 'checkout', environment: 'production',
    from: { version: '1.4.2', image: 'shop/checkout:1.4.2', revision: 3 }, to: { version: '1.5.0-bad', image: 'shop/checkout:1.5.0-bad' },
    steps: [5, 25, 50, 100], pauseForApprovalAt: [50], requestedBy: 'U09BOB', approvedBy: ['U01ALICE'], card: null,
  },
  new Date('2026-12-02T10:00:00Z'),
);

function rollingBack(op: Operation, trigger: RollbackTrigger, why = 'error-rate 8 % against 0.4 %'): Operation {
  return {
    ...op,
    state: 'rolling-back',
    phase: 'drain',
    rollback: {
      trigger, by: 'lifeguard', why, afterPromotion: false, stepReached: 1, weightReached: 5, failing: [], breachStartedAt: null,
      decidedAt: '2026-12-02T10:01:00Z', drainedAt: null, restoredAt: null, verifiedAt: null,
    },
  };
}

describe('holdFor', () => {
  it('holds the version a release or hotfix brought when it starts rolling back, with the operation and why', () => {
    expect(holdFor(base, rollingBack(base, 'verdict'))).toEqual({
      service: 'checkout', environment: 'production', version: '1.5.0-bad', operationId: 12, reason: 'error-rate 8 % against 0.4 %', createdAt: new Date('2026-12-02T10:01:00Z'),
    });
    const hotfix = { ...base, kind: 'hotfix' as const };
    expect(holdFor(hotfix, rollingBack(hotfix, 'watch'))?.version).toBe('1.5.0-bad');
    expect(holdFor(hotfix, rollingBack(hotfix, 'rollout-failed'))?.version).toBe('1.5.0-bad');
  });

  it('holds the version a requested rollback takes away, from Slack or from the CLI, recorded rolling back from the start', () => {
    const rollback = { ...base, kind: 'rollback' as const, to: { version: '1.4.2', image: 'shop/checkout:1.4.2', revision: 3 }, from: { version: '1.5.0', image: 'shop/checkout:1.5.0', revision: 4 } };
    expect(holdFor(undefined, rollingBack(rollback, 'manual', 'customers see 500s'))).toMatchObject({ version: '1.5.0', operationId: 12, reason: 'customers see 500s' });
    expect(holdFor(undefined, rollingBack({ ...rollback, requestId: null, requestedBy: 'cli:bob' }, 'manual'))?.version).toBe('1.5.0');
  });

  it('holds nothing for an abort, a drain of a canary Lifeguard did not start, or a rollback already under way', () => {
    expect(holdFor(base, rollingBack(base, 'abort'))).toBeUndefined();
    const drain = { ...base, kind: 'rollback' as const, requestId: null, to: null };
    expect(holdFor(drain, rollingBack(drain, 'unmanaged'))).toBeUndefined();
    const already = rollingBack(base, 'verdict');
    expect(holdFor(already, { ...already, phase: 'restore' })).toBeUndefined();
    expect(holdFor(base, { ...base, state: 'promoted' })).toBeUndefined();
  });
});
