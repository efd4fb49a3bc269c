import type { VoteDenial } from '../../../flows/approval.js';
import type { ApprovalRecord } from '../../../domain/approval.js';
import type { ControlVerb } from '../../../domain/operation.js';
import type { ControlResult } from '../../../flows/operations.js';
import { escape, mention, roleList, slackTime } from './format.js';

const DECIDED = { granted: 'approved', refused: 'rejected', expired: 'expired' } as const;

/** Why a click did not count, in words the clicker can act on (sent ephemerally). */
export function denialText(denial: VoteDenial, record: ApprovalRecord | undefined, decision: 'approve' | 'reject'): string {
  const what = record ? `${record.kind} of ${record.service} in ${record.environment}` : 'request';
  const verb = decision === 'approve' ? 'approve' : 'reject';
  switch (denial.reason) {
    case 'not-found':
      return `:warning: Request #${denial.id} does not exist.`;
    case 'wrong-card':
      return `:no_entry_sign: This button is not on request #${denial.id}'s card, so the click was not counted. Use the buttons on that request's own card.`;
    case 'no-card':
      return `:no_entry_sign: This click was not counted: request #${denial.id} has no card in Slack yet (it is still being posted, or posting it failed), and only a button on its own card can act on it.`;
    case 'requester':
      return `:no_entry_sign: You asked for this ${what}, so you cannot ${verb} it yourself. ${record ? `Someone with ${roleList(record.requirement.roles)} must.` : ''}`.trim();
    case 'no-role':
      return `:no_entry_sign: Only ${roleList(denial.roles)} may ${verb} this ${what}, and you hold none of these roles.`;
    case 'already-voted':
      return `:information_source: You already ${denial.vote.decision === 'approve' ? 'approved' : 'rejected'} this ${what} ${slackTime(denial.vote.at)}.`;
    case 'role-filled':
      return `:information_source: ${roleList(denial.held, 'and')} ${denial.held.length === 1 ? 'has' : 'have'} already approved this ${what}; still needed: ${roleList(denial.open, 'and')}.`;
    case 'expired':
      return `:alarm_clock: This ${what} expired ${slackTime(denial.expiresAt)}. Ask again if it is still wanted.`;
    case 'decided': {
      const by = denial.by ? ` by ${mention(denial.by.user)} ${slackTime(denial.by.at)}` : '';
      return `:information_source: Already ${DECIDED[denial.state]}${by}: your click changed nothing.`;
    }
  }
}

/** The vote counted but the card still shows the old state (Slack refused chat.update): say so, and what happens next. */
export function cardNotRedrawn(record: ApprovalRecord, decision: 'approve' | 'reject', error: string): string {
  const outcome = record.state === 'granted' ? ' and the request is approved' : record.state === 'refused' ? ' and the request is rejected' : '';
  const shortError = error.length > 100 ? `${error.slice(0, 100)}…` : error;
  return (
    `:warning: Your ${decision === 'approve' ? 'approval' : 'rejection'} of request #${record.id} is recorded${outcome}, ` +
    `but Lifeguard could not redraw the card (Slack answered: ${escape(shortError)}), so it may still show buttons that no longer count. ` +
    'Lifeguard redraws it at its next sweep, within a minute.'
  );
}

/** Why a pause, resume, abort or promote did nothing, in words the person can act on. */
export function controlDenialText(verb: ControlVerb, id: number, result: Extract<ControlResult, { ok: false }>): string {
  switch (result.denial) {
    case 'not-found':
      return `:warning: There is no release #${id}. The number is on the release card; \`/release status\` shows what runs.`;
    case 'wrong-card':
      return `:no_entry_sign: This button is not on release #${id}'s card, so nothing was done. Use the buttons on its own card.`;
    case 'no-role':
      return `:no_entry_sign: You may not ${verb} release #${id}: ${escape(result.why)}. Nothing was done, and the attempt is in the audit log.`;
    case 'refused':
      return `:information_source: Release #${id} was not ${verb === 'abort' ? 'aborted' : `${verb}d`}: ${escape(result.why)}.`;
  }
}
