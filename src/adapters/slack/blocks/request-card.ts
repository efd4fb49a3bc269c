import type { HotfixCommand, RollbackCommand } from '../../../../commands/index.js';
import type { ApprovalRecord } from '../../../flows/approval.js';
import type { DeploymentSnapshot } from '../deployment-status.js';
import type { ApprovalView } from './approvals.js';
import type { SlackMessage } from './fit.js';
import { releaseCard, type Step } from './release-card.js';
import { rollbackPlan } from './rollback-plan.js';
import { escape } from './format.js';

/** What an approval request keeps about its command, written when it is opened; the card is rebuilt from it. */
export type RequestSummary =
  | {
      kind: 'release';
      command: { service: string; env: string; version: string; strategy: string };
      current: DeploymentSnapshot | null;
      steps: number[];
      pauseForApprovalAt: number[];
    }
  | { kind: 'rollback'; command: RollbackCommand; current: DeploymentSnapshot | null }
  | {
      kind: 'hotfix';
      command: HotfixCommand;
      current: DeploymentSnapshot | null;
      strategy: string;
      steps: number[];
      pauseForApprovalAt: number[];
    };

function plannedSteps(steps: number[], pauses: number[]): Step[] {
  return steps.map((weight) => ({ weight, state: 'pending', ...(pauses.includes(weight) ? { pause: true } : {}) }));
}

function approvalView(record: ApprovalRecord): ApprovalView {
  return { requestId: record.id, requirement: record.requirement, votes: record.votes, state: record.state, expiresAt: record.expiresAt };
}

/** The card of an approval request, as it stands now. */
export function requestCard(record: ApprovalRecord, executionAvailable: boolean): SlackMessage {
  const summary = record.summary as RequestSummary;
  const approval = approvalView(record);
  if (summary.kind === 'rollback') {
    const current = summary.current;
    const target = current
      ? summary.command.to !== undefined
        ? current.history.find((h) => h.revision === summary.command.to)
        : current.history[0]
      : undefined;
    return rollbackPlan({
      service: record.service,
      environment: record.environment,
      now: current ? { revision: current.revision, image: current.image } : undefined,
      after: target,
      requestedRevision: summary.command.to,
      canaryWeightNow: current?.canaryWeight,
      reason: summary.command.reason,
      requester: record.requester,
      approval,
      executionAvailable,
    });
  }
  // A hotfix is a release with an urgency and a reason: same card, its own title, strategy and notes.
  const hotfix = summary.kind === 'hotfix' ? summary : undefined;
  return releaseCard({
    title: `${hotfix ? 'Hotfix' : 'Release'} ${record.service} ${summary.command.version} → ${record.environment}`,
    service: record.service,
    environment: record.environment,
    fromVersion: summary.current?.version,
    toVersion: summary.command.version,
    strategy: summary.kind === 'hotfix' ? summary.strategy : summary.command.strategy,
    requester: record.requester,
    steps: plannedSteps(summary.steps, summary.pauseForApprovalAt),
    ...(hotfix ? { notes: [`*Urgency* ${hotfix.command.urgency}`, `*Reason* ${escape(hotfix.command.reason)}`] } : {}),
    approval,
    executionAvailable,
  });
}
