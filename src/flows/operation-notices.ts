import type { Config } from '../config/schema.js';
import type { ApprovalRecord } from '../domain/approval.js';
import type { ChatFile, Incident, Note, OperationView, OutboxEntry } from '../domain/chat-messages.js';
import { availableControls, headline, stepStates, type Message, type Operation, type VerdictEvent } from '../domain/operation.js';
import type { Verdict } from '../domain/verdict.js';
import { incidentActions, incidentStatus, type IncidentFollowUp } from '../domain/incident-status.js';
import type { Clock, OutboxRepository, WaiterRepository } from '../ports.js';

/**
 * What people are told when an operation moves: its card redrawn, notes in its thread, the incident post.
 * Called inside the transition's transaction, so a message commits with the state that caused it.
 */
export interface OperationNotices {
  write(op: Operation, messages: readonly Message[], verdict?: VerdictEvent): void;
  /** A failing canary Lifeguard did not start, reported only (`unmanagedCanaries: notify`). */
  unmanaged(verdict: Verdict, weight: number, image: string): void;
  /** A granted request that did not start, said in its card's thread. */
  refused(request: ApprovalRecord, why: string): void;
  /** `op` has ended: each person refused while it held the service is told so, directly and once. */
  freed(op: Operation): void;
}

/** The incident post redrawn after a follow-up (`why`: `ack`, `postmortem`), in place: its slot's message is updated. */
export interface IncidentNotices {
  incidentChanged(op: Operation, why: string): void;
  /** A file shared in the thread of the operation's incident post (in the incident channel when it has none). */
  postmortemFile(op: Operation, file: ChatFile): void;
}

/** The card's operation part, drawn from the operation as stored. */
export function operationView(op: Operation): OperationView {
  return {
    id: op.id,
    kind: op.kind,
    state: op.state,
    headline: headline(op),
    steps: stepStates(op),
    weight: op.weight,
    controls: availableControls(op),
    ...(op.analysis.last ? { lastVerdict: op.analysis.last } : {}),
    ...(op.promotions.length ? { promotedBy: op.promotions.map((p) => ({ user: p.user, weight: p.weight })) } : {}),
    // Why it is paused or rolling back; the headline already says how it ended.
    ...(op.pause && op.pause.reason !== 'promotion' ? { why: op.pause.why } : op.state === 'rolling-back' && op.rollback ? { why: op.rollback.why } : {}),
  };
}

function incidentOutcome(op: Operation): Incident['outcome'] {
  if (op.state === 'paused') return 'paused';
  if (op.state === 'failed') return op.rollback?.restoredAt ? 'verify-failed' : 'escalated';
  return op.state === 'rolling-back' ? 'rolling-back' : 'rolled-back';
}

const NEXT_STEPS: Record<Incident['outcome'], string[]> = {
  'rolling-back': ['Lifeguard is restoring the stable; this post is updated as it goes.'],
  'rolled-back': [
    'Read the evidence in the release thread and fix the release before trying again.',
    'Acknowledge this post, and fill in the post-mortem draft attached in its thread (after a manual rollback: Start post-mortem first).',
  ],
  'verify-failed': ['The stable is unhealthy after the rollback: look at it now (`kubectl rollout status`, its pods and logs).', 'Lifeguard has done all it can; page the service owner.'],
  escalated: ['The rollback could not finish: look at the Deployments now (`kubectl rollout status`, their pods and events).', 'Lifeguard has done all it can; page the service owner.'],
  paused: ['A second canary failed within the rollback cooldown, so Lifeguard paused it instead of rolling back again.', 'Decide now on the release card: Abort rolls it back, Resume carries on.'],
};

/**
 * The incident channel's post about a rollback (or an escalation), as it stands; `page`: whom an escalation pages;
 * `followUp`: who acknowledged it and whether a post-mortem draft exists (its status and buttons follow).
 */
