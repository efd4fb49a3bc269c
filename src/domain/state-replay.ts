import { isDeepStrictEqual } from 'node:util';

/**
 * Replays the audit log's approval and release rows and compares the result with the state tables, so that a
 * state changed in the database without its audit row (a request flipped to granted, a vote added) shows.
 * The rows it reads are the ones flows/approval.ts writes:
 *   approval.requested  actor = requester, subject = service/environment, detail { request, kind, requirement, command }
 *   approval.approved | approval.rejected  actor = voter, detail { request, role, reason? }
 *   approval.granted | approval.refused | approval.expired  detail { request }
 *   approval.card_posted  detail { request, channel, ts }
 * and, for releases, any `release.*` row whose detail carries { release: <id>, state: <state> } (the first one's
 * actor is the requester). Other rows (denials, failures) change no state and are skipped.
 */

export interface LoggedEvent {
  /** The audit row's id, to point at it. */
  row: number;
  actor: string;
  action: string;
  subject: string;
  detail: unknown;
}

export interface StoredVote {
  voter: string;
  decision: string;
  role: string;
  reason: string | null;
}

/** A row of approval_requests with its approval_votes, as stored (JSON columns parsed). */
export interface StoredRequest {
  id: number;
  kind: string;
  service: string;
  environment: string;
  requester: string;
  requirement: unknown;
  summary: unknown;
  state: string;
  channel: string | null;
  messageTs: string | null;
  votes: StoredVote[];
}

export interface StoredRelease {
  id: string;
  state: string;
  requestedBy: string;
}

export interface Disagreement {
  table: 'approval_requests' | 'approval_votes' | 'releases';
  id: number | string;
  field: string;
  message: string;
}

interface ReplayedRequest {
  openedAt?: number;
  kind?: unknown;
  subject?: string;
  requester?: string;
  requirement?: unknown;
  summary?: unknown;
  state: string;
  card?: { channel: unknown; ts: unknown };
  votes: Map<string, { decision: string; role: unknown; reason: unknown }>;
}

const STATE_OF: Record<string, string> = { 'approval.granted': 'granted', 'approval.refused': 'refused', 'approval.expired': 'expired' };
const DECISION_OF: Record<string, string> = { 'approval.approved': 'approve', 'approval.rejected': 'reject' };

const record = (value: unknown): Record<string, unknown> => (value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {});
const show = (value: unknown) => (value === undefined ? 'nothing' : JSON.stringify(value));

/** What the approval rows of the log say each request is now. */
export function replayApprovals(events: readonly LoggedEvent[]): Map<number, ReplayedRequest> {
  const requests = new Map<number, ReplayedRequest>();
  for (const event of events) {
    if (!event.action.startsWith('approval.')) continue;
    const detail = record(event.detail);
    const id = detail.request;
    if (typeof id !== 'number' || !Number.isSafeInteger(id)) continue;
    const relevant = event.action === 'approval.requested' || event.action === 'approval.card_posted' || event.action in STATE_OF || event.action in DECISION_OF;
    if (!relevant) continue;
    let request = requests.get(id);
    if (!request) {
      request = { state: 'pending', votes: new Map() };
      requests.set(id, request);
    }
    if (event.action === 'approval.requested') {
      Object.assign(request, { openedAt: event.row, kind: detail.kind, subject: event.subject, requester: event.actor, requirement: detail.requirement, summary: detail.plan ?? detail.command });
    } else if (event.action === 'approval.card_posted') {
      request.card = { channel: detail.channel, ts: detail.ts };
    } else if (event.action in STATE_OF) {
      request.state = STATE_OF[event.action]!;
    } else {
      request.votes.set(event.actor, { decision: DECISION_OF[event.action]!, role: detail.role, reason: detail.reason });
    }
  }
  return requests;
}

