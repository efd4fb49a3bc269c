import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { ServiceState } from '../../src/domain/cluster-state.js';
import { ApprovalFlow } from '../../src/flows/approval.js';
import { RequestFlow } from '../../src/flows/requests.js';
import { newOperation, type Operation } from '../../src/domain/operation.js';
import type { NewWaiter } from '../../src/domain/lock.js';
import { revision, serviceState } from '../support/cluster-fixtures.js';
import { manualClock, MemoryChat, memoryStore, readOnlyWorkloads, roleDirectory } from '../support/memory-ports.js';

/* Opening requests against in-memory ports: one cluster read, a plan from the domain, the card through Chat. */

const config = loadConfig('lifeguard.example.yaml', {});

const production = serviceState(revision(3, '1.4.2'), [revision(2, '1.4.1')], 25, 0);

/** Freezes and holds are tested in release-rules.test.ts; here every request passes them. */
const admitAll = { admit: async () => ({ ok: true as const, marks: {} }) };

function setUp(states: Record<string, ServiceState | Error>, running: Operation[] = []) {
  const store = memoryStore();
  const approvals = new ApprovalFlow({ store, clock: manualClock('2026-11-22T10:00:00Z'), roles: roleDirectory({}) });
  const chat = new MemoryChat();
  const operations = { active: (service: string, environment: string) => running.find((op) => op.service === service && op.environment === environment) };
  const waiters: NewWaiter[] = [];
  const add = (waiter: NewWaiter, at: Date) => {
    const added = !waiters.some((w) => w.operationId === waiter.operationId && w.user === waiter.user);
    if (added) waiters.push(waiter);
    return { waiter: { ...waiter, createdAt: at.toISOString(), notifiedAt: null }, added };
  };
  const clock = manualClock('2026-11-22T10:00:00Z');
  const requests = new RequestFlow({ config, workloads: readOnlyWorkloads(states), approvals, chat, operations, audit: store.audit, waiters: { add }, transaction: store.transaction, clock, rules: admitAll, readTimeoutMs: 1_000 });
  return { store, chat, requests, waiters };
}

describe('request flow, without servers', () => {
  it('a rollback request carries where kubectl rollout undo would go, and its card is posted and attached', async () => {
    const { store, chat, requests } = setUp({ 'checkout/production': production });
    const opened = await requests.open('U09BOB', { kind: 'rollback', service: 'checkout', environment: 'production', reason: 'errors' });
    expect(opened).toMatchObject({ posted: true, channel: 'C0CHECKOUT', request: { channel: 'C0CHECKOUT', messageTs: '1700000000.000001' } });
    expect('request' in opened && opened.request.plan).toMatchObject({
      kind: 'rollback',
      running: { version: '1.4.2', revision: 3 },
      target: { kind: 'rollback', from: 3, to: 2, image: 'shop/checkout:1.4.1' },
      canaryWeightNow: 25,
    });
    expect(chat.cards).toEqual([{ channel: '#checkout-releases', card: expect.objectContaining({ executionAvailable: false }) }]);
    expect(store.audit.actions()).toEqual(['approval.requested', 'approval.card_posted']);
  });

  it('a cluster that cannot be read still gives a card, with the running version unknown and the reason', async () => {
    const { requests } = setUp({ 'checkout/production': new Error('Deployment shop/checkout not found') });
    const opened = await requests.open('U09BOB', { kind: 'release', service: 'checkout', environment: 'production', version: '1.5.0', strategy: 'canary' });
    expect(opened).toMatchObject({ posted: true, clusterUnread: 'Deployment shop/checkout not found', request: { plan: { running: null, steps: [5, 25, 50, 100] } } });
  });

  it('a card Slack refuses leaves the request recorded, says why, and tells the caller as soon as it is recorded', async () => {
    const { store, chat, requests } = setUp({ 'checkout/production': production });
    chat.failWith = 'not_in_channel';
    const recorded: number[] = [];
    const opened = await requests.open('U09BOB', { kind: 'hotfix', service: 'checkout', environment: 'production', version: '1.4.3', urgency: 'critical', reason: 'CVE' }, (r) => recorded.push(r.id));
    expect(opened).toMatchObject({ posted: false, error: 'not_in_channel', request: { id: 1, plan: { path: 'direct' } } });
    expect(recorded).toEqual([1]);
    expect(store.approvals.get(1)!.messageTs).toBeUndefined();
  });

  it('a second release while one runs is refused with the running one, audited, and no request is opened', async () => {
    const running = newOperation(
      {
        id: 7, requestId: 3, kind: 'release', strategy: 'canary', service: 'checkout', environment: 'production',
        from: { version: '1.4.2', image: 'shop/checkout:1.4.2', revision: 3 }, to: { version: '1.5.0', image: 'shop/checkout:1.5.0' },
        steps: [5, 100], pauseForApprovalAt: [], requestedBy: 'U09BOB', approvedBy: ['U01ALICE'], card: { channel: 'C0CHECKOUT', ts: '1700000000.000003' },
      },
      new Date('2026-11-22T09:55:00Z'),
    );
    const { store, chat, requests, waiters } = setUp({ 'checkout/production': production }, [running]);
    const opened = await requests.open('U09CAROL', { kind: 'release', service: 'checkout', environment: 'production', version: '1.6.0', strategy: 'canary' });
    expect(opened).toEqual({
      posted: false,
      channel: '#checkout-releases',
      refusedAt: new Date('2026-11-22T10:00:00Z'),
      busy: {
        operationId: 7, kind: 'release', service: 'checkout', environment: 'production', fromVersion: '1.4.2', toVersion: '1.5.0',
        requestedBy: 'U09BOB', approvedBy: ['U01ALICE'], state: 'running', headline: 'Deploying the canary 1.5.0',
        since: '2026-11-22T09:55:00.000Z', thread: { channel: 'C0CHECKOUT', ts: '1700000000.000003' },
      },
    });
    expect(chat.cards).toEqual([]);
    expect(store.approvals.rows.size).toBe(0);
    expect(waiters).toEqual([{ operationId: 7, service: 'checkout', environment: 'production', user: 'U09CAROL', asked: { kind: 'release', version: '1.6.0' } }]);
    expect(store.audit.rows).toEqual([
      expect.objectContaining({ actor: 'U09CAROL', action: 'request.refused', detail: expect.objectContaining({ running: 7, version: '1.6.0', waiter: { since: '2026-11-22T10:00:00.000Z', added: true } }) }),
    ]);
  });

  it('status reads each environment, and names why one cannot be read', async () => {
    const { requests } = setUp({ 'checkout/production': production, 'checkout/staging': new Error('cluster away') });
    expect(await requests.status('checkout')).toEqual([
      { service: 'checkout', environment: 'staging', ok: false, why: 'cluster away' },
      { service: 'checkout', environment: 'production', ok: true, version: '1.4.2', revision: 3, canaryWeight: 25 },
    ]);
  });
});
