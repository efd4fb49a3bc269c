import type { ApprovalRecord } from '../../../domain/approval.js';
import type { OperationStep, OperationView } from '../../../domain/chat-messages.js';
import type { HotfixPlan, Plan } from '../../../domain/plans.js';
import type { ApprovalView } from './approvals.js';
import type { SlackMessage } from './fit.js';
import { releaseCard } from './release-card.js';
import { rollbackPlan, type RollbackPlanInput } from './rollback-plan.js';
import { escape, humanDuration } from './format.js';
import { ruleNotes } from './release-rules.js';

const HOTFIX_PATH_LABELS: Record<HotfixPlan['path'], string> = {
  direct: 'direct rollout, watched by analysis',
  'fast-canary': 'fast canary',
  canary: 'canary',
};

/** Why a hotfix takes its path, in the words of the urgency rules. */
function hotfixWhy(plan: HotfixPlan): string {
  switch (plan.path) {
    case 'direct':
      return `${plan.urgency}: no canary, the stable is updated at once and watched; a failing verdict rolls it back`;
    case 'fast-canary':
      return `${plan.urgency}: ${plan.steps.join(' → ')} %, steps of ${plan.stepDurationMs !== undefined ? humanDuration(plan.stepDurationMs) : 'the usual length'}, no promote pause`;
    case 'canary':
      return `${plan.urgency}: the service's normal canary, with its pauses`;
  }
}

function plannedSteps(steps: number[], pauses: number[]): OperationStep[] {
  return steps.map((weight) => ({ weight, state: 'pending', ...(pauses.includes(weight) ? { pause: true } : {}) }));
}

function approvalView(record: ApprovalRecord): ApprovalView {
  return { requestId: record.id, requirement: record.requirement, votes: record.votes, state: record.state, expiresAt: record.expiresAt };
}

/** "After" on a rollback card: exactly where the plan says `kubectl rollout undo` goes, or why it goes nowhere. */
function rollbackAfter(plan: Extract<Plan, { kind: 'rollback' }>): Pick<RollbackPlanInput, 'after' | 'afterNote'> {
  if (!plan.target) return { after: undefined };
  if (plan.target.kind === 'rollback') return { after: { revision: plan.target.to, image: plan.target.image } };
  return { after: undefined, afterNote: plan.target.message };
}

/** The card of an approval request, as it stands now, drawn from its plan and, once it runs, its operation. */
export function requestCard(record: ApprovalRecord, executionAvailable: boolean, operation?: OperationView): SlackMessage {
  const { plan } = record;
  const approval = approvalView(record);
  if (plan.kind === 'rollback') {
    return rollbackPlan({
      service: record.service,
      environment: record.environment,
      now: plan.running ? { revision: plan.running.revision, image: plan.running.image } : undefined,
      ...rollbackAfter(plan),
      requestedRevision: plan.requestedRevision,
      canaryWeightNow: plan.canaryWeightNow ?? undefined,
      reason: plan.reason,
      requester: record.requester,
      approval,
      executionAvailable,
      operation,
    });
  }
  // A hotfix is a release with an urgency and a reason: same card, its own title, strategy and notes.
  const hotfix = plan.kind === 'hotfix' ? plan : undefined;
  return releaseCard({
    title: `${hotfix ? 'Hotfix' : 'Release'} ${record.service} ${plan.version} → ${record.environment}`,
    service: record.service,
    environment: record.environment,
    fromVersion: plan.running?.version,
    toVersion: plan.version,
    strategy: plan.kind === 'hotfix' ? HOTFIX_PATH_LABELS[plan.path] : plan.strategy,
    requester: record.requester,
    steps: plannedSteps(plan.steps, plan.pauseForApprovalAt),
    notes: [...(hotfix ? [`*Urgency* ${hotfix.urgency}`, `*Path* ${HOTFIX_PATH_LABELS[hotfix.path]} (${hotfixWhy(hotfix)})`, `*Reason* ${escape(hotfix.reason)}`] : []), ...ruleNotes(plan)],
    approval,
    executionAvailable,
    operation,
  });
}
