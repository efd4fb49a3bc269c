import type { App, BlockAction, ButtonAction, RespondFn, ViewSubmitAction, types, webApi } from '@slack/bolt';
import type { VoteResult } from '../../../flows/approval.js';
import { CONTROL_VERBS } from '../../../domain/operation.js';
import { ACTIONS, REJECT_MODAL } from '../blocks/approvals.js';
import { cardNotRedrawn, controlDenialText, denialText } from '../blocks/denials.js';
import { escape, mention, utc } from '../blocks/format.js';
import { postmortemReply } from './commands.js';
import { REASON_FIELD, rejectModal } from '../blocks/reject-modal.js';
import { note } from '../blocks/replies.js';
import { slackErrorCode, withRateLimit } from '../web-client.js';
import { timedAck, type HandlerDeps } from './deps.js';
import { parseClick, parseRejectForm, type ClickRefusal } from './inputs.js';

type Tell = (text: string) => Promise<void>;

/**
 * Registers the card buttons and the reject modal. Every click is acknowledged first, then parsed, checked and
 * applied; the reject form is parsed before its acknowledgement, which is where Slack shows a form's errors.
 */
export function registerInteractions(app: App, deps: HandlerDeps): void {
  app.action<BlockAction<ButtonAction>>(ACTIONS.approve, async ({ ack, body, action, respond, client, context }) => {
    await timedAck(deps.metrics, 'action', context, ack);
    const tell = clicker(deps, body, respond, client);
    const parsed = parseClick(body, action, 'request');
    if (!parsed.ok) return refuse(deps, parsed, ACTIONS.approve, tell);
    const { click } = parsed;
    const result = await deps.flow.vote(click.id, click.user, 'approve', { card: click.card });
    await afterVote(deps, result, 'approve', tell);
  });

  app.action<BlockAction<ButtonAction>>(ACTIONS.reject, async ({ ack, body, action, respond, client, context }) => {
    await timedAck(deps.metrics, 'action', context, ack);
    const tell = clicker(deps, body, respond, client);
    const parsed = parseClick(body, action, 'request');
    if (!parsed.ok) return refuse(deps, parsed, ACTIONS.reject, tell);
    const { click } = parsed;
    const check = await deps.flow.check(click.id, click.user, 'reject', click.card);
    if (!check.ok) return afterVote(deps, check, 'reject', tell);
    const failed = await openForm(client, click.triggerId, rejectModal({ requestId: click.id, ...click.card }));
    if (failed) {
      deps.log.warn({ request: click.id, error: failed }, 'could not open the reject form');
      await tell(`:warning: Slack did not open the form that asks why (${escape(failed)}). Click Reject again; nothing was recorded.`);
    }
  });

  app.view<ViewSubmitAction>(REJECT_MODAL, async ({ ack, body, client, context }) => {
    const parsed = parseRejectForm(body, REASON_FIELD);
    if (!parsed.ok) {
      if (parsed.log) deps.log.warn({ problem: parsed.log }, 'refused a reject form');
      return timedAck(deps.metrics, 'view', context, ack, { response_action: 'errors', errors: { [REASON_FIELD.block]: parsed.message } });
    }
    await timedAck(deps.metrics, 'view', context, ack);
    const { form } = parsed;
    const result = await deps.flow.vote(form.requestId, form.user, 'reject', { reason: form.reason, card: form.card });
    await afterVote(deps, result, 'reject', ephemeral(deps, client, form.card.channel, form.user));
  });

  for (const verb of CONTROL_VERBS) {
    const actionId = ACTIONS[verb];
    app.action<BlockAction<ButtonAction>>(actionId, async ({ ack, action, body, respond, client, context }) => {
      await timedAck(deps.metrics, 'action', context, ack);
      const tell = clicker(deps, body, respond, client);
      const parsed = parseClick(body, action, 'release');
      if (!parsed.ok) return refuse(deps, parsed, actionId, tell);
      const { click } = parsed;
      const result = await deps.operations.control(click.id, click.user, verb, click.card);
      if (!result.ok) await tell(controlDenialText(verb, click.id, result));
    });
  }

  app.action<BlockAction<ButtonAction>>(ACTIONS.freeze, async ({ ack, action, body, respond, client, context }) => {
    await timedAck(deps.metrics, 'action', context, ack);
    const tell = clicker(deps, body, respond, client);
    const parsed = parseClick(body, action, 'release');
    if (!parsed.ok) return refuse(deps, parsed, ACTIONS.freeze, tell);
    const { click } = parsed;
    const result = await deps.rules.stopTheLine(click.id, click.user, click.card);
    await tell(
      result.ok
        ? `:snowflake: ${escape(result.freeze.environment)} is frozen until someone runs \`/release unfreeze ${escape(result.freeze.environment)}\`: “${escape(result.freeze.reason)}”. Releases there are refused; rollbacks and critical or high hotfixes go ahead.`
        : `:no_entry_sign: Not frozen: ${escape(result.why)}.`,
    );
  });

  registerIncidentFollowUps(app, deps);
}

