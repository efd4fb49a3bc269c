import type { ApprovalRecord } from '../../../flows/approval.js';
import { requestCard } from '../blocks/request-card.js';
import type { HandlerDeps } from './deps.js';

/** Redraws a request's card in place (chat.update), through the channel's ordered queue. */
export async function updateCard(deps: Pick<HandlerDeps, 'queue' | 'flow'>, record: ApprovalRecord): Promise<void> {
  if (!record.channel || !record.messageTs) return;
  await deps.queue.send({
    kind: 'update',
    channel: record.channel,
    ts: record.messageTs,
    message: requestCard(record, deps.flow.canExecute(record.kind)),
    subject: `${record.service}/${record.environment}`,
  });
}

/** Expires every request past its time and redraws their cards, so none keeps live buttons. */
export async function sweepExpired(deps: Pick<HandlerDeps, 'queue' | 'flow'>): Promise<number> {
  const expired = deps.flow.expireDue();
  await Promise.all(expired.map((record) => updateCard(deps, record)));
  return expired.length;
}
