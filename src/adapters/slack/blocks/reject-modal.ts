import type { types } from '@slack/bolt';
import { REASON_MAX, REASON_MIN } from '../../../domain/input-rules.js';
import { REJECT_MODAL } from './approvals.js';

/** The block and action ids of the reason input: a validation error names the block. */
export const REASON_FIELD = { block: 'reason', action: 'value' } as const;

/**
 * The form that asks a rejecter why. `context` (the request and the card the click came from) travels in
 * private_metadata and is checked again when the form comes back. Its bounds are the server's (input-rules).
 */
export function rejectModal(context: { requestId: number; channel: string; messageTs: string }): types.ModalView {
  return {
    type: 'modal',
    callback_id: REJECT_MODAL,
    private_metadata: JSON.stringify(context),
    title: { type: 'plain_text', text: `Reject request #${context.requestId}`.slice(0, 24) },
    submit: { type: 'plain_text', text: 'Reject' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'input',
        block_id: REASON_FIELD.block,
        label: { type: 'plain_text', text: 'Why are you rejecting it?' },
        element: { type: 'plain_text_input', action_id: REASON_FIELD.action, multiline: true, min_length: REASON_MIN, max_length: REASON_MAX },
      },
    ],
  };
}
