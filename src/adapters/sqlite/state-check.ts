import type Database from 'better-sqlite3';
import { compareApprovals, compareReleases, type Disagreement, type LoggedEvent, type StoredRequest, type StoredVote } from '../../domain/state-replay.js';

export interface StateCheck {
  requests: number;
  releases: number;
  disagreements: Disagreement[];
}

const parse = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/** Reads the approval and release tables and the audit rows about them, and compares (domain/state-replay.ts). */
export function checkStateTables(db: Database.Database): StateCheck {
  const tables = new Set(db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((t) => t.name));
  const events: LoggedEvent[] = db
    .prepare<[], { id: number; actor: string; action: string; subject: string; detail: string }>(
      "SELECT id, actor, action, subject, detail FROM audit_log WHERE action LIKE 'approval.%' OR action LIKE 'release.%' ORDER BY id",
    )
    .all()
    .map((r) => ({ row: r.id, actor: r.actor, action: r.action, subject: r.subject, detail: parse(r.detail) }));

  const requests: StoredRequest[] = [];
  if (tables.has('approval_requests')) {
    const votes = new Map<number, StoredVote[]>();
    for (const v of db.prepare<[], StoredVote & { request_id: number }>('SELECT request_id, voter, decision, role, reason FROM approval_votes').all()) {
      votes.set(v.request_id, [...(votes.get(v.request_id) ?? []), { voter: v.voter, decision: v.decision, role: v.role, reason: v.reason }]);
    }
    const rows = db
      .prepare<[], { id: number; kind: string; service: string; environment: string; requester: string; requirement: string; summary: string; state: string; channel: string | null; message_ts: string | null }>(
        'SELECT id, kind, service, environment, requester, requirement, summary, state, channel, message_ts FROM approval_requests ORDER BY id',
      )
      .all();
    for (const { requirement, summary, message_ts, ...r } of rows) {
      requests.push({ ...r, requirement: parse(requirement), summary: parse(summary), messageTs: message_ts, votes: votes.get(r.id) ?? [] });
    }
  }
  const releases = tables.has('releases')
    ? db.prepare<[], { id: string; state: string; requestedBy: string }>('SELECT id, state, requested_by AS requestedBy FROM releases ORDER BY id').all()
    : [];
  return { requests: requests.length, releases: releases.length, disagreements: [...compareApprovals(events, requests), ...compareReleases(events, releases)] };
}
