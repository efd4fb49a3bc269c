import type { ApprovalRecord, ApprovalState, NewApproval, Vote } from '../../src/domain/approval.js';
import type { ServiceState, ServiceTarget } from '../../src/domain/cluster-state.js';
import { outboxEntrySchema, type OutboxEntry } from '../../src/domain/chat-messages.js';
import type { ApprovalRepository, ApprovalStore, AuditEntry, OutboxBacklog, OutboxRecord, OutboxRepository, PostedMessage, AuditRecord, Chat, ChatDelivery, ChatView, Clock, DeliveryResult, DeliveryTarget, KeyLookup, RequestCardView, RoleDirectory, UploadStart, Workloads } from '../../src/ports.js';

/*
 * In-memory implementations of the ports, for testing flows without servers. Transactions roll back by restoring
 * a copy, so a flow that throws half-way leaves nothing behind, as SQLite would.
 */

export function manualClock(start: string): Clock & { advance(ms: number): void } {
  let now = new Date(start).getTime();
  return { now: () => new Date(now), advance: (ms) => void (now += ms) };
}

export class MemoryApprovals implements ApprovalRepository {
  rows = new Map<number, ApprovalRecord>();

  insert(request: NewApproval): number {
    const id = this.rows.size + 1;
    this.rows.set(id, { ...structuredClone(request), id, votes: [] });
    return id;
  }
  get(id: number): ApprovalRecord | undefined {
    const row = this.rows.get(id);
    return row && structuredClone(row);
  }
  addVote(id: number, vote: Vote): void {
    const row = this.rows.get(id)!;
    if (row.votes.some((v) => v.user === vote.user)) throw new Error(`UNIQUE constraint failed: ${vote.user} already voted on ${id}`);
    row.votes.push(structuredClone(vote));
  }
  transition(id: number, from: ApprovalState, to: ApprovalState, at: Date): boolean {
    const row = this.rows.get(id);
    if (row?.state !== from) return false;
    Object.assign(row, { state: to, decidedAt: at });
    return true;
  }
  attachMessage(id: number, channel: string, ts: string): void {
    Object.assign(this.rows.get(id)!, { channel, messageTs: ts });
  }
  pendingExpiredBy(at: Date): number[] {
    return [...this.rows.values()].filter((r) => r.state === 'pending' && r.expiresAt <= at).map((r) => r.id);
  }
}

export class MemoryAudit {
  rows: AuditEntry[] = [];
  append(entry: AuditEntry): AuditRecord {
    this.rows.push(structuredClone(entry));
    return { ...entry, id: this.rows.length, at: '', prevHash: '', hash: '' };
  }
  async appendDurable(entry: AuditEntry): Promise<AuditRecord> {
    return this.append(entry);
  }
  actions(): string[] {
    return this.rows.map((r) => r.action);
  }
}

/** The outbox as SQLite keeps it (see adapters/sqlite/outbox.ts), for flows that enqueue messages. */
export class MemoryOutbox implements OutboxRepository {
  rows: (OutboxRecord & { sent?: PostedMessage; gaveUp?: string })[] = [];
  slots = new Map<string, PostedMessage>();

  enqueue(entry: OutboxEntry, at: Date): boolean {
    if (this.rows.some((r) => r.key === entry.key)) return false;
    const valid = outboxEntrySchema.parse(entry);
    this.rows.push({ ...structuredClone(valid), id: this.rows.length + 1, createdAt: at, attempts: 0, nextAttemptAt: at, inDoubt: false, lastError: undefined });
    return true;
  }
  private pending() {
    return this.rows.filter((r) => !r.sent && r.gaveUp === undefined);
  }
  private row(id: number) {
    return this.rows.find((r) => r.id === id)!;
  }
  heads(): OutboxRecord[] {
    const heads = new Map<string, OutboxRecord>();
    for (const row of this.pending()) if (!heads.has(row.channel)) heads.set(row.channel, structuredClone(row));
    return [...heads.values()];
  }
  markAttempted(id: number): void {
    Object.assign(this.row(id), { attempts: this.row(id).attempts + 1, inDoubt: true });
  }
  markSent(id: number, message: PostedMessage): void {
    const row = this.row(id);
    Object.assign(row, { sent: message, inDoubt: false });
    if (row.slot && !this.slots.has(row.slot)) this.slots.set(row.slot, message);
  }
  markFailed(id: number, failure: { error: string; nextAttemptAt: Date; inDoubt: boolean }): void {
    Object.assign(this.row(id), { lastError: failure.error, nextAttemptAt: failure.nextAttemptAt, inDoubt: failure.inDoubt });
  }
  giveUp(id: number, _at: Date, error: string): void {
    Object.assign(this.row(id), { gaveUp: error, lastError: error, inDoubt: false });
  }
  recordFile(id: number, fileId: string): void {
    Object.assign(this.row(id), { fileId });
  }
  slotMessage(slot: string): PostedMessage | undefined {
    return this.slots.get(slot);
  }
  superseded(record: OutboxRecord): boolean {
    return this.pending().some((r) => r.id > record.id && r.channel === record.channel && ((record.slot !== undefined && r.slot === record.slot) || (record.updateTs !== undefined && r.updateTs === record.updateTs)));
  }
  backlog(at: Date): OutboxBacklog {
    const pending = this.pending();
    const oldest = Math.min(...pending.map((r) => r.createdAt.getTime()));
    return { depth: pending.length, oldestAgeSeconds: pending.length ? Math.max(0, (at.getTime() - oldest) / 1000) : 0 };
  }
}

