import { describe, expect, it } from 'vitest';
import { compareApprovals, compareReleases, type LoggedEvent, type StoredRequest } from '../../src/domain/state-replay.js';

const requirement = { mode: 'any', roles: ['release-manager'], count: 1 };
const command = { version: '1.5.0', env: 'production' };

/** The rows flows/approval.ts writes for request 1 (approved by Alice, granted) and request 2 (still pending). */
const events: LoggedEvent[] = [
  { row: 1, actor: 'U09BOB', action: 'approval.requested', subject: 'checkout/production', detail: { request: 1, kind: 'release', requirement, command } },
  { row: 2, actor: 'lifeguard', action: 'approval.card_posted', subject: 'checkout/production', detail: { request: 1, channel: 'C0CHECKOUT', ts: '1700000000.000100' } },
  { row: 3, actor: 'U07MALLORY', action: 'approval.denied', subject: 'checkout/production', detail: { request: 1, decision: 'approve', why: 'no-role' } },
  { row: 4, actor: 'U01ALICE', action: 'approval.approved', subject: 'checkout/production', detail: { request: 1, role: 'release-manager' } },
  { row: 5, actor: 'lifeguard', action: 'approval.granted', subject: 'checkout/production', detail: { request: 1, kind: 'release', votes: [] } },
  { row: 6, actor: 'U09BOB', action: 'approval.requested', subject: 'checkout/staging', detail: { request: 2, kind: 'rollback', requirement, command: { reason: 'bad' } } },
  { row: 7, actor: 'lifeguard', action: 'analysis.verdict', subject: 'checkout/production', detail: { verdict: 'pass' } },
];

const agreeing = (): StoredRequest[] => [
  {
    id: 1, kind: 'release', service: 'checkout', environment: 'production', requester: 'U09BOB', requirement: { count: 1, mode: 'any', roles: ['release-manager'] }, summary: command,
    state: 'granted', channel: 'C0CHECKOUT', messageTs: '1700000000.000100', votes: [{ voter: 'U01ALICE', decision: 'approve', role: 'release-manager', reason: null }],
  },
  { id: 2, kind: 'rollback', service: 'checkout', environment: 'staging', requester: 'U09BOB', requirement, summary: { reason: 'bad' }, state: 'pending', channel: null, messageTs: null, votes: [] },
];

const fields = (stored: StoredRequest[], log = events) => compareApprovals(log, stored).map((d) => `${d.table} ${d.id} ${d.field}`);

describe('compareApprovals', () => {
  it('finds nothing when the tables are what the log replays to', () => {
    expect(compareApprovals(events, agreeing())).toEqual([]);
  });

  it('names the request and the field of a state flipped in the table', () => {
    const stored = agreeing();
    stored[1]!.state = 'granted';
    expect(compareApprovals(events, stored)).toEqual([
      { table: 'approval_requests', id: 2, field: 'state', message: 'approval request 2: state is "granted" in approval_requests, the log says "pending"' },
    ]);
  });

  it('names a changed requester, subject and requirement', () => {
    const stored = agreeing();
    Object.assign(stored[0]!, { requester: 'U01ALICE', environment: 'staging', requirement: { ...requirement, count: 0 } });
    expect(fields(stored)).toEqual(['approval_requests 1 requester', 'approval_requests 1 service/environment', 'approval_requests 1 requirement']);
  });

  it('names votes added, removed or changed without their row', () => {
    const added = agreeing();
    added[1]!.votes.push({ voter: 'U01ALICE', decision: 'approve', role: 'release-manager', reason: null });
    expect(compareApprovals(events, added)[0]!.message).toBe('approval request 2: vote of U01ALICE is {"decision":"approve","role":"release-manager"} in approval_votes, the log says nothing');

    const removed = agreeing();
    removed[0]!.votes = [];
    expect(fields(removed)).toEqual(['approval_votes 1 vote of U01ALICE']);

    const changed = agreeing();
    changed[0]!.votes[0]!.reason = 'looks fine';
    expect(fields(changed)).toEqual(['approval_votes 1 vote of U01ALICE']);
  });

  it('names a card moved to another message', () => {
    const stored = agreeing();
    stored[0]!.messageTs = '1700000000.999999';
    expect(fields(stored)).toEqual(['approval_requests 1 message_ts']);
  });

  it('names requests only in the table or only in the log', () => {
    const stored = agreeing();
    stored.push({ ...stored[1]!, id: 3 });
    expect(fields(stored)).toEqual(['approval_requests 3 request']);
    expect(compareApprovals(events, agreeing().slice(0, 1))[0]!.message).toBe('approval request 2: opened in the log (row 6), but missing from approval_requests');
  });

  it('replays expiry and refusal', () => {
    const log: LoggedEvent[] = [
      ...events,
      { row: 8, actor: 'U01ALICE', action: 'approval.rejected', subject: 'checkout/staging', detail: { request: 2, role: 'release-manager', reason: 'not now' } },
      { row: 9, actor: 'lifeguard', action: 'approval.refused', subject: 'checkout/staging', detail: { request: 2 } },
    ];
    const stored = agreeing();
    Object.assign(stored[1]!, { state: 'refused', votes: [{ voter: 'U01ALICE', decision: 'reject', role: 'release-manager', reason: 'not now' }] });
    expect(compareApprovals(log, stored)).toEqual([]);
    stored[1]!.state = 'expired';
    expect(fields(stored, log)).toEqual(['approval_requests 2 state']);
  });
});

describe('compareReleases', () => {
  const log: LoggedEvent[] = [
    { row: 1, actor: 'U09BOB', action: 'release.started', subject: 'checkout/production', detail: { release: 'r1', state: 'running' } },
    { row: 2, actor: 'U01ALICE', action: 'release.control_unavailable', subject: 'unknown', detail: { control: 'abort', release: 'r1' } },
    { row: 3, actor: 'lifeguard', action: 'release.finished', subject: 'checkout/production', detail: { release: 'r1', state: 'done' } },
  ];

  it('agrees with a release whose last state-carrying row matches', () => {
    expect(compareReleases(log, [{ id: 'r1', state: 'done', requestedBy: 'U09BOB' }])).toEqual([]);
    expect(compareReleases([], [])).toEqual([]);
  });

  it('names a release state, requester, or a release the log does not know', () => {
    expect(compareReleases(log, [{ id: 'r1', state: 'running', requestedBy: 'U01ALICE' }]).map((d) => d.field)).toEqual(['state', 'requested_by']);
    expect(compareReleases([], [{ id: 'r9', state: 'done', requestedBy: 'U09BOB' }])[0]!.message).toBe('release r9: in releases, but no release.* row of the log carries its state');
    expect(compareReleases(log, [])[0]!.message).toBe('release r1: in the log (row 1), but missing from releases');
  });
});