export function incident(op: Operation, page: readonly string[] = [], followUp: IncidentFollowUp = { postmortem: false }): Incident {
  const rb = op.rollback!;
  const outcome = incidentOutcome(op);
  return {
    operationId: op.id,
    service: op.service,
    environment: op.environment,
    fromVersion: op.from.version,
    ...(op.to ? { toVersion: op.to.version } : {}),
    trigger: rb.trigger,
    ...(rb.stepReached > 0 && op.steps.length ? { stepReached: rb.stepReached, stepsTotal: op.steps.length } : {}),
    weightReached: rb.weightReached,
    // A drain Lifeguard started was asked for by nobody; a terminal's rollback names its operator.
    ...(op.requestedBy !== 'lifeguard' ? { requestedBy: op.requestedBy } : {}),
    approvedBy: op.approvedBy,
    promotedBy: [...new Set(op.promotions.map((p) => p.user))],
    failing: rb.failing,
    timings: {
      ...(rb.breachStartedAt ? { breachStartedAt: rb.breachStartedAt } : {}),
      decidedAt: rb.decidedAt,
      ...(rb.drainedAt ? { drainedAt: rb.drainedAt } : {}),
      ...(rb.restoredAt ? { rolledBackAt: rb.restoredAt } : {}),
      ...(rb.verifiedAt ? { verifiedAt: rb.verifiedAt } : {}),
    },
    ...(op.card ? { thread: op.card } : {}),
    outcome,
    nextSteps: outcome === 'escalated' && rb.remaining ? [...rb.remaining, ...NEXT_STEPS.escalated.slice(1)] : NEXT_STEPS[outcome],
    ...(outcome === 'escalated' || outcome === 'verify-failed' ? { page: [...page], why: op.outcome ?? undefined } : {}),
    status: incidentStatus(outcome, followUp),
    ...(followUp.acknowledged ? { acknowledged: followUp.acknowledged } : {}),
    ...(followUp.postmortem ? { postmortem: true } : {}),
    actions: incidentActions({ trigger: rb.trigger, outcome }, followUp),
  };
}

/** The first message of a thread an operation without a card starts: what it is and who asked. */
function threadOpening(op: Operation): Note {
  const what = op.kind === 'rollback' ? (op.requestId === null && op.requestedBy === 'lifeguard' ? 'Drain of a failing canary' : 'Rollback') : op.kind === 'hotfix' ? 'Hotfix' : 'Release';
  const to = op.to ? ` → ${op.to.version}${op.to.revision !== undefined ? ` (revision ${op.to.revision})` : ''}` : '';
  return { headline: `${what} #${op.id}: ${op.service} in ${op.environment}`, lines: [`${op.from.version}${to}`, `Requested by ${op.requestedBy}. Progress follows in this thread.`], tone: 'info' };
}

/** Whom an escalation pages: the `on-call` role when the config has one, else whoever may approve rollbacks there. */
function onCall(config: Config, environment: string): string[] {
  const roles = config.roles['on-call'] ? ['on-call'] : (config.environments[environment]?.approvals.rollback.roles ?? []);
  return [...new Set(roles.flatMap((role) => config.roles[role] ?? []))];
}

/** The outbox slot of an operation's incident post: where it landed, once posted. */
export const incidentSlot = (operationId: number): string => `operation:${operationId}:incident`;

