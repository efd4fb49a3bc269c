import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteApprovalRepository } from '../../src/adapters/sqlite/approvals.js';
import { openStore } from '../../src/adapters/sqlite/store.js';
import { ApprovalFlow } from '../../src/flows/approval.js';
import { useTempDirs } from '../support/tmp.js';

const tempDir = useTempDirs();

/** Requests opened by the version before plans were domain data stored a card summary; they must survive the upgrade. */
describe('approval requests written before plans were domain data', () => {
  it('read as the plan they described, still expire, and the sweep is not blocked by them', () => {
    const store = openStore(join(tempDir(), 'lifeguard.db'));
    const insert = store.db.prepare(
      `INSERT INTO approval_requests (kind, service, environment, requester, requirement, summary, state, created_at, expires_at)
       VALUES (?, 'checkout', 'production', 'U09BOB', '{"mode":"any","roles":["release-manager"],"count":1}', ?, 'pending', '2026-11-22T10:00:00.000Z', '2026-11-22T14:00:00.000Z')`,
    );
    const current = { version: '1.4.2', image: 'shop/checkout:1.4.2', revision: 3, history: [{ revision: 2, image: 'shop/checkout:1.4.1' }], canaryWeight: 25 };
    insert.run('rollback', JSON.stringify({ kind: 'rollback', command: { service: 'checkout', env: 'production', reason: 'errors' }, current }));
    insert.run('hotfix', JSON.stringify({ kind: 'hotfix', command: { service: 'checkout', env: 'production', version: '1.4.3', urgency: 'high', reason: 'CVE' }, current: null, strategy: 'fast canary', steps: [5, 100], pauseForApprovalAt: [] }));
    const repositories = { transaction: store.transaction, audit: store.audit, approvals: new SqliteApprovalRepository(store.db) };
    const flow = new ApprovalFlow({ store: repositories, clock: { now: () => new Date('2026-11-22T15:00:00Z') }, roles: { rolesOf: async () => [] } });

    expect(flow.get(1)!.plan).toEqual({
      kind: 'rollback',
      service: 'checkout',
      environment: 'production',
      reason: 'errors',
      running: { version: '1.4.2', image: 'shop/checkout:1.4.2', revision: 3 },
      target: { kind: 'rollback', from: 3, to: 2, image: 'shop/checkout:1.4.1', fromImage: 'shop/checkout:1.4.2' },
      canaryWeightNow: 25,
    });
    expect(flow.get(2)!.plan).toMatchObject({ kind: 'hotfix', path: 'fast-canary', running: null, steps: [5, 100] });
    expect(flow.expireDue().map((r) => r.id)).toEqual([1, 2]);
    store.close();
  });
});
