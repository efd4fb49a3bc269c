import type { Logger } from 'pino';
import type { ApprovalRecord } from '../domain/approval.js';
import type { Chat, ChatDelivery } from '../ports.js';
import type { ApprovalFlow } from './approval.js';

/** An hour of sweeps, one a minute: then the card is left as it is and a log line says so. */
const MAX_REDRAWS = 60;
/** Chat answers that mean the card is gone or can never be edited again: trying later cannot help. */
const FINAL_ERRORS = new Set(['message_not_found', 'channel_not_found', 'not_in_channel', 'cant_update_message', 'edit_window_closed', 'is_archived']);

/**
 * Keeps each request's card true to its state: redrawn after every change, and, when a redraw failed, again by
 * the minute's sweep (which also expires requests past their time, so no card keeps live buttons). Cards waiting
 * for a redraw are remembered in memory: after a restart the next click on such a card redraws it.
 */
export class CardFlow {
  /** Request id → how many redraws of its card have failed in a row. */
  private readonly stale = new Map<number, number>();

  constructor(private readonly deps: { approvals: ApprovalFlow; chat: Chat; log: Logger }) {}

  /** Whether this request's card still waits for a redraw that failed. */
  needsRedraw(id: number): boolean {
    return this.stale.has(id);
  }

  /** Redraws the card in place; the delivery, so the caller can tell whoever acted. No card yet: undefined. */
  async redraw(record: ApprovalRecord): Promise<ChatDelivery | undefined> {
    if (!record.channel || !record.messageTs) return undefined;
    const delivery = await this.deps.chat.updateCard(record.channel, record.messageTs, { request: record, executionAvailable: this.deps.approvals.canExecute(record.kind) });
    const failures = (this.stale.get(record.id) ?? 0) + (delivery.ok ? 0 : 1);
    if (delivery.ok) {
      this.stale.delete(record.id);
    } else if (FINAL_ERRORS.has(delivery.error) || failures >= MAX_REDRAWS) {
      this.stale.delete(record.id);
      this.deps.log.error({ request: record.id, channel: record.channel, ts: record.messageTs, error: delivery.error, failures }, 'giving up redrawing a card; it may show buttons that no longer count');
    } else {
      this.stale.set(record.id, failures);
    }
    return delivery;
  }

  /** Expires every request past its time and redraws its card, and the cards whose last redraw failed. Returns how many expired. */
  async sweep(): Promise<number> {
    const expired = this.deps.approvals.expireDue();
    const expiredIds = new Set(expired.map((record) => record.id));
    const retries = [...this.stale.keys()]
      .filter((id) => !expiredIds.has(id))
      .flatMap((id) => this.deps.approvals.get(id) ?? (this.stale.delete(id), []));
    await Promise.all([...expired, ...retries].map((record) => this.redraw(record)));
    return expired.length;
  }
}
