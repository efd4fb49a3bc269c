import type { ApprovalRecord } from '../../../domain/approval.js';
import { requestCard } from '../blocks/request-card.js';
import type { Delivery, PostingQueue } from '../posting-queue.js';
import type { HandlerDeps } from './deps.js';

type CardDeps = Pick<HandlerDeps, 'queue' | 'flow' | 'log'>;

/**
 * Cards whose last redraw failed, by request id, with how many times it failed. Kept per posting queue (one
 * per app) and in memory: after a restart the next click on such a card redraws it (see `needsRedraw`).
 */
const staleCards = new WeakMap<PostingQueue, Map<number, number>>();

/** An hour of sweeps, one a minute: then the card is left as it is and a log line says so. */
const MAX_REDRAWS = 60;
/** Slack's answers when the card is gone or can never be edited again: trying later cannot help. */
const FINAL_ERRORS = new Set(['message_not_found', 'channel_not_found', 'not_in_channel', 'cant_update_message', 'edit_window_closed', 'is_archived']);

function staleOf(queue: PostingQueue): Map<number, number> {
  let stale = staleCards.get(queue);
  if (!stale) staleCards.set(queue, (stale = new Map()));
  return stale;
}

/** Whether this request's card still waits for a redraw that failed. */
export function needsRedraw(deps: Pick<HandlerDeps, 'queue'>, id: number): boolean {
  return staleOf(deps.queue).has(id);
}

/**
 * Redraws a request's card in place (chat.update), through the channel's ordered queue. A failure is kept so
 * the sweep tries again; the delivery is returned so the caller can tell whoever acted. No card: undefined.
 */
export async function redrawCard(deps: CardDeps, record: ApprovalRecord): Promise<Delivery | undefined> {
  if (!record.channel || !record.messageTs) return undefined;
  const delivery = await deps.queue.send({
    kind: 'update',
    channel: record.channel,
    ts: record.messageTs,
    message: requestCard(record, deps.flow.canExecute(record.kind)),
    subject: `${record.service}/${record.environment}`,
  });
  const stale = staleOf(deps.queue);
  const failures = (stale.get(record.id) ?? 0) + (delivery.ok ? 0 : 1);
  if (delivery.ok) {
    stale.delete(record.id);
  } else if (FINAL_ERRORS.has(delivery.error) || failures >= MAX_REDRAWS) {
    stale.delete(record.id);
    deps.log.error({ request: record.id, channel: record.channel, ts: record.messageTs, error: delivery.error, failures }, 'giving up redrawing a card; it may show buttons that no longer count');
  } else {
    stale.set(record.id, failures);
  }
  return delivery;
}

/**
 * The minute's sweep: expires every request past its time and redraws its card, so none keeps live buttons,
 * and redraws the cards whose last redraw failed. Returns how many requests it expired.
 */
export async function sweepExpired(deps: CardDeps): Promise<number> {
  const expired = deps.flow.expireDue();
  const expiredIds = new Set(expired.map((record) => record.id));
  const stale = staleOf(deps.queue);
  const retries = [...stale.keys()]
    .filter((id) => !expiredIds.has(id))
    .flatMap((id) => deps.flow.get(id) ?? (stale.delete(id), []));
  await Promise.all([...expired, ...retries].map((record) => redrawCard(deps, record)));
  return expired.length;
}
