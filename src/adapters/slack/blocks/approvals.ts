import type { KnownBlock } from './fit.js';
import { stillNeeded, type ApprovalState, type Requirement, type Vote } from '../../../domain/approval.js';
import { escape, mention, plural, roleList, slackTime } from './format.js';

/** Action ids of the card buttons; each button's value is the approval request or operation id. */
export const ACTIONS = {
  approve: 'approval.approve',
  reject: 'approval.reject',
  promote: 'release.promote',
  pause: 'release.pause',
  resume: 'release.resume',
  abort: 'release.abort',
  /** On an incident post: freeze the environment until someone unfreezes ("stop the line"). */
  freeze: 'incident.freeze',
  /** On an incident post: records who acknowledged it. */
  acknowledge: 'incident.acknowledge',
  /** On a manual rollback's incident post: drafts its post-mortem. */
  postmortem: 'incident.postmortem',
} as const;

export const REJECT_MODAL = 'approval.reject_reason';

export interface ApprovalView {
  requestId: number;
  requirement: Requirement;
  votes: Vote[];
  state: ApprovalState;
  expiresAt: Date;
}

const STATE_LINE: Record<ApprovalState, string> = {
  pending: ':hourglass_flowing_sand: Waiting for approval',
  granted: ':white_check_mark: Approved',
  refused: ':no_entry: Rejected',
  expired: ':alarm_clock: Expired: nobody approved in time',
};

export function approvalStateLine(state: ApprovalState): string {
  return STATE_LINE[state];
}

/** Who approved or rejected, and what is still needed. */
export function approvalSection(view: ApprovalView): KnownBlock {
  const lines = view.votes.map((v) => {
    const verb = v.decision === 'approve' ? ':white_check_mark: Approved' : ':no_entry: Rejected';
    const why = v.reason ? `: “${escape(v.reason)}”` : '';
    return `${verb} by ${mention(v.user)} as *${v.role}* ${slackTime(v.at)}${why}`;
  });
  const needed = stillNeeded(view.requirement, view.votes);
  if (view.requirement.mode === 'any' && view.requirement.count === 0) {
    lines.push('No approval needed in this environment.');
  } else if (view.state === 'pending' && needed.count > 0) {
    lines.push(
      view.requirement.mode === 'any'
        ? `Still needed: ${plural(needed.count, 'approval')} from ${roleList(needed.roles)}. The requester cannot approve their own request.`
        : `Still needed: one approval from each of ${roleList(needed.roles, 'and')}. The requester cannot approve their own request.`,
    );
  }
  return { type: 'section', block_id: 'approvals', text: { type: 'mrkdwn', text: `*Approvals*\n${lines.join('\n')}` } };
}

export function approvalButtons(requestId: number): KnownBlock {
  const value = String(requestId);
  return {
    type: 'actions',
    block_id: 'approval_actions',
    elements: [
      { type: 'button', action_id: ACTIONS.approve, text: { type: 'plain_text', text: 'Approve' }, style: 'primary', value },
      { type: 'button', action_id: ACTIONS.reject, text: { type: 'plain_text', text: 'Reject' }, style: 'danger', value },
    ],
  };
}

/** The footer: request id (and its operation's, once one runs), expiry, and what happens once granted. */
export function approvalFooter(view: ApprovalView, executionAvailable: boolean, operationId?: number): KnownBlock {
  const parts = [`Request #${view.requestId}`, ...(operationId !== undefined ? [`Operation #${operationId}`] : [])];
  if (view.state === 'pending') parts.push(`expires ${slackTime(view.expiresAt)}`);
  if (view.state === 'granted' && !executionAvailable) {
    parts.push(':information_source: Approval recorded. Lifeguard cannot carry this out yet in this version: nothing was changed in the cluster.');
  }
  return { type: 'context', elements: [{ type: 'mrkdwn', text: parts.join(' · ') }] };
}
