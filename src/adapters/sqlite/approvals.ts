import type Database from 'better-sqlite3';
import type { ApprovalKind, ApprovalRecord, ApprovalState, NewApproval, Requirement, Vote } from '../../domain/approval.js';
import { planSchema } from '../../domain/plans.js';
import type { ApprovalRepository } from '../../ports.js';

interface RequestRow {
  id: number;
  kind: ApprovalKind;
  service: string;
  environment: string;
  requester: string;
  requirement: string;
  summary: string;
  state: ApprovalState;
  created_at: string;
  expires_at: string;
  decided_at: string | null;
  channel: string | null;
  message_ts: string | null;
}

interface VoteRow {
  voter: string;
  decision: 'approve' | 'reject';
  role: string;
  reason: string | null;
  at: string;
}

interface LegacySummary {
  kind: 'release' | 'rollback' | 'hotfix';
  command: { service: string; env: string; version?: string; strategy?: string; to?: number; urgency?: string; reason?: string };
  current: { version: string; image: string; revision: number; history: { revision: number; image: string }[]; canaryWeight: number } | null;
  strategy?: string;
  steps?: number[];
  pauseForApprovalAt?: number[];
}

const LEGACY_HOTFIX_PATHS: Record<string, string> = { 'direct rollout, watched by analysis': 'direct', 'fast canary': 'fast-canary', canary: 'canary' };

/**
 * Requests opened before plans were domain data kept a card summary; read it as the plan it described, so that
 * requests pending across the upgrade still expire and take clicks.
 */
function fromLegacy(summary: LegacySummary): unknown {
  const { command, current } = summary;
  const base = { kind: summary.kind, service: command.service, environment: command.env, running: current && { version: current.version, image: current.image, revision: current.revision } };
  if (summary.kind === 'rollback') {
    const after = current && (command.to !== undefined ? current.history.find((h) => h.revision === command.to) : current.history[0]);
    return {
      ...base,
      reason: command.reason,
      ...(command.to !== undefined ? { requestedRevision: command.to } : {}),
      target: current && after ? { kind: 'rollback', from: current.revision, to: after.revision, image: after.image, fromImage: current.image } : null,
      canaryWeightNow: current?.canaryWeight ?? null,
    };
  }
  const steps = { steps: summary.steps, pauseForApprovalAt: summary.pauseForApprovalAt };
  if (summary.kind === 'hotfix') return { ...base, ...steps, version: command.version, urgency: command.urgency, reason: command.reason, path: LEGACY_HOTFIX_PATHS[summary.strategy ?? ''] };
  return { ...base, ...steps, version: command.version, strategy: command.strategy };
}

/** The plan is stored in the `summary` column (its name from before plans were domain data). */
function readPlan(row: RequestRow) {
  const stored = JSON.parse(row.summary) as { command?: unknown };
  const parsed = planSchema.safeParse(stored.command !== undefined ? fromLegacy(stored as LegacySummary) : stored);
  if (!parsed.success) {
    throw new Error(`approval request ${row.id} holds a plan this Lifeguard cannot read (${parsed.error.issues[0]?.message}); it was written by another version: open a new request`);
  }
  return parsed.data;
}

/** Approval requests and their votes in SQLite (migration 3). */
export class SqliteApprovalRepository implements ApprovalRepository {
  private readonly statements;

  constructor(db: Database.Database) {
    this.statements = {
      insert: db.prepare(
        `INSERT INTO approval_requests (kind, service, environment, requester, requirement, summary, state, created_at, expires_at)
         VALUES (@kind, @service, @environment, @requester, @requirement, @summary, @state, @created_at, @expires_at)`,
      ),
      get: db.prepare<[number], RequestRow>('SELECT * FROM approval_requests WHERE id = ?'),
      votes: db.prepare<[number], VoteRow>('SELECT voter, decision, role, reason, at FROM approval_votes WHERE request_id = ? ORDER BY at, rowid'),
      addVote: db.prepare('INSERT INTO approval_votes (request_id, voter, decision, role, reason, at) VALUES (?, ?, ?, ?, ?, ?)'),
      transition: db.prepare("UPDATE approval_requests SET state = ?, decided_at = ? WHERE id = ? AND state = ?"),
      attach: db.prepare('UPDATE approval_requests SET channel = ?, message_ts = ? WHERE id = ?'),
      due: db.prepare<[string], { id: number }>("SELECT id FROM approval_requests WHERE state = 'pending' AND expires_at <= ? ORDER BY id"),
    };
  }

  insert(request: NewApproval): number {
    const info = this.statements.insert.run({
      kind: request.kind,
      service: request.service,
      environment: request.environment,
      requester: request.requester,
      requirement: JSON.stringify(request.requirement),
      summary: JSON.stringify(request.plan),
      state: request.state,
      created_at: request.createdAt.toISOString(),
      expires_at: request.expiresAt.toISOString(),
    });
    return Number(info.lastInsertRowid);
  }

  get(id: number): ApprovalRecord | undefined {
    const row = this.statements.get.get(id);
    if (!row) return undefined;
    const votes: Vote[] = this.statements.votes.all(id).map((v) => ({
      user: v.voter,
      decision: v.decision,
      role: v.role,
      at: new Date(v.at),
      reason: v.reason ?? undefined,
    }));
    return {
      id: row.id,
      kind: row.kind,
      service: row.service,
      environment: row.environment,
      requester: row.requester,
      requirement: JSON.parse(row.requirement) as Requirement,
      plan: readPlan(row),
      state: row.state,
      createdAt: new Date(row.created_at),
      expiresAt: new Date(row.expires_at),
      decidedAt: row.decided_at ? new Date(row.decided_at) : undefined,
      channel: row.channel ?? undefined,
      messageTs: row.message_ts ?? undefined,
      votes,
    };
  }

  addVote(id: number, vote: Vote): void {
    this.statements.addVote.run(id, vote.user, vote.decision, vote.role, vote.reason ?? null, vote.at.toISOString());
  }

  transition(id: number, from: ApprovalState, to: ApprovalState, at: Date): boolean {
    return this.statements.transition.run(to, at.toISOString(), id, from).changes === 1;
  }

  attachMessage(id: number, channel: string, ts: string): void {
    this.statements.attach.run(channel, ts, id);
  }

  pendingExpiredBy(at: Date): number[] {
    return this.statements.due.all(at.toISOString()).map((row) => row.id);
  }
}
