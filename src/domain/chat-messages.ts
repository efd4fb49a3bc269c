import * as z from 'zod';
import { CONTROL_VERBS, failingMetricSchema, operationSchema, ROLLBACK_TRIGGERS } from './operation.js';
import { waiterSchema } from './lock.js';
import { verdictSchema } from './verdict.js';
import { healthSummarySchema } from './health-summary.js';

/**
 * What the release engine says in chat, as data: the engine writes these into the outbox in the transaction of
 * the transition that caused them, and the chat adapter renders them. No Block Kit here: a view model is what
 * the engine means, the rendering is Slack's business.
 */


export const operationStepSchema = z.object({
  /** Canary traffic percent of the step. */
  weight: z.number(),
  state: z.enum(['done', 'current', 'pending', 'skipped']),
  /** The operation waits here for someone to press Promote. */
  pause: z.boolean().optional(),
});
export type OperationStep = z.infer<typeof operationStepSchema>;

/** What a running operation adds to its request's card. */
export const operationViewSchema = z.object({
  id: z.number().int(),
  kind: operationSchema.shape.kind,
  state: operationSchema.shape.state,
  /** e.g. "Step 2 of 4: 25 % of traffic on the canary". */
  headline: z.string(),
  steps: z.array(operationStepSchema),
  /** Canary traffic percent now. */
  weight: z.number(),
  /** The buttons to show; none once the operation has ended. */
  controls: z.array(z.enum(CONTROL_VERBS)),
  lastVerdict: z.object({ verdict: z.enum(['pass', 'fail', 'inconclusive']), at: z.string(), reasons: z.array(z.string()) }).optional(),
  promotedBy: z.array(z.object({ user: z.string(), weight: z.number() })).optional(),
  /** Why it is paused, or why it ended. */
  why: z.string().optional(),
});
export type OperationView = z.infer<typeof operationViewSchema>;

/**
 * A post in the release thread. Texts are plain: `&`, `<` and `>` are shown as typed, so a reason someone typed
 * can neither link nor notify the channel; a Slack user id written as `<@U…>` is the one thing shown as a mention.
 */
export const noteSchema = z.object({
  headline: z.string(),
  lines: z.array(z.string()),
  tone: z.enum(['info', 'good', 'warning', 'bad']),
  verdict: verdictSchema.optional(),
});
export type Note = z.infer<typeof noteSchema>;

export const INCIDENT_OUTCOMES = ['rolling-back', 'rolled-back', 'verify-failed', 'escalated', 'paused'] as const;
export const INCIDENT_STATUSES = ['investigating', 'mitigated', 'resolved'] as const;
export const INCIDENT_ACTIONS = ['acknowledge', 'postmortem'] as const;

/** The incident channel's post about an automated rollback; times are RFC 3339. Later timings update the same post. */
export const incidentSchema = z.object({
  operationId: z.number().int(),
  service: z.string(),
  environment: z.string(),
  fromVersion: z.string().optional(),
  toVersion: z.string().optional(),
  trigger: z.enum(ROLLBACK_TRIGGERS),
  /** 1-based. */
  stepReached: z.number().int().optional(),
  stepsTotal: z.number().int().optional(),
  weightReached: z.number(),
  requestedBy: z.string().optional(),
  approvedBy: z.array(z.string()),
  promotedBy: z.array(z.string()),
  failing: z.array(failingMetricSchema),
  timings: z.object({
    breachStartedAt: z.string().optional(),
    decidedAt: z.string(),
    drainedAt: z.string().optional(),
    rolledBackAt: z.string().optional(),
    verifiedAt: z.string().optional(),
  }),
  /** The release thread: the card's channel id and ts. */
  thread: z.object({ channel: z.string(), ts: z.string() }).optional(),
  outcome: z.enum(INCIDENT_OUTCOMES),
  nextSteps: z.array(z.string()),
  /** Who is paged by the post: the on-call role's members (Slack user ids or @usergroup handles), on an escalation. */
  page: z.array(z.string()).optional(),
  /** Why it could not finish, on an escalation. */
  why: z.string().optional(),
  /** Investigating → mitigated (rolled back and verified) → resolved (acknowledged, with a post-mortem draft). */
  status: z.enum(INCIDENT_STATUSES).optional(),
  /** The first person who clicked Acknowledge, and when (RFC 3339). */
  acknowledged: z.object({ by: z.string(), at: z.string() }).optional(),
  /** A post-mortem draft exists: it is a file in the post's thread. */
  postmortem: z.boolean().optional(),
  /** The buttons to show besides Freeze. */
  actions: z.array(z.enum(INCIDENT_ACTIONS)).optional(),
});
export type Incident = z.infer<typeof incidentSchema>;

/** A direct message to someone refused while an operation held the service: it has ended, they may ask again. */
export const lockFreedSchema = z.object({
  service: z.string(),
  environment: z.string(),
  operationId: z.number().int(),
  kind: operationSchema.shape.kind,
  requestedBy: operationSchema.shape.requestedBy,
  /** How it ended: a final state. */
  state: operationSchema.shape.state,
  asked: waiterSchema.shape.asked,
  thread: operationSchema.shape.card,
});
export type LockFreed = z.infer<typeof lockFreedSchema>;

/** A text file to share: its name, title, content and the words posted with it. */
export const fileSchema = z.object({
  filename: z.string().min(1).max(200),
  title: z.string().min(1).max(200),
  content: z.string().min(1),
  comment: z.string().optional(),
});
export type ChatFile = z.infer<typeof fileSchema>;

export const outboxMessageSchema = z.discriminatedUnion('kind', [
  /** Redraw the operation's card from the store at delivery time, so that it always shows the latest truth. */
  z.object({ kind: z.literal('card'), operationId: z.number().int() }),
  z.object({ kind: z.literal('note'), note: noteSchema }),
  z.object({ kind: z.literal('incident'), incident: incidentSchema }),
  z.object({ kind: z.literal('lock-freed'), freed: lockFreedSchema }),
  /** One part of a channel's scheduled health summary. */
  z.object({ kind: z.literal('health-summary'), summary: healthSummarySchema }),
  /** A text file shared in the channel (a thread, with `threadSlot`), e.g. a post-mortem draft. */
  z.object({ kind: z.literal('file'), file: fileSchema }),
]);
export type OutboxMessage = z.infer<typeof outboxMessageSchema>;

/** What the engine enqueues, inside the transaction of the transition that caused it. */
export const outboxEntrySchema = z.object({
  /** Unique per message: enqueueing the same key again is a no-op, and the key tags the Slack message so a resend can find it. */
  key: z.string().min(1),
  /** Entries sharing a slot are one Slack message: the first is posted, later ones update it. */
  slot: z.string().min(1).optional(),
  channel: z.string().min(1),
  threadTs: z.string().optional(),
  /** A slot whose message is the thread (an operation without a card starts its own): resolved when sent. */
  threadSlot: z.string().min(1).optional(),
  /** An existing message to update instead of posting (the request's card). */
  updateTs: z.string().optional(),
  message: outboxMessageSchema,
});
export type OutboxEntry = z.infer<typeof outboxEntrySchema>;