/** Notices as outbox entries: keys make each one unique per transition, slots make the card and the incident one message each. */
export function outboxNotices(deps: {
  config: Config;
  outbox: Pick<OutboxRepository, 'enqueue'>;
  waiters: Pick<WaiterRepository, 'unnotified' | 'markNotified'>;
  clock: Clock;
  kick: () => void;
  /** What people have done about an operation's incident (acknowledged, post-mortem drafted); none when absent. */
  followUp?: ((operationId: number) => IncidentFollowUp) | undefined;
}): OperationNotices & IncidentNotices {
  const { config, outbox, waiters, clock } = deps;
  const incidentEntry = (op: Operation, key: string): OutboxEntry => ({
    key,
    slot: incidentSlot(op.id),
    channel: config.slack.incidentChannel,
    message: { kind: 'incident', incident: incident(op, onCall(config, op.environment), deps.followUp?.(op.id)) },
  });
  const enqueue = (entry: OutboxEntry) => {
    outbox.enqueue(entry, clock.now());
    // Runs once the synchronous transaction around this call has committed: the sender then finds the entry.
    queueMicrotask(deps.kick);
  };
  return {
    write(op, messages, verdict) {
      const channel = op.card?.channel ?? config.services[op.service]?.channel ?? config.slack.releaseChannel;
      // Without a card (a rollback from the CLI, a drain Lifeguard started) the first message opens the thread.
      const thread = op.card ? { threadTs: op.card.ts } : { threadSlot: `operation:${op.id}:thread` };
      if (!op.card && messages.some((m) => m.kind === 'note')) {
        enqueue({ key: `operation:${op.id}:thread`, slot: thread.threadSlot, channel, message: { kind: 'note', note: threadOpening(op) } });
      }
      messages.forEach((message, index) => {
        const key = `operation:${op.id}:v${op.version}:${index}`;
        switch (message.kind) {
          case 'card':
            if (op.card) enqueue({ key, channel: op.card.channel, updateTs: op.card.ts, message: { kind: 'card', operationId: op.id } });
            return;
          case 'note':
            enqueue({
              key,
              channel,
              ...thread,
              message: { kind: 'note', note: { headline: message.headline, lines: message.lines, tone: message.tone, ...(message.verdict && verdict ? { verdict: verdict.evidence } : {}) } },
            });
            return;
          case 'incident':
            if (op.rollback) enqueue(incidentEntry(op, key));
            return;
        }
      });
    },
    incidentChanged(op, why) {
      if (op.rollback) enqueue(incidentEntry(op, `operation:${op.id}:incident:${why}`));
    },
    postmortemFile(op, file) {
      enqueue({ key: `operation:${op.id}:postmortem`, channel: config.slack.incidentChannel, threadSlot: incidentSlot(op.id), message: { kind: 'file', file } });
    },
    refused(request, why) {
      const channel = request.channel ?? config.services[request.service]?.channel ?? config.slack.releaseChannel;
      const note = {
        headline: `Request #${request.id} is approved but did not start: ${why}`,
        lines: ['Nothing was changed in the cluster. Ask again once this is resolved.'],
        tone: 'warning' as const,
      };
      enqueue({ key: `request:${request.id}:refused`, channel, ...(request.messageTs ? { threadTs: request.messageTs } : {}), message: { kind: 'note', note } });
    },
    freed(op) {
      for (const waiter of waiters.unnotified(op.id)) {
        // A user id as the channel: Slack posts it in the user's direct messages with the app.
        const freed = { service: op.service, environment: op.environment, operationId: op.id, kind: op.kind, requestedBy: op.requestedBy, state: op.state, asked: waiter.asked, thread: op.card };
        enqueue({ key: `lock-freed:${op.id}:${waiter.user}`, channel: waiter.user, message: { kind: 'lock-freed', freed } });
        waiters.markNotified(op.id, waiter.user, clock.now());
      }
    },
    unmanaged(verdict, weight, image) {
      // Once per failing image, not once per verdict: the channel is told, not flooded every interval.
      const key = `unmanaged:${verdict.service}/${verdict.environment}:${image}`;
      const note = {
        headline: `A canary Lifeguard did not start is failing: ${verdict.service} in ${verdict.environment}, at ${weight} % of traffic`,
        lines: [...verdict.reasons, `It runs ${image}. Lifeguard changed nothing (unmanagedCanaries: notify, or a rollback within the cooldown). Drain it, or start a rollback with /rollback.`],
        tone: 'bad' as const,
        verdict,
      };
      enqueue({ key, channel: config.slack.incidentChannel, message: { kind: 'note', note } });
    },
  };
}
