import { describe, expect, it } from 'vitest';
import type { Plan } from '../../src/domain/plans.js';
import { ApprovalFlow, type OpenApproval } from '../../src/flows/approval.js';
import { manualClock, memoryStore, roleDirectory } from '../support/memory-ports.js';

/*
 * The approval flow against in-memory ports: the rules people meet at click time, and what each decision writes.
 * test/integration/slack/approval-flow.test.ts runs the same flow on SQLite, with concurrent writers.
 */

const plan: Plan = { kind: 'release', service: 'checkout', environment: 'production', version: '1.5.0', strategy: 'canary', running: null, steps: [5, 25, 50, 100], pauseForApprovalAt: [50] };
const request: OpenApproval = {
  kind: 'release',
  service: 'checkout',
  environment: 'production',
  requester: 'U09BOB',
  requirement: { mode: 'any', roles: ['release-manager'], count: 1 },
  ttlMs: 60 * 60_000,
  plan,
};
const card = { channel: 'C0CHECKOUT', messageTs: '1700000000.000100' };

function setUp(executors: ConstructorParameters<typeof ApprovalFlow>[0]['executors'] = {}) {
  const store = memoryStore();
  const clock = manualClock('2026-11-22T10:00:00Z');
  const flow = new ApprovalFlow({ store, clock, roles: roleDirectory({ U01ALICE: ['release-manager'], U05FRANK: ['release-manager'], U09BOB: ['release-manager'] }), executors });
  const open = (input: Partial<OpenApproval> = {}) => {
    const record = flow.open({ ...request, ...input });
    flow.attachMessage(record.id, card.channel, card.messageTs);
    return record;
  };
  return { store, clock, flow, open };
}

describe('approval flow, without servers', () => {
  it('a request the policy asks nothing for is granted at once, and the plan is in its audit row', () => {
    const { store, open } = setUp();
    const record = open({ requirement: { mode: 'any', roles: [], count: 0 } });
    expect(record.state).toBe('granted');
    expect(store.audit.actions()).toEqual(['approval.requested', 'approval.granted', 'approval.card_posted']);
    expect(store.audit.rows[0]!.detail).toMatchObject({ request: record.id, plan });
  });

  it('the requester cannot approve their own request, and the refusal is audited', async () => {
    const { store, flow, open } = setUp();
    const { id } = open();
    expect(await flow.vote(id, 'U09BOB', 'approve', { card })).toMatchObject({ ok: false, denial: { reason: 'requester' } });
    expect(store.approvals.get(id)!.state).toBe('pending');
    expect(store.audit.rows.at(-1)).toMatchObject({ actor: 'U09BOB', action: 'approval.denied', detail: { why: 'requester' } });
  });

  it('a click without the role is refused, naming the roles that may approve', async () => {
    const { flow, open } = setUp();
    const { id } = open();
    expect(await flow.vote(id, 'U07EVE', 'approve', { card })).toMatchObject({ ok: false, denial: { reason: 'no-role', roles: ['release-manager'] } });
  });

  it('two approvers at once when one is needed: one grant, one "already decided", one grant row', async () => {
    const { store, flow, open } = setUp();
    const { id } = open();
    const [a, b] = await Promise.all([flow.vote(id, 'U01ALICE', 'approve', { card }), flow.vote(id, 'U05FRANK', 'approve', { card })]);
    expect([a.ok, b.ok].sort()).toEqual([false, true]);
    expect((a.ok ? b : a) as { denial: { reason: string } }).toMatchObject({ denial: { reason: 'decided' } });
    expect(store.audit.actions().filter((action) => action === 'approval.granted')).toHaveLength(1);
  });

  it('a click from another card, or before the card is known, acts on nothing', async () => {
    const { store, flow, open } = setUp();
    const { id } = open();
    expect(await flow.vote(id, 'U01ALICE', 'approve', { card: { ...card, messageTs: '1700000000.999999' } })).toMatchObject({ ok: false, denial: { reason: 'wrong-card' } });
    const fresh = flow.open(request);
    expect(await flow.vote(fresh.id, 'U01ALICE', 'approve', { card })).toMatchObject({ ok: false, denial: { reason: 'no-card' } });
    expect(store.approvals.get(id)!.votes).toEqual([]);
  });

  it('a request past its time expires in the sweep, and a later click is refused as expired', async () => {
    const { store, clock, flow, open } = setUp();
    const { id } = open();
    clock.advance(61 * 60_000);
    expect(flow.expireDue().map((r) => r.id)).toEqual([id]);
    expect(await flow.vote(id, 'U01ALICE', 'approve', { card })).toMatchObject({ ok: false, denial: { reason: 'decided', state: 'expired' } });
    expect(store.audit.actions()).toContain('approval.expired');
  });

  it('a rejection with its reason refuses the request; an executor that fails keeps the grant and is audited', async () => {
    const { store, flow, open } = setUp({ release: async () => Promise.reject(new Error('cluster unreachable')) });
    const rejected = open();
    expect(await flow.vote(rejected.id, 'U01ALICE', 'reject', { reason: 'not during the sale', card })).toMatchObject({ ok: true, record: { state: 'refused' } });
    expect(store.approvals.get(rejected.id)!.votes[0]).toMatchObject({ decision: 'reject', reason: 'not during the sale' });

    const granted = open();
    expect(await flow.vote(granted.id, 'U01ALICE', 'approve', { card: { channel: card.channel, messageTs: card.messageTs } })).toMatchObject({ ok: true, record: { state: 'granted' } });
    expect(store.audit.rows.at(-1)).toMatchObject({ action: 'approval.execution_failed', detail: { request: granted.id, error: 'cluster unreachable' } });
  });
});
