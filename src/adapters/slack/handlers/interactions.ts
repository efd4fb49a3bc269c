import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { VoteResult } from '../../../flows/approval.js';
import { ACTIONS, REJECT_MODAL } from '../blocks/approvals.js';
import { denialText } from '../blocks/denials.js';
import { note } from '../blocks/replies.js';
import { withRateLimit } from '../web-client.js';
import { updateCard } from './cards.js';
import { timedAck, type HandlerDeps } from './deps.js';

interface ModalContext {
  requestId: number;
  channel: string;
}

/** Registers the card buttons and the reject modal. Every click is acknowledged first, then checked and applied. */
export function registerInteractions(app: App, deps: HandlerDeps): void {
  app.action<BlockAction<ButtonAction>>(ACTIONS.approve, async ({ ack, body, action, respond, context }) => {
    await timedAck(deps.metrics, 'action', context, ack);
    const result = await deps.flow.vote(Number(action.value), body.user.id, 'approve');
    await afterVote(deps, result, 'approve', (text) => respond({ response_type: 'ephemeral', replace_original: false, ...note(text) }));
  });

  app.action<BlockAction<ButtonAction>>(ACTIONS.reject, async ({ ack, body, action, respond, client, context }) => {
    await timedAck(deps.metrics, 'action', context, ack);
    const requestId = Number(action.value);
    const check = await deps.flow.check(requestId, body.user.id, 'reject');
    if (!check.ok) {
      await afterVote(deps, check, 'reject', (text) => respond({ response_type: 'ephemeral', replace_original: false, ...note(text) }));
      return;
    }
    const metadata: ModalContext = { requestId, channel: body.channel?.id ?? check.record?.channel ?? '' };
    await withRateLimit(() =>
      client.views.open({
        trigger_id: body.trigger_id,
        view: {
          type: 'modal',
          callback_id: REJECT_MODAL,
          private_metadata: JSON.stringify(metadata),
          title: { type: 'plain_text', text: `Reject request #${requestId}`.slice(0, 24) },
          submit: { type: 'plain_text', text: 'Reject' },
          close: { type: 'plain_text', text: 'Cancel' },
          blocks: [
            {
              type: 'input',
              block_id: 'reason',
              label: { type: 'plain_text', text: 'Why are you rejecting it?' },
              element: { type: 'plain_text_input', action_id: 'value', multiline: true, min_length: 3, max_length: 500 },
            },
          ],
        },
      }),
    );
  });

  app.view(REJECT_MODAL, async ({ ack, view, body, client, context }) => {
    await timedAck(deps.metrics, 'view', context, ack);
    const metadata = JSON.parse(view.private_metadata) as ModalContext;
    const reason = view.state.values.reason?.value?.value ?? '';
    const result = await deps.flow.vote(metadata.requestId, body.user.id, 'reject', reason);
    await afterVote(deps, result, 'reject', async (text) => {
      const channel = metadata.channel || result.record?.channel;
      if (!channel) return;
      await withRateLimit(() => client.chat.postEphemeral({ channel, user: body.user.id, ...note(text) }));
    });
  });

  for (const control of [ACTIONS.promote, ACTIONS.abort] as const) {
    app.action<BlockAction<ButtonAction>>(control, async ({ ack, action, body, respond, context }) => {
      await timedAck(deps.metrics, 'action', context, ack);
      deps.audit.append({
        actor: body.user.id,
        action: 'release.control_unavailable',
        subject: 'unknown',
        detail: { control: control === ACTIONS.promote ? 'promote' : 'abort', release: action.value },
      });
      await respond({
        response_type: 'ephemeral',
        replace_original: false,
        ...note(`:information_source: Lifeguard cannot run releases yet in this version, so there is no running release ${action.value ?? ''} to ${control === ACTIONS.promote ? 'promote' : 'abort'}.`),
      });
    });
  }
}

/** Shows the outcome: the card updated in place on a change, an ephemeral note to the clicker on a denial. */
async function afterVote(deps: HandlerDeps, result: VoteResult, decision: 'approve' | 'reject', tell: (text: string) => Promise<unknown>): Promise<void> {
  if (result.record && (result.ok || result.record.state === 'expired')) await updateCard(deps, result.record);
  if (!result.ok) await tell(denialText(result.denial, result.record, decision));
}
