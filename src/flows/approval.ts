import type { ApprovalStore, Clock, RoleDirectory } from '../ports.js';
import type { Plan } from '../domain/plans.js';
import {
  cardDenial,
  isSatisfied,
  judgeVote,
  type CardRef,
  type ApprovalKind,
  type ApprovalRecord,
  type Denial,
  type Requirement,
  type Vote,
} from '../domain/approval.js';

/**
 * The generic approval mechanism: a request with its required roles and count, its requester and expiry,
 * and what happens once it is granted. Release, rollback and hotfix flows plug in through `ApprovalExecutors`.
 */

/**
 * Runs what a granted request asked for. An executor starts the work and returns; it reports progress and
 * failure itself. A kind without one is recorded as granted and not executed.
 */
export type ApprovalExecutors = Partial<Record<ApprovalKind, (request: ApprovalRecord) => Promise<void>>>;

export type VoteDenial = Denial | { reason: 'not-found' | 'wrong-card' | 'no-card'; id: number };

/** What comes with a click: the reason of a rejection, and the card it was clicked on (absent outside Slack). */
export interface ClickDetails {
  reason?: string | undefined;
  card?: CardRef | undefined;
}

export type VoteResult =
  | { ok: true; record: ApprovalRecord; vote: Vote }
  | { ok: false; denial: VoteDenial; record?: ApprovalRecord | undefined };

export interface OpenApproval {
  kind: ApprovalKind;
  service: string;
  environment: string;
  requester: string;
  requirement: Requirement;
  ttlMs: number;
  plan: Plan;
}

export class ApprovalFlow {
  constructor(
    private readonly deps: {
      store: ApprovalStore;
      clock: Clock;
      roles: RoleDirectory;
      executors?: ApprovalExecutors;
    },
  ) {}

  /** Whether a granted request of this kind runs anything yet. */
  canExecute(kind: ApprovalKind): boolean {
    return this.deps.executors?.[kind] !== undefined;
  }

  /** Records a new request; one the policy does not ask approval for is granted at once. */
  open(input: OpenApproval): ApprovalRecord {
    const { store, clock } = this.deps;
    const now = clock.now();
    const subject = `${input.service}/${input.environment}`;
    const granted = isSatisfied(input.requirement, []);
    const id = store.transaction(() => {
      const newId = store.approvals.insert({
        kind: input.kind,
        service: input.service,
        environment: input.environment,
        requester: input.requester,
        requirement: input.requirement,
        plan: input.plan,
        state: granted ? 'granted' : 'pending',
        createdAt: now,
        expiresAt: new Date(now.getTime() + input.ttlMs),
      });
      store.audit.append({
        actor: input.requester,
        action: 'approval.requested',
        subject,
        detail: { request: newId, kind: input.kind, requirement: input.requirement, plan: input.plan },
      });
      if (granted) {
        store.audit.append({
          actor: 'lifeguard',
          action: 'approval.granted',
          subject,
          detail: { request: newId, kind: input.kind, why: 'the policy requires no approval' },
        });
      }
      return newId;
    });
    return this.get(id)!;
  }

  get(id: number): ApprovalRecord | undefined {
    return this.deps.store.approvals.get(id);
  }

  /** Which message is the request's card is state too (clicks are checked against it), so it is audited. */
  attachMessage(id: number, channel: string, ts: string): void {
    const { store } = this.deps;
    store.transaction(() => {
      store.approvals.attachMessage(id, channel, ts);
      const record = store.approvals.get(id);
      const subject = record ? `${record.service}/${record.environment}` : 'unknown';
      store.audit.append({ actor: 'lifeguard', action: 'approval.card_posted', subject, detail: { request: id, channel, ts } });
    });
  }

  /**
   * One click on Approve or Reject, checked at click time. Roles are resolved first (it may ask Slack); the
   * judgement and its writes then happen in one transaction against the stored state, so double clicks, two
   * approvers at once and retried requests can only ever move a request once.
   */
  async vote(id: number, user: string, decision: 'approve' | 'reject', details: ClickDetails = {}): Promise<VoteResult> {
    const result = await this.judge(id, user, decision, details, true);
    if (result.ok && result.record.state === 'granted') await this.execute(result.record);
    return result;
  }

  /**
   * Whether a click would count, without recording it: used before asking a rejecter why, so nobody types a
   * reason only to be refused. A refusal is audited all the same.
   */
  check(id: number, user: string, decision: 'approve' | 'reject', card?: CardRef): Promise<VoteResult> {
    return this.judge(id, user, decision, { card }, false);
  }

