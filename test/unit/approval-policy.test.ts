import { describe, expect, it } from 'vitest';
import { judgeVote, requirementFor, stillNeeded, type ApprovalRequest } from '../../src/domain/approval.js';
import { rolesHeldBy, usergroupsOf } from '../../src/domain/roles.js';
import { parseConfig } from '../../src/config/load.js';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

const config = parseConfig(parse(readFileSync('lifeguard.example.yaml', 'utf8')));
const t0 = new Date('2026-11-22T10:00:00Z');
const later = (minutes: number) => new Date(t0.getTime() + minutes * 60_000);

function request(overrides: Partial<ApprovalRequest> = {}): ApprovalRequest {
  return {
    id: 1,
    kind: 'release',
    service: 'checkout',
    environment: 'production',
    requester: 'UREQ',
    requirement: requirementFor(config, 'release', 'production'),
    state: 'pending',
    createdAt: t0,
    expiresAt: later(240),
    votes: [],
    ...overrides,
  };
}

describe('approval requirements', () => {
  it('follow the environment for releases and rollbacks, and the urgency for hotfixes', () => {
    expect(requirementFor(config, 'release', 'production')).toEqual({ mode: 'any', roles: ['release-manager'], count: 1 });
    expect(requirementFor(config, 'rollback', 'production')).toEqual({ mode: 'any', roles: ['release-manager', 'on-call'], count: 1 });
    expect(requirementFor(config, 'release', 'staging')).toEqual({ mode: 'any', roles: [], count: 0 });
    expect(requirementFor(config, 'hotfix', 'production', 'critical')).toEqual({ mode: 'each', roles: ['on-call'] });
    expect(requirementFor(config, 'hotfix', 'production', 'high')).toEqual({ mode: 'each', roles: ['team-lead', 'platform-owner'] });
  });
});

describe('a click on Approve', () => {
  const click = { decision: 'approve' as const, now: later(1) };

  it('grants a request that needs one approver holding the role', () => {
    const judged = judgeVote(request(), { ...click, user: 'U01ALICE', userRoles: ['release-manager'] });
    expect(judged).toMatchObject({ ok: true, next: 'granted', vote: { user: 'U01ALICE', role: 'release-manager' } });
  });

  it('refuses the requester, even one holding the role', () => {
    const judged = judgeVote(request({ requester: 'U01ALICE' }), { ...click, user: 'U01ALICE', userRoles: ['release-manager'] });
    expect(judged).toMatchObject({ ok: false, denial: { reason: 'requester' } });
  });

  it('refuses someone without any required role', () => {
    const judged = judgeVote(request(), { ...click, user: 'U09BOB', userRoles: [] });
    expect(judged).toMatchObject({ ok: false, denial: { reason: 'no-role', roles: ['release-manager'] } });
  });

  it('refuses a request that has expired, and says it should be marked expired', () => {
    const judged = judgeVote(request(), { ...click, now: later(240), user: 'U01ALICE', userRoles: ['release-manager'] });
    expect(judged).toMatchObject({ ok: false, expire: true, denial: { reason: 'expired' } });
  });

  it('refuses a second approval once granted and names who approved', () => {
    const first = judgeVote(request(), { ...click, user: 'U01ALICE', userRoles: ['release-manager'] });
    if (!first.ok) throw new Error('first click should count');
    const granted = request({ state: 'granted', votes: [first.vote] });
    const second = judgeVote(granted, { ...click, user: 'U05FRANK', userRoles: ['release-manager'] });
    expect(second).toMatchObject({ ok: false, denial: { reason: 'decided', state: 'granted', by: { user: 'U01ALICE' } } });
  });

  it('needs one different person per role for a high-urgency hotfix', () => {
    let hotfix = request({ kind: 'hotfix', requirement: requirementFor(config, 'hotfix', 'production', 'high') });
    const carol = judgeVote(hotfix, { ...click, user: 'U02CAROL', userRoles: ['team-lead'] });
    expect(carol).toMatchObject({ ok: true, next: 'pending' });
    if (!carol.ok) return;
    hotfix = { ...hotfix, votes: [carol.vote] };
    expect(stillNeeded(hotfix.requirement, hotfix.votes)).toEqual({ count: 1, roles: ['platform-owner'] });
    const anotherLead = judgeVote(hotfix, { ...click, user: 'U07GINA', userRoles: ['team-lead'] });
    expect(anotherLead).toMatchObject({ ok: false, denial: { reason: 'role-filled', open: ['platform-owner'] } });
    const dave = judgeVote(hotfix, { ...click, user: 'U03DAVE', userRoles: ['platform-owner'] });
    expect(dave).toMatchObject({ ok: true, next: 'granted' });
  });

  it('counts a vote once per person', () => {
    const rollback = request({ kind: 'rollback', requirement: { mode: 'any', roles: ['on-call'], count: 2 } });
    const first = judgeVote(rollback, { ...click, user: 'U1', userRoles: ['on-call'] });
    if (!first.ok) throw new Error('first click should count');
    const again = judgeVote({ ...rollback, votes: [first.vote] }, { ...click, user: 'U1', userRoles: ['on-call'] });
    expect(again).toMatchObject({ ok: false, denial: { reason: 'already-voted' } });
  });
});

describe('a click on Reject', () => {
  it('refuses the request outright when made by an approver', () => {
    const judged = judgeVote(request(), { decision: 'reject', now: later(1), user: 'U01ALICE', userRoles: ['release-manager'], reason: 'freeze' });
    expect(judged).toMatchObject({ ok: true, next: 'refused', vote: { reason: 'freeze' } });
  });
});

describe('roles', () => {
  it('are held directly or through a usergroup, and an unresolved group grants nothing', () => {
    const groups = new Map([['release-managers', new Set(['U05FRANK'])]]);
    expect(rolesHeldBy('U05FRANK', config.roles, ['release-manager', 'on-call'], groups)).toEqual(['release-manager']);
    expect(rolesHeldBy('U01ALICE', config.roles, ['release-manager'], new Map())).toEqual(['release-manager']);
    expect(rolesHeldBy('U08HANK', config.roles, ['on-call'], new Map())).toEqual([]);
    expect(usergroupsOf(config.roles, ['release-manager', 'on-call', 'team-lead'])).toEqual(['release-managers', 'oncall']);
  });
});
