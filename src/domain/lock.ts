import * as z from 'zod';
import { headline, operationSchema, type Operation } from './operation.js';

/**
 * Lock etiquette: one operation holds a service in an environment at a time (DESIGN §5). Whoever is refused
 * meanwhile is told who holds it and why, and is recorded as waiting, so that they hear when it ends instead of
 * asking again and again.
 */

/** Someone refused while an operation held the service; one per user per operation. */
export const waiterSchema = z.object({
  operationId: z.number().int(),
  service: z.string(),
  environment: z.string(),
  user: z.string(),
  /** What they asked for when first refused, so that the message telling them can say what to run again. */
  asked: z.object({ kind: z.enum(['release', 'hotfix']), version: z.string() }),
  /** RFC 3339: the first refusal; later ones keep it. */
  createdAt: z.string(),
  /** RFC 3339: when the message that the operation ended was written; null until then. */
  notifiedAt: z.string().nullable(),
});
export type Waiter = z.infer<typeof waiterSchema>;
export type NewWaiter = Omit<Waiter, 'createdAt' | 'notifiedAt'>;

/** What holds the lock, as the person refused needs to see it: what, who, since when, how it stands, where. */
export const lockHolderSchema = z.object({
  operationId: z.number().int(),
  kind: operationSchema.shape.kind,
  service: z.string(),
  environment: z.string(),
  fromVersion: z.string(),
  /** Null for a rollback, which releases nothing. */
  toVersion: z.string().nullable(),
  /** A Slack user id, `cli:<name>`, or `lifeguard` for a rollback Lifeguard started itself. */
  requestedBy: z.string(),
  approvedBy: z.array(z.string()),
  state: operationSchema.shape.state,
  /** Where it is, in words (e.g. "Step 2 of 4: 25 % of traffic on the canary, under analysis"). */
  headline: z.string(),
  /** RFC 3339: when it took the lock. */
  since: z.string(),
  /** Its card, whose thread tells its story; null when it has none (a rollback Lifeguard started). */
  thread: operationSchema.shape.card,
});
export type LockHolder = z.infer<typeof lockHolderSchema>;

export function lockHolder(op: Operation): LockHolder {
  return {
    operationId: op.id,
    kind: op.kind,
    service: op.service,
    environment: op.environment,
    fromVersion: op.from.version,
    toVersion: op.to?.version ?? null,
    requestedBy: op.requestedBy,
    approvedBy: op.approvedBy,
    state: op.state,
    headline: headline(op),
    since: op.createdAt,
    thread: op.card,
  };
}
