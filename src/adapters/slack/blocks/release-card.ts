import { approvalButtons, approvalFooter, approvalSection, approvalStateLine, releaseControlButtons, type ApprovalView } from './approvals.js';
import { fitMessage, type KnownBlock, type SlackMessage } from './fit.js';
import { escape, mention } from './format.js';

export interface Step {
  weight: number;
  state: 'done' | 'current' | 'pending';
  /** The release waits here for someone to press Promote. */
  pause?: boolean;
}

export interface ReleaseCardInput {
  title: string;
  service: string;
  environment: string;
  /** Undefined when the cluster could not tell. */
  fromVersion: string | undefined;
  toVersion: string;
  strategy: string;
  requester: string;
  steps: Step[];
  /** Extra lines under the plan, e.g. urgency and reason of a hotfix. */
  notes?: string[];
  approval?: ApprovalView;
  executionAvailable: boolean;
  /** Set while a release runs: its id, for Promote and Abort. */
  running?: { releaseId: string; state: string };
}

const STEP_ICON = { done: ':white_check_mark:', current: ':arrow_forward:', pending: ':white_square:' } as const;

export function stepLine(steps: Step[]): string {
  return steps.map((s) => `${STEP_ICON[s.state]} ${s.weight}%${s.pause ? ' _(pause for Promote)_' : ''}`).join('  →  ');
}

/** The release card posted in the service's channel: plan, steps, approvals, state and buttons. */
export function releaseCard(input: ReleaseCardInput): SlackMessage {
  const from = input.fromVersion ? `\`${escape(input.fromVersion)}\`` : '_unknown_';
  const state = input.running ? input.running.state : input.approval ? approvalStateLine(input.approval.state) : 'Planned';
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
    { type: 'section', block_id: 'steps', text: { type: 'mrkdwn', text: `*Steps*\n${stepLine(input.steps)}` } },
  ];
  if (input.notes?.length) blocks.push({ type: 'section', block_id: 'notes', text: { type: 'mrkdwn', text: input.notes.join('\n') } });
  if (input.approval) {
    blocks.push(approvalSection(input.approval));
    if (input.approval.state === 'pending') blocks.push(approvalButtons(input.approval.requestId));
  }
  if (input.running) blocks.push(releaseControlButtons(input.running.releaseId));
  if (input.approval) blocks.push(approvalFooter(input.approval, input.executionAvailable));
  const text = `${input.title}: ${input.fromVersion ?? 'unknown'} → ${input.toVersion} (${state.replace(/^:[a-z_]+: /, '')})`;
  return fitMessage({ text, blocks });
}
