import { describe, expect, test } from 'vitest';
import type { Revision } from '../../src/domain/cluster-state.js';
import { rollbackTarget } from '../../src/domain/rollback-target.js';
import { revision, serviceState } from '../support/cluster-fixtures.js';

/** The stable runs `current`'s template at revision `current.revision`. */
const state = (current: Revision, ...others: Revision[]) => serviceState(current, others);

describe('rollbackTarget (kubectl rollout undo semantics)', () => {
  test('goes to the previous revision by default', () => {
    expect(rollbackTarget(state(revision(3, '1.4.2'), revision(2, '1.4.1'), revision(1, '1.4.0')), 'app')).toEqual({
      kind: 'rollback',
      from: 3,
      to: 2,
      image: 'shop/checkout:1.4.1',
      fromImage: 'shop/checkout:1.4.2',
    });
  });

  test('after a rollback renumbered revision 2 as 4, the default target is 3 and "to 2" is a no-op', () => {
    const after = state(revision(4, '1.4.1', [2]), revision(3, '1.4.2'), revision(1, '1.4.0'));
    expect(rollbackTarget(after, 'app')).toMatchObject({ kind: 'rollback', from: 4, to: 3, image: 'shop/checkout:1.4.2' });
    expect(rollbackTarget(after, 'app', 2)).toEqual({
      kind: 'no-op',
      revision: 4,
      message: "Deployment shop/checkout already runs revision 2, now revision 4's template (current revision 4); nothing to roll back",
    });
    expect(rollbackTarget(after, 'app', 1)).toMatchObject({ kind: 'rollback', to: 1, image: 'shop/checkout:1.4.0' });
  });

  test('names the revisions there are when the one asked for does not exist, or there is none before', () => {
    expect(rollbackTarget(state(revision(3, '1.4.2'), revision(2, '1.4.1')), 'app', 9)).toEqual({
      kind: 'unknown',
      message: 'Deployment shop/checkout has no revision 9; the revisions it has are 2, 3 (current: 3)',
    });
    expect(rollbackTarget(state(revision(1, '1.4.0')), 'app')).toEqual({ kind: 'unknown', message: 'Deployment shop/checkout has no previous revision to roll back to (revisions: 1)' });
  });
});
