import type { VoteDenial } from '../../../flows/approval.js';
import type { ApprovalRecord } from '../../../flows/approval.js';
import { mention, roleList, slackTime } from './format.js';

const DECIDED = { granted: 'approved', refused: 'rejected', expired: 'expired' } as const;

/** Why a click did not count, in words the clicker can act on (sent ephemerally). */
export function denialText(denial: VoteDenial, record: ApprovalRecord | undefined, decision: 'approve' | 'reject'): string {
  const what = record ? `${record.kind} of ${record.service} in ${record.environment}` : 'request';
  const verb = decision === 'approve' ? 'approve' : 'reject';
  switch (denial.reason) {
    case 'not-found':
      return `:warning: Request #${denial.id} does not exist.`;
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
