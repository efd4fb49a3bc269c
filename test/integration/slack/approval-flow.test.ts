import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type SqliteStore } from '../../../src/adapters/sqlite/store.js';
import { SqliteApprovalRepository } from '../../../src/adapters/sqlite/approvals.js';
import { ApprovalFlow, type OpenApproval } from '../../../src/flows/approval.js';
import type { Clock, RoleDirectory } from '../../../src/ports.js';

/** A clock the test moves by hand. */
function manualClock(start: string): Clock & { advance(ms: number): void } {
  let now = new Date(start).getTime();
  return { now: () => new Date(now), advance: (ms) => (now += ms) };
}

/** Roles by user; answers after a macrotask so concurrent clicks really interleave. */
function directory(holders: Record<string, string[]>): RoleDirectory {
  return {
    rolesOf: (user, among) =>
      new Promise((resolve) => setTimeout(() => resolve((holders[user] ?? []).filter((r) => among.includes(r))), 5)),
  };
}

const request: OpenApproval = {
  kind: 'release',
  service: 'checkout',
  environment: 'production',
  requester: 'UREQ',
  requirement: { mode: 'any', roles: ['release-manager'], count: 1 },
  ttlMs: 60 * 60_000,
  plan: { kind: 'release', service: 'checkout', environment: 'production', version: '1.5.0', strategy: 'canary', running: null, steps: [5, 25, 50, 100], pauseForApprovalAt: [50] },
};

describe('approval flow on SQLite', () => {
  let dir: string;
  let stores: SqliteStore[];
  let clock: ReturnType<typeof manualClock>;
  const roles = directory({ U01ALICE: ['release-manager'], U05FRANK: ['release-manager'], UREQ: ['release-manager'] });

  function flowOn(store: SqliteStore): ApprovalFlow {
    return new ApprovalFlow({ store: { ...store, approvals: new SqliteApprovalRepository(store.db) }, clock, roles });
  }

  function actions(store: SqliteStore): string[] {
    return [...store.audit.rows()].map((r) => `${r.actor} ${r.action}`);
  }

  beforeEach(() => {
    clock = manualClock('2026-11-22T10:00:00Z');
    dir = mkdtempSync(join(tmpdir(), 'lifeguard-approval-'));
    stores = [openStore(join(dir, 'db.sqlite'), { clock }), openStore(join(dir, 'db.sqlite'), { clock })];
  });
  afterEach(() => {
    for (const store of stores) store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('two approvers clicking at once through two connections give one approval and one "already approved"', async () => {
    const [a, b] = [flowOn(stores[0]!), flowOn(stores[1]!)];
    const opened = a.open(request);
    const results = await Promise.all([a.vote(opened.id, 'U01ALICE', 'approve'), b.vote(opened.id, 'U05FRANK', 'approve')]);
    const granted = results.filter((r) => r.ok);
    const refused = results.filter((r) => !r.ok);
    expect(granted).toHaveLength(1);
    expect(refused).toMatchObject([{ ok: false, denial: { reason: 'decided', state: 'granted' } }]);
    const record = a.get(opened.id)!;
    expect(record.state).toBe('granted');
    expect(record.votes).toHaveLength(1);
    expect(actions(stores[0]!).filter((x) => x.endsWith('approval.granted'))).toHaveLength(1);
    expect(stores[0]!.audit.verify()).toMatchObject({ ok: true });
  });

  it('a double click by the same approver records one vote', async () => {
    const flow = flowOn(stores[0]!);
    const opened = flow.open({ ...request, requirement: { mode: 'any', roles: ['release-manager'], count: 2 } });
    const results = await Promise.all([flow.vote(opened.id, 'U01ALICE', 'approve'), flow.vote(opened.id, 'U01ALICE', 'approve')]);
    expect(results.map((r) => (r.ok ? 'ok' : r.denial.reason)).sort()).toEqual(['already-voted', 'ok']);
    expect(flow.get(opened.id)).toMatchObject({ state: 'pending', votes: [{ user: 'U01ALICE' }] });
  });

  it('refuses the requester and a user without the role, auditing each denial', async () => {
    const flow = flowOn(stores[0]!);
    const opened = flow.open(request);
    expect(await flow.vote(opened.id, 'UREQ', 'approve')).toMatchObject({ ok: false, denial: { reason: 'requester' } });
    expect(await flow.vote(opened.id, 'U09BOB', 'approve')).toMatchObject({ ok: false, denial: { reason: 'no-role' } });
    expect(flow.get(opened.id)).toMatchObject({ state: 'pending', votes: [] });
    expect(actions(stores[0]!)).toEqual(['UREQ approval.requested', 'UREQ approval.denied', 'U09BOB approval.denied']);
  });

  it('an expired request refuses clicks and is marked expired once', async () => {
    const flow = flowOn(stores[0]!);
    const opened = flow.open(request);
    clock.advance(request.ttlMs);
    expect(await flow.vote(opened.id, 'U01ALICE', 'approve')).toMatchObject({ ok: false, denial: { reason: 'expired' }, record: { state: 'expired' } });
    expect(await flow.vote(opened.id, 'U05FRANK', 'approve')).toMatchObject({ ok: false, denial: { reason: 'decided', state: 'expired' } });
    expect(actions(stores[0]!).filter((x) => x.includes('approval.expired'))).toHaveLength(1);
  });

  it('grants at once when the policy needs no approval, and runs the executor of a granted kind', async () => {
    const ran: number[] = [];
    const flow = new ApprovalFlow({
      store: { ...stores[0]!, approvals: new SqliteApprovalRepository(stores[0]!.db) },
      clock,
      roles,
      executors: { rollback: async (r) => void ran.push(r.id) },
    });
    expect(flow.open({ ...request, environment: 'staging', requirement: { mode: 'any', roles: [], count: 0 } }).state).toBe('granted');
    const rollback = flow.open({ ...request, kind: 'rollback' });
    await flow.vote(rollback.id, 'U01ALICE', 'approve');
    expect(ran).toEqual([rollback.id]);
    expect(flow.canExecute('release')).toBe(false);
  });

  it('a failing executor leaves the grant recorded and audits the failure', async () => {
    const flow = new ApprovalFlow({
      store: { ...stores[0]!, approvals: new SqliteApprovalRepository(stores[0]!.db) },
      clock,
      roles,
      executors: { release: async () => Promise.reject(new Error('cluster unreachable')) },
    });
    const opened = flow.open(request);
    expect(await flow.vote(opened.id, 'U01ALICE', 'approve')).toMatchObject({ ok: true, record: { state: 'granted' } });
    const failed = [...stores[0]!.audit.rows()].find((r) => r.action === 'approval.execution_failed');
    expect(JSON.parse(failed!.detail)).toEqual({ request: opened.id, kind: 'release', error: 'cluster unreachable' });
  });
});
