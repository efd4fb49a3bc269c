import type { OperationStep, OperationView } from '../../../domain/chat-messages.js';
import { approvalButtons, approvalFooter, approvalSection, approvalStateLine, type ApprovalView } from './approvals.js';
import { fitMessage, type KnownBlock, type SlackMessage } from './fit.js';
import { escape, mention } from './format.js';
import { operationButtons, operationSection, operationStateLine, stepLine } from './operation.js';

export interface ReleaseCardInput {
  title: string;
  service: string;
  environment: string;
  /** Undefined when the cluster could not tell. */
  fromVersion: string | undefined;
  toVersion: string;
  strategy: string;
  requester: string;
  /** The plan's steps; a running operation's own steps replace them. */
  steps: OperationStep[];
  /** Extra lines under the plan, e.g. urgency and reason of a hotfix. */
  notes?: string[];
  approval?: ApprovalView;
  executionAvailable: boolean;
  /** Once the request runs: where its operation stands, and its controls in place of the approval buttons. */
  operation?: OperationView | undefined;
}

/** The release card posted in the service's channel: plan, steps, approvals, state and buttons. */
export function releaseCard(input: ReleaseCardInput): SlackMessage {
  const { operation } = input;
  const from = input.fromVersion ? `\`${escape(input.fromVersion)}\`` : '_unknown_';
  const state = operation ? operationStateLine(operation) : input.approval ? approvalStateLine(input.approval.state) : 'Planned';
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: input.title } },
    {
      type: 'section',
      block_id: 'plan',
      fields: [
        { type: 'mrkdwn', text: `*Service*\n${escape(input.service)}` },
        { type: 'mrkdwn', text: `*Environment*\n${escape(input.environment)}` },
        { type: 'mrkdwn', text: `*Version*\n${from} → \`${escape(input.toVersion)}\`` },
        { type: 'mrkdwn', text: `*Strategy*\n${escape(input.strategy)}` },
        { type: 'mrkdwn', text: `*Requested by*\n${mention(input.requester)}` },
        { type: 'mrkdwn', text: `*State*\n${state}` },
      ],
    },
    { type: 'section', block_id: 'steps', text: { type: 'mrkdwn', text: `*Steps*\n${stepLine(operation?.steps ?? input.steps)}` } },
  ];
  if (operation) blocks.push(operationSection(operation));
  if (input.notes?.length) blocks.push({ type: 'section', block_id: 'notes', text: { type: 'mrkdwn', text: input.notes.join('\n') } });
  if (input.approval) {
    blocks.push(approvalSection(input.approval));
    if (input.approval.state === 'pending' && !operation) blocks.push(approvalButtons(input.approval.requestId));
  }
  const controls = operation && operationButtons(operation);
  if (controls) blocks.push(controls);
  if (input.approval) blocks.push(approvalFooter(input.approval, input.executionAvailable, operation?.id));
  const text = `${input.title}: ${input.fromVersion ?? 'unknown'} → ${input.toVersion} (${state.replace(/^:[a-z_]+: /, '')})`;
  return fitMessage({ text, blocks });
}