export function memoryStore(): ApprovalStore & { approvals: MemoryApprovals; audit: MemoryAudit; outbox: MemoryOutbox } {
  const approvals = new MemoryApprovals();
  const audit = new MemoryAudit();
  const outbox = new MemoryOutbox();
  return {
    approvals,
    audit,
    outbox,
    transaction<T>(fn: () => T): T {
      const saved = { rows: structuredClone(approvals.rows), audit: structuredClone(audit.rows), outbox: structuredClone(outbox.rows), slots: structuredClone(outbox.slots) };
      try {
        return fn();
      } catch (error) {
        approvals.rows = saved.rows;
        audit.rows = saved.audit;
        outbox.rows = saved.outbox;
        outbox.slots = saved.slots;
        throw error;
      }
    },
  };
}

/** Roles by user, answered after a macrotask so that concurrent clicks really interleave. */
export function roleDirectory(holders: Record<string, string[]>): RoleDirectory {
  return { rolesOf: (user, among) => new Promise((resolve) => setTimeout(() => resolve((holders[user] ?? []).filter((r) => among.includes(r))), 1)) };
}

/** A chat that records cards and answers as Slack would, or with an error when told to. */
export class MemoryChat implements Chat {
  cards: { channel: string; card: RequestCardView }[] = [];
  failWith: string | undefined;
  async postCard(channel: string, card: RequestCardView): Promise<ChatDelivery> {
    if (this.failWith) return { ok: false, error: this.failWith };
    this.cards.push({ channel, card: structuredClone(card) });
    return { ok: true, channel: 'C0CHECKOUT', ts: `1700000000.${String(this.cards.length).padStart(6, '0')}` };
  }
  updates: { channel: string; ts: string; card: RequestCardView }[] = [];
  async updateCard(channel: string, ts: string, card: RequestCardView): Promise<ChatDelivery> {
    if (this.failWith) return { ok: false, error: this.failWith };
    this.updates.push({ channel, ts, card: structuredClone(card) });
    return { ok: true, channel, ts };
  }
  /** Outbox deliveries, each with the ts it was given (an update keeps its message's). */
  deliveries: { target: DeliveryTarget; view: ChatView; ts: string }[] = [];
  async deliver(target: DeliveryTarget, view: ChatView): Promise<DeliveryResult> {
    if (this.failWith) return { ok: false, error: this.failWith, transient: false };
    const ts = target.updateTs ?? `1700000001.${String(this.deliveries.length + 1).padStart(6, '0')}`;
    this.deliveries.push({ target: structuredClone(target), view: structuredClone(view), ts });
    return { ok: true, channel: target.channel, ts };
  }
  uploads: { filename: string; length: number }[] = [];
  async startUpload(file: { filename: string; length: number }): Promise<UploadStart> {
    if (this.failWith) return { ok: false, error: this.failWith, transient: false };
    this.uploads.push(file);
    return { ok: true, fileId: `F${this.uploads.length}`, uploadUrl: `memory://upload/${this.uploads.length}` };
  }
  async findByKey(where: { channel: string; key: string; threadTs?: string | undefined; fileId?: string | undefined }): Promise<KeyLookup> {
    const posted = this.deliveries.find((d) => d.target.channel === where.channel && d.target.key === where.key && d.target.updateTs === undefined);
    return { ok: true, found: posted && { channel: posted.target.channel, ts: posted.ts } };
  }
}

/** Workloads that only read: a fixed state per `service/environment`, or a failure. */
export function readOnlyWorkloads(states: Record<string, ServiceState | Error>): Pick<Workloads, 'readState'> {
  return {
    readState: async (target: ServiceTarget) => {
      const state = states[`${target.service}/${target.environment}`];
      if (!state) throw new Error(`no ${target.service}/${target.environment} here`);
      if (state instanceof Error) throw state;
      return structuredClone(state);
    },
  };
}
