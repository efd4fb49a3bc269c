import type { Chat } from '../../ports.js';
import { requestCard } from './blocks/request-card.js';
import type { PostingQueue } from './posting-queue.js';

/** The Chat port on Slack: view models rendered as Block Kit, sent through the channel's ordered queue. */
export function slackChat(queue: PostingQueue): Chat {
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
  };
}
