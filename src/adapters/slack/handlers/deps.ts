import type { Logger } from 'pino';
import type { Config } from '../../../config/schema.js';
import type { ApprovalFlow } from '../../../flows/approval.js';
import type { CardFlow } from '../../../flows/cards.js';
import type { RequestFlow } from '../../../flows/requests.js';
import type { ReleaseRules } from '../../../flows/release-rules.js';
import type { ReleaseEngine } from '../../../flows/operations.js';
import type { PostmortemFlow } from '../../../flows/postmortem.js';
import type { Telemetry } from '../../../metrics.js';
import type { HistoryReader } from '../../../flows/history.js';
import type { AuditLog } from '../../../ports.js';
import type { PostingQueue } from '../posting-queue.js';

export interface HandlerDeps {
  config: Config;
  flow: ApprovalFlow;
  requests: RequestFlow;
  cards: CardFlow;
  /** Pause, resume, abort and promote of running operations. */
  operations: Pick<ReleaseEngine, 'control' | 'forRequest'>;
  history: HistoryReader;
  /** Freezes and holds: `/release freeze|unfreeze|unhold|status` and the incident post's Freeze button. */
  rules: Pick<ReleaseRules, 'freeze' | 'unfreeze' | 'unhold' | 'status' | 'stopTheLine'>;
  /** Post-mortem drafts and incident acknowledgements. */
  postmortems: Pick<PostmortemFlow, 'request' | 'acknowledge' | 'incidentPost'>;
  queue: PostingQueue;
  audit: Pick<AuditLog, 'append'>;
  log: Logger;
  metrics: Telemetry;
}

/** Set on every request by the receiver (customPropertiesExtractor) so acks can be timed from arrival. */
export const RECEIVED_AT = 'lifeguardReceivedAt';

type Ack<A extends unknown[]> = (...args: A) => Promise<void>;

/** Acknowledges and records how long after arrival the acknowledgement left. */
export async function timedAck<A extends unknown[]>(
  metrics: Telemetry,
  kind: 'command' | 'action' | 'view',
  context: Record<string, unknown>,
  ack: Ack<A>,
  ...args: A
): Promise<void> {
  await ack(...args);
  const arrived = context[RECEIVED_AT];
  if (typeof arrived === 'number') metrics.slackAckSeconds.observe({ kind }, (performance.now() - arrived) / 1000);
}
