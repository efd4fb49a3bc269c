import type { Logger } from 'pino';
import type { Config } from '../../../config/schema.js';
import type { ApprovalFlow } from '../../../flows/approval.js';
import type { Metrics } from '../../../metrics.js';
import type { AuditLog } from '../../../ports.js';
import type { ReleaseRow } from '../../sqlite/releases.js';
import type { DeploymentSnapshot, DeploymentStatus } from '../deployment-status.js';
import type { PostingQueue } from '../posting-queue.js';

export type HistoryReader = (service: string, environment?: string) => ReleaseRow[];

export interface HandlerDeps {
  config: Config;
  flow: ApprovalFlow;
  queue: PostingQueue;
  /** Absent until a cluster adapter is wired: plans then show the running version as unknown. */
  status: DeploymentStatus | undefined;
  history: HistoryReader | undefined;
  audit: AuditLog;
  log: Logger;
  metrics: Metrics;
  /** How long a plan waits for the cluster before it is posted with what is known. */
  statusTimeoutMs: number;
}

/** Set on every request by the receiver (customPropertiesExtractor) so acks can be timed from arrival. */
export const RECEIVED_AT = 'lifeguardReceivedAt';

type Ack<A extends unknown[]> = (...args: A) => Promise<void>;

/** Acknowledges and records how long after arrival the acknowledgement left. */
export async function timedAck<A extends unknown[]>(
  metrics: Metrics,
  kind: 'command' | 'action' | 'view',
  context: Record<string, unknown>,
  ack: Ack<A>,
  ...args: A
): Promise<void> {
  await ack(...args);
  const arrived = context[RECEIVED_AT];
  if (typeof arrived === 'number') metrics.slackAckSeconds.observe({ kind }, (performance.now() - arrived) / 1000);
}

export type Lookup = { ok: true; snapshot: DeploymentSnapshot } | { ok: false; why: string };

/** Reads the deployment through the port, bounded in time; never throws. */
export async function lookUp(deps: HandlerDeps, service: string, environment: string): Promise<Lookup> {
  if (!deps.status) return { ok: false, why: 'no cluster is connected to this Lifeguard' };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Lookup>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, why: `the cluster did not answer within ${Math.round(deps.statusTimeoutMs / 1000)} s` }), deps.statusTimeoutMs);
  });
  const read = deps.status.describe(service, environment).then(
    (snapshot): Lookup => ({ ok: true, snapshot }),
    (error: unknown): Lookup => ({ ok: false, why: error instanceof Error ? error.message : String(error) }),
  );
  try {
    return await Promise.race([read, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