  private async judge(id: number, user: string, decision: 'approve' | 'reject', details: ClickDetails, recordVote: boolean): Promise<VoteResult> {
    const { store, clock, roles } = this.deps;
    const { reason, card } = details;
    const before = store.approvals.get(id);
    if (!before) {
      store.audit.append({ actor: user, action: 'approval.denied', subject: 'unknown', detail: { request: id, decision, why: 'not-found' } });
      return { ok: false, denial: { reason: 'not-found', id } };
    }
    // Checked before anything else, so a click from elsewhere learns nothing about the request's state.
    const misplaced = card ? cardDenial(before, card) : undefined;
    if (misplaced) {
      store.audit.append({
        actor: user,
        action: 'approval.denied',
        subject: `${before.service}/${before.environment}`,
        detail: { request: id, decision, why: misplaced, clickedOn: card },
      });
      return { ok: false, denial: { reason: misplaced, id } };
    }
    const userRoles = await roles.rolesOf(user, before.requirement.roles);
    return store.transaction((): VoteResult => {
      const current = store.approvals.get(id)!;
      const subject = `${current.service}/${current.environment}`;
      const now = clock.now();
      const judged = judgeVote(current, { user, decision, userRoles, now, ...(reason !== undefined ? { reason } : {}) });
      if (!judged.ok) {
        if (judged.expire && store.approvals.transition(id, 'pending', 'expired', now)) {
          store.audit.append({ actor: 'lifeguard', action: 'approval.expired', subject, detail: { request: id, expiresAt: current.expiresAt.toISOString() } });
        }
        store.audit.append({
          actor: user,
          action: 'approval.denied',
          subject,
          detail: { request: id, decision, why: judged.denial.reason, rolesHeld: userRoles },
        });
        return { ok: false, denial: judged.denial, record: store.approvals.get(id) };
      }
      if (!recordVote) return { ok: true, record: current, vote: judged.vote };
      store.approvals.addVote(id, judged.vote);
      store.audit.append({
        actor: user,
        action: decision === 'approve' ? 'approval.approved' : 'approval.rejected',
        subject,
        detail: { request: id, role: judged.vote.role, ...(reason !== undefined ? { reason } : {}) },
      });
      if (judged.next !== 'pending') {
        if (!store.approvals.transition(id, 'pending', judged.next, now)) {
          throw new Error(`approval request ${id} changed state while its vote was being recorded`);
        }
        store.audit.append({
          actor: 'lifeguard',
          action: judged.next === 'granted' ? 'approval.granted' : 'approval.refused',
          subject,
          detail: { request: id, kind: current.kind, votes: [...current.votes, judged.vote].map((v) => ({ user: v.user, decision: v.decision, role: v.role })) },
        });
      }
      return { ok: true, record: store.approvals.get(id)!, vote: judged.vote };
    });
  }

  /** Marks every pending request past its expiry as expired (each with its audit row); returns them. */
  expireDue(): ApprovalRecord[] {
    const { store, clock } = this.deps;
    const now = clock.now();
    return store.transaction(() =>
      store.approvals.pendingExpiredBy(now).flatMap((id) => {
        if (!store.approvals.transition(id, 'pending', 'expired', now)) return [];
        const record = store.approvals.get(id)!;
        store.audit.append({
          actor: 'lifeguard',
          action: 'approval.expired',
          subject: `${record.service}/${record.environment}`,
          detail: { request: id, expiresAt: record.expiresAt.toISOString() },
        });
        return [record];
      }),
    );
  }

  /**
   * Runs a request the policy granted when it was opened, once its card is posted (its thread is where the work
   * reports). A request not granted, or of a kind nothing executes, is left as it is.
   */
  async executeIfGranted(id: number): Promise<void> {
    const record = this.get(id);
    if (record?.state === 'granted') await this.execute(record);
  }

  /** A failing executor does not undo the grant: the failure is audited and the card still shows the decision. */
  private async execute(record: ApprovalRecord): Promise<void> {
    const executor = this.deps.executors?.[record.kind];
    if (!executor) return;
    try {
      await executor(record);
    } catch (error) {
      this.deps.store.audit.append({
        actor: 'lifeguard',
        action: 'approval.execution_failed',
        subject: `${record.service}/${record.environment}`,
        detail: { request: record.id, kind: record.kind, error: error instanceof Error ? error.message : String(error) },
      });
    }
  }
}
