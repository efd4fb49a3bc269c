/** Interaction payloads shaped as Slack sends them for a button click and a modal submission. */

export interface ClickInput {
  user: string;
  actionId: string;
  value: string;
  channel: string;
  messageTs: string;
  responseUrl: string;
  triggerId: string;
}

export function buttonClick(input: ClickInput): Record<string, unknown> {
  return {
    type: 'block_actions',
    user: { id: input.user, username: input.user.toLowerCase(), name: input.user.toLowerCase(), team_id: 'T0LIFEGUARD' },
    api_app_id: 'A0LIFEGUARD',
    token: 'deprecated-verification-token',
    container: { type: 'message', message_ts: input.messageTs, channel_id: input.channel, is_ephemeral: false },
    trigger_id: input.triggerId,
    team: { id: 'T0LIFEGUARD', domain: 'lifeguard' },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: input.channel, name: 'checkout-releases' },
    message: { type: 'message', ts: input.messageTs, user: 'U0LIFEGUARD', text: '' },
    state: { values: {} },
    response_url: input.responseUrl,
    actions: [
      {
        action_id: input.actionId,
        block_id: 'approval_actions',
        text: { type: 'plain_text', text: 'button' },
        value: input.value,
        type: 'button',
        action_ts: `${Math.floor(Date.now() / 1000)}.000001`,
      },
    ],
  };
}

export function viewSubmission(input: { user: string; callbackId: string; privateMetadata: string; values: Record<string, Record<string, { type: string; value: string }>> }): Record<string, unknown> {
  return {
    type: 'view_submission',
    team: { id: 'T0LIFEGUARD', domain: 'lifeguard' },
    user: { id: input.user, username: input.user.toLowerCase(), name: input.user.toLowerCase(), team_id: 'T0LIFEGUARD' },
    api_app_id: 'A0LIFEGUARD',
    token: 'deprecated-verification-token',
    trigger_id: 'trigger-from-submission',
    view: {
      id: 'V0REJECT',
      team_id: 'T0LIFEGUARD',
      type: 'modal',
      callback_id: input.callbackId,
      private_metadata: input.privateMetadata,
      state: { values: input.values },
      hash: 'h',
      title: { type: 'plain_text', text: 'Reject' },
      blocks: [],
      app_id: 'A0LIFEGUARD',
      bot_id: 'B0LIFEGUARD',
    },
    response_urls: [],
    is_enterprise_install: false,
  };
}
