import type { OperationView } from '../../../domain/chat-messages.js';
import { approvalButtons, approvalFooter, approvalSection, approvalStateLine, type ApprovalView } from './approvals.js';
import { fitMessage, type KnownBlock, type SlackMessage } from './fit.js';
import { escape, mention } from './format.js';
import { operationButtons, operationSection, operationStateLine, stepLine } from './operation.js';

export interface RevisionView {
  revision: number;
  image: string;
}

export interface RollbackPlanInput {
  service: string;
  environment: string;
  /** Undefined when the cluster could not tell. */
  now: RevisionView | undefined;
  after: RevisionView | undefined;
  /** Why there is no revision to go to (already running it, or no such revision), when the cluster said. */
  afterNote?: string | undefined;
  /** The revision asked for with `to=`, when the cluster could not confirm it. */
  requestedRevision?: number | undefined;
  canaryWeightNow: number | undefined;
  reason: string;
  requester: string;
  approval?: ApprovalView;
  executionAvailable: boolean;
  /** Once the rollback runs: where it stands, and its controls in place of the approval buttons. */
  operation?: OperationView | undefined;
}

function revision(view: RevisionView | undefined, fallback?: number): string {
  if (view) return `revision ${view.revision}: \`${escape(view.image)}\``;
  return fallback !== undefined ? `revision ${fallback}: _image unknown_` : '_unknown_';
}

/** The rollback plan: revision and image now → after, and how traffic changes. */
export function rollbackPlan(input: RollbackPlanInput): SlackMessage {
  const traffic =
    input.canaryWeightNow === undefined
      ? '_unknown: the cluster did not answer_'
      : input.canaryWeightNow > 0
        ? `canary ${input.canaryWeightNow}% → 0% (drained first); stable ${100 - input.canaryWeightNow}% → 100%`
        : 'no canary running; stable keeps 100%';
  const title = `Rollback ${input.service} in ${input.environment}`;
  const { operation } = input;
  const state = operation ? operationStateLine(operation) : input.approval ? approvalStateLine(input.approval.state) : 'Planned';
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: title } },
    {
      type: 'section',
      block_id: 'plan',
      fields: [
        { type: 'mrkdwn', text: `*Now*\n${revision(input.now)}` },
        { type: 'mrkdwn', text: `*After*\n${input.afterNote ? escape(input.afterNote) : revision(input.after, input.requestedRevision)}` },
        { type: 'mrkdwn', text: `*Traffic*\n${traffic}` },
        { type: 'mrkdwn', text: `*Requested by*\n${mention(input.requester)}` },
        { type: 'mrkdwn', text: `*State*\n${state}` },
      ],
    },
    { type: 'section', block_id: 'reason', text: { type: 'mrkdwn', text: `*Reason*\n${escape(input.reason)}` } },
  ];
  if (operation) {
    if (operation.steps.length) blocks.push({ type: 'section', block_id: 'steps', text: { type: 'mrkdwn', text: `*Steps*\n${stepLine(operation.steps)}` } });
    blocks.push(operationSection(operation));
  }
  if (input.approval) {
    blocks.push(approvalSection(input.approval));
    if (input.approval.state === 'pending' && !operation) blocks.push(approvalButtons(input.approval.requestId));
  }
  const controls = operation && operationButtons(operation);
  if (controls) blocks.push(controls);
  if (input.approval) blocks.push(approvalFooter(input.approval, input.executionAvailable, operation?.id));
  const after = input.after?.image ?? input.afterNote ?? 'previous revision';
  return fitMessage({ text: `${title}: ${input.now?.image ?? 'unknown'} → ${after}`, blocks });
}
