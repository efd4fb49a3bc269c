import { describe, expect, test } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { Revision } from '../../src/domain/cluster-state.js';
import { planHotfix, planRelease, planRollback, planSchema, type ClusterRead } from '../../src/domain/plans.js';
import { revision, serviceState } from '../support/cluster-fixtures.js';

const settings = loadConfig('lifeguard.example.yaml', {}).services.checkout!.environments.production!;

const read = (current: Revision, others: Revision[], canary = 0): ClusterRead => ({ ok: true, state: serviceState(current, others, canary) });

const away: ClusterRead = { ok: false, why: 'the cluster did not answer within 30 s' };

describe('plans are domain data', () => {
  test('a canary release takes the environment steps and pauses; a rolling one is one step', () => {
    const plan = planRelease({ service: 'checkout', environment: 'production', version: '1.5.0', strategy: 'canary' }, settings, read(revision(3, '1.4.2'), []));
    expect(plan).toEqual({
      kind: 'release',
      service: 'checkout',
      environment: 'production',
      version: '1.5.0',
      strategy: 'canary',
      running: { version: '1.4.2', image: 'shop/checkout:1.4.2', revision: 3 },
      steps: [5, 25, 50, 100],
      pauseForApprovalAt: [50],
    });
    expect(planRelease({ service: 'checkout', environment: 'production', version: '1.5.0', strategy: 'rolling' }, settings, away)).toMatchObject({ running: null, steps: [100], pauseForApprovalAt: [] });
  });

  test('a rollback plan names where kubectl rollout undo would go, from the same read', () => {
    const renumbered = read(revision(4, '1.4.1', [2]), [revision(3, '1.4.2'), revision(1, '1.4.0')], 25);
    expect(planRollback({ service: 'checkout', environment: 'production', reason: 'errors' }, settings, renumbered)).toEqual({
      kind: 'rollback',
      service: 'checkout',
      environment: 'production',
      reason: 'errors',
      running: { version: '1.4.1', image: 'shop/checkout:1.4.1', revision: 4 },
      target: { kind: 'rollback', from: 4, to: 3, image: 'shop/checkout:1.4.2', fromImage: 'shop/checkout:1.4.1' },
      canaryWeightNow: 25,
    });
    expect(planRollback({ service: 'checkout', environment: 'production', reason: 'errors', toRevision: 2 }, settings, renumbered).target).toMatchObject({ kind: 'no-op', revision: 4 });
    expect(planRollback({ service: 'checkout', environment: 'production', reason: 'errors' }, settings, away)).toMatchObject({ running: null, target: null, canaryWeightNow: null });
  });

  test('a hotfix path follows its urgency', () => {
    const hotfix = (urgency: 'critical' | 'high' | 'medium' | 'low') =>
      planHotfix({ service: 'checkout', environment: 'production', version: '1.4.3', urgency, reason: 'CVE' }, settings, away);
    expect(hotfix('critical')).toMatchObject({ path: 'direct', steps: [100], pauseForApprovalAt: [] });
    // High: 50 % then all of it, each step a fifth of the service's (5 min here), and no promote pause.
    expect(hotfix('high')).toMatchObject({ path: 'fast-canary', steps: [50, 100], pauseForApprovalAt: [], stepDurationMs: 60_000 });
    expect(hotfix('critical')).not.toHaveProperty('stepDurationMs');
    expect(hotfix('low')).toMatchObject({ path: 'canary', steps: [5, 25, 50, 100], pauseForApprovalAt: [50] });
  });

  test('a stored plan reads back through its schema, and a malformed one is refused', () => {
    const plan = planRollback({ service: 'checkout', environment: 'production', reason: 'errors' }, settings, read(revision(3, '1.4.2'), [revision(2, '1.4.1')]));
    expect(planSchema.parse(JSON.parse(JSON.stringify(plan)))).toEqual(plan);
    expect(planSchema.safeParse({ ...plan, kind: 'deploy' }).success).toBe(false);
  });
});