/** The incident post's Acknowledge and Start post-mortem buttons: the flow checks the post, the role, and records. */
function registerIncidentFollowUps(app: App, deps: HandlerDeps): void {
  app.action<BlockAction<ButtonAction>>(ACTIONS.acknowledge, async ({ ack, action, body, respond, client, context }) => {
    await timedAck(deps.metrics, 'action', context, ack);
    const tell = clicker(deps, body, respond, client);
    const parsed = parseClick(body, action, 'release');
    if (!parsed.ok) return refuse(deps, parsed, ACTIONS.acknowledge, tell);
    const { click } = parsed;
    const result = await deps.postmortems.acknowledge(click.id, click.user, click.card);
    if (!result.ok) return tell(`:no_entry_sign: Not acknowledged: ${escape(result.why)}.`);
    if (!result.first) return tell(`Already acknowledged by ${mention(result.by)} at ${utc(result.at)}.`);
    return tell(`:eyes: Acknowledged: the incident post shows it is yours.`);
  });

  app.action<BlockAction<ButtonAction>>(ACTIONS.postmortem, async ({ ack, action, body, respond, client, context }) => {
    await timedAck(deps.metrics, 'action', context, ack);
    const tell = clicker(deps, body, respond, client);
    const parsed = parseClick(body, action, 'release');
    if (!parsed.ok) return refuse(deps, parsed, ACTIONS.postmortem, tell);
    const { click } = parsed;
    await tell(await postmortemReply(deps, click.id, click.user, click.card));
  });
}

/** Opens a modal; the error when Slack would not (an expired trigger_id, say). */
async function openForm(client: webApi.WebClient, triggerId: string | undefined, view: types.ModalView): Promise<string | undefined> {
  if (!triggerId) return 'the click carried no trigger_id';
  try {
    await withRateLimit(() => client.views.open({ trigger_id: triggerId, view }));
    return undefined;
  } catch (error) {
    return slackErrorCode(error);
  }
}

/**
 * How to answer the person who clicked: through the click's response_url, else an ephemeral message in the
 * card's channel. Never throws: a reply that cannot be delivered is logged.
 */
function clicker(deps: HandlerDeps, body: unknown, respond: RespondFn, client: webApi.WebClient): Tell {
  const { response_url: responseUrl, user, channel } = (body ?? {}) as { response_url?: unknown; user?: { id?: unknown }; channel?: { id?: unknown } };
  if (typeof responseUrl === 'string') {
    return async (text) => {
      await respond({ response_type: 'ephemeral', replace_original: false, ...note(text) }).catch((error: unknown) =>
        deps.log.error({ err: error }, 'could not answer the clicker through the response_url'),
      );
    };
  }
  const userId = typeof user?.id === 'string' ? user.id : undefined;
  const channelId = typeof channel?.id === 'string' ? channel.id : undefined;
  if (userId && channelId) return ephemeral(deps, client, channelId, userId);
  return async (text) => void deps.log.warn({ text: text.slice(0, 200) }, 'nowhere to tell the clicker');
}

function ephemeral(deps: HandlerDeps, client: webApi.WebClient, channel: string, user: string): Tell {
  return async (text) => {
    await withRateLimit(() => client.chat.postEphemeral({ channel, user, ...note(text) })).catch((error: unknown) =>
      deps.log.error({ channel, user, error: slackErrorCode(error) }, 'could not send an ephemeral answer'),
    );
  };
}

/** A click that cannot be read: logged; and, when we know who clicked, audited and told to them. */
async function refuse(deps: HandlerDeps, refusal: ClickRefusal, actionId: string, tell: Tell): Promise<void> {
  deps.log.warn({ action: actionId, user: refusal.user, problem: refusal.problem }, 'refused a click');
  if (!refusal.user) return;
  deps.audit.append({
    actor: refusal.user,
    action: actionId.startsWith('approval.') ? 'approval.denied' : actionId === ACTIONS.freeze ? 'freeze.denied' : actionId === ACTIONS.postmortem ? 'postmortem.denied' : actionId === ACTIONS.acknowledge ? 'incident.denied' : 'release.control_denied',
    subject: 'unknown',
    detail: { action: actionId, why: 'bad-input', problem: refusal.problem, ...(refusal.value !== undefined ? { value: refusal.value.slice(0, 100) } : {}) },
  });
  if (refusal.tell) await tell(`:warning: ${escape(refusal.tell)}`);
}

/**
 * Shows the outcome: the card redrawn on a change (or when an earlier redraw failed), an ephemeral note to the
 * clicker on a denial, and a note when the vote counted but the card could not be redrawn.
 */
async function afterVote(deps: HandlerDeps, result: VoteResult, decision: 'approve' | 'reject', tell: Tell): Promise<void> {
  const { record } = result;
  // A granted request that runs is the release engine's from now on: it redraws the card through its outbox.
  const engineOwnsCard = result.ok && record?.state === 'granted' && deps.operations.forRequest(record.id) !== undefined;
  if (record && !engineOwnsCard && (result.ok || record.state === 'expired' || deps.cards.needsRedraw(record.id))) {
    const drawn = await deps.cards.redraw(record);
    if (result.ok && drawn && !drawn.ok) await tell(cardNotRedrawn(record, decision, drawn.error));
  }
  if (!result.ok) await tell(denialText(result.denial, record, decision));
}