/** Every way the approval tables differ from the log's replay, one entry per request and field. */
export function compareApprovals(events: readonly LoggedEvent[], stored: readonly StoredRequest[]): Disagreement[] {
  const replayed = replayApprovals(events);
  const out: Disagreement[] = [];
  const differ = (id: number, field: string, inTable: unknown, inLog: unknown, table: Disagreement['table'] = 'approval_requests') => {
    if (!isDeepStrictEqual(inTable, inLog)) out.push({ table, id, field, message: `approval request ${id}: ${field} is ${show(inTable)} in ${table}, the log says ${show(inLog)}` });
  };
  for (const request of stored) {
    const logged = replayed.get(request.id);
    if (logged?.openedAt === undefined) {
      out.push({ table: 'approval_requests', id: request.id, field: 'request', message: `approval request ${request.id}: in approval_requests, but the log never opened it` });
      continue;
    }
    differ(request.id, 'state', request.state, logged.state);
    differ(request.id, 'requester', request.requester, logged.requester);
    differ(request.id, 'kind', request.kind, logged.kind);
    differ(request.id, 'service/environment', `${request.service}/${request.environment}`, logged.subject);
    differ(request.id, 'requirement', request.requirement, logged.requirement);
    differ(request.id, 'summary', request.summary, logged.summary);
    // Cards posted before the log recorded them (older databases) have nothing to compare with.
    if (logged.card) {
      differ(request.id, 'channel', request.channel, logged.card.channel);
      differ(request.id, 'message_ts', request.messageTs, logged.card.ts);
    }
    const voters = [...new Set([...request.votes.map((v) => v.voter), ...logged.votes.keys()])].sort();
    for (const voter of voters) {
      const inTable = request.votes.find((v) => v.voter === voter);
      const inLog = logged.votes.get(voter);
      differ(
        request.id,
        `vote of ${voter}`,
        inTable && { decision: inTable.decision, role: inTable.role, reason: inTable.reason ?? undefined },
        inLog && { decision: inLog.decision, role: inLog.role, reason: inLog.reason },
        'approval_votes',
      );
    }
  }
  const storedIds = new Set(stored.map((r) => r.id));
  for (const [id, logged] of replayed) {
    if (!storedIds.has(id) && logged.openedAt !== undefined) {
      out.push({ table: 'approval_requests', id, field: 'request', message: `approval request ${id}: opened in the log (row ${logged.openedAt}), but missing from approval_requests` });
    }
  }
  return out;
}

/** Every way the releases table differs from the `release.*` rows that carry a state. */
export function compareReleases(events: readonly LoggedEvent[], stored: readonly StoredRelease[]): Disagreement[] {
  const replayed = new Map<string, { state: string; requestedBy: string; row: number }>();
  for (const event of events) {
    if (!event.action.startsWith('release.')) continue;
    const { release, state } = record(event.detail);
    if (typeof release !== 'string' || typeof state !== 'string') continue;
    const known = replayed.get(release);
    replayed.set(release, { state, requestedBy: known?.requestedBy ?? event.actor, row: known?.row ?? event.row });
  }
  const out: Disagreement[] = [];
  for (const release of stored) {
    const logged = replayed.get(release.id);
    if (!logged) {
      out.push({ table: 'releases', id: release.id, field: 'release', message: `release ${release.id}: in releases, but no release.* row of the log carries its state` });
      continue;
    }
    for (const [field, inTable, inLog] of [['state', release.state, logged.state], ['requested_by', release.requestedBy, logged.requestedBy]] as const) {
      if (inTable !== inLog) out.push({ table: 'releases', id: release.id, field, message: `release ${release.id}: ${field} is ${show(inTable)} in releases, the log says ${show(inLog)}` });
    }
  }
  const storedIds = new Set(stored.map((r) => r.id));
  for (const [id, logged] of replayed) {
    if (!storedIds.has(id)) out.push({ table: 'releases', id, field: 'release', message: `release ${id}: in the log (row ${logged.row}), but missing from releases` });
  }
  return out;
}
