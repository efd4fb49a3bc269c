import type { webApi } from '@slack/bolt';
import type { Chat } from '../../ports.js';
import { requestCard } from './blocks/request-card.js';
import { slackDelivery, type GroupIds } from './delivery.js';
import type { PostingQueue } from './posting-queue.js';

/**
 * The Chat port on Slack: view models rendered as Block Kit. Request cards go through the channel's ordered
 * posting queue; outbox deliveries through `outboxClient`, one call each, since the outbox sender orders and
 * retries them itself.
 */
export function slackChat(queue: PostingQueue, outboxClient: webApi.WebClient, groupIds?: GroupIds): Chat {
  return {
    postCard: (channel, card) =>
      queue.send({
        kind: 'post',
        channel,
        message: requestCard(card.request, card.executionAvailable),
        subject: `${card.request.service}/${card.request.environment}`,
      }),
    updateCard: (channel, ts, card) =>
      queue.send({
        kind: 'update',
        channel,
        ts,
        message: requestCard(card.request, card.executionAvailable),
        subject: `${card.request.service}/${card.request.environment}`,
      }),
    ...slackDelivery(outboxClient, groupIds),
  };
}
