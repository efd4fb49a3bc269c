import type { Config, Urgency } from '../config/schema.js';
import type { Plan } from './plans.js';

/**
 * Approval policy, free of I/O: what a request needs, and whether one click may count towards it.
 */

export const APPROVAL_KINDS = ['release', 'rollback', 'hotfix'] as const;
export type ApprovalKind = (typeof APPROVAL_KINDS)[number];

/**
 * `any`: `count` different people, each holding at least one of `roles` (environment approvals).
 * `each`: one different person per role, every role covered (hotfix approvers by urgency).
 */
export type Requirement = { mode: 'any'; roles: string[]; count: number } | { mode: 'each'; roles: string[] };

export type ApprovalState = 'pending' | 'granted' | 'refused' | 'expired';

export interface Vote {
  user: string;
  decision: 'approve' | 'reject';
  /** The role the vote counted for. */
  role: string;
  at: Date;
  reason?: string | undefined;
}

export interface ApprovalRequest {
  id: number;
  kind: ApprovalKind;
  service: string;
  environment: string;
  requester: string;
  requirement: Requirement;
  state: ApprovalState;
  createdAt: Date;
  expiresAt: Date;
  votes: Vote[];
}

/** A request as stored: what it plans to do, and where its card is. */
export interface ApprovalRecord extends ApprovalRequest {
  /** Computed when the request was opened; the card and the audit log show this. */
  plan: Plan;
  decidedAt?: Date | undefined;
  channel?: string | undefined;
  messageTs?: string | undefined;
}

export type NewApproval = Omit<ApprovalRecord, 'id' | 'votes' | 'decidedAt' | 'channel' | 'messageTs'>;

/** What `kind` needs in `environment`; a hotfix's approvers follow its urgency. */
export function requirementFor(
  config: Pick<Config, 'environments' | 'hotfix'>,
  kind: ApprovalKind,
  environment: string,
  urgency?: Urgency,
): Requirement {
  if (kind === 'hotfix') {
    if (urgency === undefined) throw new Error('a hotfix approval needs its urgency');
    return { mode: 'each', roles: [...config.hotfix.approvers[urgency]] };
  }
  const env = Object.hasOwn(config.environments, environment) ? config.environments[environment] : undefined;
  if (!env) throw new Error(`no environment "${environment}" in the config`);
  const rule = env.approvals[kind];
  return { mode: 'any', roles: [...rule.roles], count: rule.count };
}

/** Roles that may still approve and how many approvals are missing. */
export function stillNeeded(requirement: Requirement, votes: readonly Vote[]): { count: number; roles: string[] } {
  const approvals = votes.filter((v) => v.decision === 'approve');
  if (requirement.mode === 'any') {
    return { count: Math.max(0, requirement.count - approvals.length), roles: requirement.roles };
  }
  const open = requirement.roles.filter((role) => !approvals.some((v) => v.role === role));
  return { count: open.length, roles: open };
}

export function isSatisfied(requirement: Requirement, votes: readonly Vote[]): boolean {
  return stillNeeded(requirement, votes).count === 0;
}

export type Denial =
  | { reason: 'requester' }
  | { reason: 'no-role'; roles: string[] }
  | { reason: 'already-voted'; vote: Vote }
  | { reason: 'role-filled'; held: string[]; open: string[] }
  | { reason: 'decided'; state: Exclude<ApprovalState, 'pending'>; by?: Vote | undefined }
  | { reason: 'expired'; expiresAt: Date };

export type Judgement =
  | { ok: true; vote: Vote; next: ApprovalState }
  | { ok: false; denial: Denial; /** set when this click is what finds the request expired */ expire: boolean };

/**
 * Judges one click at click time. `userRoles` are the request's required roles the clicker holds now.
 * The requester never approves or refuses their own request; a refusal by one approver refuses the request.
 */
export function judgeVote(
  request: ApprovalRequest,
  click: { user: string; decision: 'approve' | 'reject'; userRoles: readonly string[]; now: Date; reason?: string },
): Judgement {
  if (request.state !== 'pending') {
    const by = [...request.votes].reverse().find((v) => (request.state === 'refused' ? v.decision === 'reject' : v.decision === 'approve'));
    return { ok: false, denial: { reason: 'decided', state: request.state, by }, expire: false };
  }
  if (click.now.getTime() >= request.expiresAt.getTime()) {
    return { ok: false, denial: { reason: 'expired', expiresAt: request.expiresAt }, expire: true };
  }
  if (click.user === request.requester) return { ok: false, denial: { reason: 'requester' }, expire: false };
  const previous = request.votes.find((v) => v.user === click.user);
  if (previous) return { ok: false, denial: { reason: 'already-voted', vote: previous }, expire: false };
  const held = request.requirement.roles.filter((role) => click.userRoles.includes(role));
  if (held.length === 0) return { ok: false, denial: { reason: 'no-role', roles: request.requirement.roles }, expire: false };

  const open = stillNeeded(request.requirement, request.votes).roles;
  const role = held.find((r) => open.includes(r));
  if (click.decision === 'approve' && role === undefined) {
    return { ok: false, denial: { reason: 'role-filled', held, open }, expire: false };
  }
  const vote: Vote = { user: click.user, decision: click.decision, role: role ?? held[0]!, at: click.now, reason: click.reason };
  if (click.decision === 'reject') return { ok: true, vote, next: 'refused' };
  return { ok: true, vote, next: isSatisfied(request.requirement, [...request.votes, vote]) ? 'granted' : 'pending' };
}

/** Where a request's card is, and where a click comes from: a Slack channel id and message ts. */
export interface CardRef {
  channel: string;
  messageTs: string;
}

/**
 * A click acts only on the request whose card carries the button. A request with no card recorded yet (just
 * opened, or its card could not be posted) takes no click: nothing shows the click came from its card, and
 * taking it would let any card's buttons act on a fresh request.
 */
export function cardDenial(card: Partial<CardRef>, clicked: CardRef): 'wrong-card' | 'no-card' | undefined {
  if (card.channel === undefined || card.messageTs === undefined) return 'no-card';
  return card.channel === clicked.channel && card.messageTs === clicked.messageTs ? undefined : 'wrong-card';
}

