/**
 * What the flows need from the world. Adapters implement these; the domain never sees them.
 */
import type {
  Evidence,
  RollbackResult,
  RolloutProgress,
  RolloutResult,
  ServiceState,
  ServiceTarget,
  Track,
  TrafficWeights,
} from './domain/cluster-state.js';
import type { ApprovalRecord, ApprovalState, NewApproval, Vote } from './domain/approval.js';
import type { Checkpoint } from './domain/checkpoint.js';
import type { KeptEvidence } from './domain/kept-evidence.js';
import type { ChatFile, Incident, LockFreed, Note, OperationView, OutboxEntry } from './domain/chat-messages.js';
import type { NewWaiter, Waiter } from './domain/lock.js';
import type { HealthSummary } from './domain/health-summary.js';
import type { Operation } from './domain/operation.js';
import type { AuditEvent } from './domain/postmortem.js';
import type { AdHocFreeze, NewAdHocFreeze } from './domain/freezes.js';
import type { NewVersionHold, VersionHold } from './domain/holds.js';
import type { ProbeOutcome } from './domain/judge.js';
import type { MatrixOutcome, VectorOutcome } from './domain/query-outcome.js';
import type { Verdict } from './domain/verdict.js';

/** Time, injectable so that ticks, expiries and cooldowns are deterministic in tests. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** One decision or action to write to the tamper-evident audit log. */
export interface AuditEntry {
  /** Slack user id, `cli:<name>` or `lifeguard`. */
  actor: string;
  action: string;
  /** e.g. `checkout/production`. */
  subject: string;
  /** JSON-serialisable evidence: values, thresholds, verdicts behind the decision. */
  detail: Record<string, unknown>;
}

export interface AuditLog {
  /** Appends one row, inside the caller's transaction when there is one. */
  append(entry: AuditEntry): AuditRecord;
  /**
   * Appends with group commit: rows arriving together share one fsync; settles once the row is on disk. For
   * rows that no state change must commit with (verdicts).
   */
  appendDurable(entry: AuditEntry): Promise<AuditRecord>;
}

export interface AuditRecord extends AuditEntry {
  id: number;
  at: string;
  prevHash: string;
  hash: string;
}

/** The time span and resolution of a range query. */
export interface QueryRange {
  start: Date;
  end: Date;
  /** Milliseconds between evaluation steps. */
  stepMs: number;
}

/**
 * PromQL queries against the metrics backend. Never throws for a failed query: every answer, including an
 * unreachable server or a timeout, comes back as an outcome the judge can classify.
 */
export interface Metrics {
  /** Instant query evaluated at `at`. */
  instant(query: string, at: Date): Promise<VectorOutcome>;
  /** Range query from `range.start` to `range.end` every `range.stepMs`. */
  range(query: string, range: QueryRange): Promise<MatrixOutcome>;
}

export type { Evidence, RollbackResult, RolloutProgress, RolloutResult, ServiceState, ServiceTarget, Track, TrafficWeights };

/**
 * A service's Deployments. Each write is what an SRE would do with kubectl, touches only the fields it must,
 * is safe to repeat, and fails with a message that says what to fix.
 */
export interface Workloads {
  /** Stable and canary Deployments, the stable's revision history, and the current traffic weights. */
  readState(target: ServiceTarget): Promise<ServiceState>;
  /** Sets the image of the configured container on the canary Deployment. */
  setCanaryImage(target: ServiceTarget, image: string, opts?: { changeCause?: string }): Promise<{ changed: boolean }>;
  scaleCanary(target: ServiceTarget, replicas: number): Promise<void>;
  /** The stable Deployment gets the canary's image. */
  promote(target: ServiceTarget, opts?: { changeCause?: string }): Promise<{ image: string; changed: boolean }>;
  /** Sets the image of the configured container on the stable Deployment (a rolling update, or a promotion to a known image). */
  setStableImage(target: ServiceTarget, image: string, opts?: { changeCause?: string }): Promise<{ changed: boolean }>;
  /** Rolls the stable Deployment back as `kubectl rollout undo [--to-revision]` does. */
  rollback(target: ServiceTarget, opts?: { toRevision?: number }): Promise<RollbackResult>;
  /** Waits until the Deployment's rollout completes, fails (ProgressDeadlineExceeded), times out or is aborted. */
  waitForRollout(
    target: ServiceTarget,
    track: Track,
    opts: { timeoutMs: number; pollMs?: number; onProgress?: (progress: RolloutProgress) => void; signal?: AbortSignal },
  ): Promise<RolloutResult>;
  /** Canary pod logs (last `logLines` per container), Events of both Deployments and their pods, and the Deployments as they are. */
  gatherEvidence(target: ServiceTarget, opts?: { logLines?: number }): Promise<Evidence>;
}

/** How a service's traffic is split between stable and canary: a mesh route, or the replica ratio. */
export interface TrafficRouter {
  /** The canary's and the stable's share now. */
  read(target: ServiceTarget): Promise<TrafficWeights>;
  /** Sends `canaryPercent` of traffic to the canary and the rest to the stable; returns the weights now in force. */
  set(target: ServiceTarget, canaryPercent: number): Promise<TrafficWeights>;
  /** Whether the cluster is observed giving the canary `canaryPercent`: a traffic step is done only then. */
  verify(target: ServiceTarget, canaryPercent: number): Promise<boolean>;
}

/** Everything Lifeguard does to a cluster. */
export interface Cluster {
  workloads: Workloads;
  traffic: TrafficRouter;
  /** Ends whatever keeps a connection open to the cluster (watches), at shutdown. */
  stop?(): Promise<void>;
}

/** Leader election among Lifeguard replicas: only the leader runs the scheduler and executes. */
export interface Leadership {
  isLeader(): boolean;
  /** Aborted the moment this replica stops being leader; pass it to work that must stop then. */
  readonly signal: AbortSignal;
  /** Called with true on becoming leader and false on losing the lease. */
  onChange(listener: (leader: boolean) => void): void;
  start(): void;
  /** Stops renewing; releases the lease when `release` is true (a clean shutdown). */
  stop(opts?: { release?: boolean }): Promise<void>;
}

/** Where approval requests live; every method runs inside the caller's transaction. */
export interface ApprovalRepository {
  insert(request: NewApproval): number;
  get(id: number): ApprovalRecord | undefined;
  addVote(id: number, vote: Vote): void;
  /** Compare-and-set: moves the request from `from` to `to`; false when it was no longer in `from`. */
  transition(id: number, from: ApprovalState, to: ApprovalState, at: Date): boolean;
  attachMessage(id: number, channel: string, ts: string): void;
  /** Ids of pending requests whose expiry is at or before `at`. */
  pendingExpiredBy(at: Date): number[];
}

/** Recorded operations read back for history and delivery figures; reads only, outside any transaction. */
export interface OperationHistory {
  /** Operations of the service (in one environment, or in all) created at or after `since`, newest first. */
  list(service: string, environment: string | undefined, since: Date): Operation[];
  /** Every service and environment with a recorded operation, including those since taken out of the config. */
  recorded(): { service: string; environment: string }[];
  /** The verdict behind each automated rollback decision among these operations, from its audit row. */
  decisionVerdicts(operations: readonly Pick<Operation, 'id' | 'service' | 'environment'>[]): Map<number, Verdict>;
}

/** An outbox entry as stored, with where its delivery stands. */
export interface OutboxRecord extends OutboxEntry {
  id: number;
  createdAt: Date;
  /** Calls made to deliver it. */
  attempts: number;
  /** Not before then: a backoff or a 429's Retry-After holds it, and with it its channel. */
  nextAttemptAt: Date;
  /** A post was sent whose outcome never came back (a crash, a timeout, a 5xx): it may be in the channel already. */
  inDoubt: boolean;
  lastError: string | undefined;
  /** A file entry: the id of the last upload started for it, which may have been shared. */
  fileId?: string | undefined;
}

/** Entries neither delivered nor given up, and how long the oldest has waited. */
export interface OutboxBacklog {
  depth: number;
  oldestAgeSeconds: number;
}

/** Where a slot's message is once its first entry was posted. */
export interface PostedMessage {
  channel: string;
  ts: string;
}

/**
 * Chat messages waiting for delivery (DESIGN §7, the outbox). `enqueue` runs inside the caller's transaction, so a
 * message commits with the state change that caused it; the sender records every call before and after making it.
 */
export interface OutboxRepository {
  /** False when an entry with this key is already there (then nothing changes). */
  enqueue(entry: OutboxEntry, at: Date): boolean;
  /** The oldest undelivered entry of each channel: a channel's messages leave in the order they were enqueued. */
  heads(): OutboxRecord[];
  /** Written before a post or update goes out: until its outcome is recorded the entry is in doubt. */
  markAttempted(id: number, at: Date): void;
  /** Delivered; a slot entry also records where its slot's message is. */
  markSent(id: number, message: PostedMessage, at: Date): void;
  /** Not delivered this time; tried again from `nextAttemptAt`. `inDoubt`: it may have been posted all the same. */
  markFailed(id: number, failure: { at: Date; error: string; nextAttemptAt: Date; inDoubt: boolean }): void;
  /** Never to be tried again: Slack refused it for good. */
  giveUp(id: number, at: Date, error: string): void;
  /** The id of an upload started for a file entry, recorded before the file is shared. */
  recordFile(id: number, fileId: string): void;
  slotMessage(slot: string): PostedMessage | undefined;
  /** Whether a later undelivered entry of the same channel redraws the same message (same slot or same `updateTs`). */
  superseded(record: OutboxRecord): boolean;
  backlog(at: Date): OutboxBacklog;
}

/** Where operations live; every method runs inside the caller's transaction. */
export interface OperationRepository {
  /** Stores a new operation; its id and row version are assigned here. */
  insert(op: Operation): Operation;
  get(id: number): Operation | undefined;
  byRequest(requestId: number): Operation | undefined;
  /** The running, paused or rolling-back operation of a service in an environment. */
  active(service: string, environment: string): Operation | undefined;
  /** Ids of every operation not yet ended, oldest first. */
  unfinished(): number[];
  /** Compare-and-set on `next.version`: the stored operation with its new version, or undefined when another writer moved it first. */
  update(next: Operation): Operation | undefined;
  /** When the last automated rollback of the service in the environment that actually ran was decided. */
  lastAutomatedRollbackAt(service: string, environment: string): Date | undefined;
  /** Release and hotfix requests granted since `since` that neither started an operation nor were refused one. */
  grantedNotStarted(since: Date): number[];
  /** The newest release or hotfix, and the newest rollback (a rollback, or a release or hotfix rolled back), of a service in an environment. */
  lastChanges(service: string, environment: string): { release: Operation | undefined; rollback: Operation | undefined };
}

/** Those refused while an operation held their service (lock etiquette); every method runs inside the caller's transaction. */
export interface WaiterRepository {
  /** Records the user as waiting for the operation; when they already are, keeps the first row (`added: false`). */
  add(waiter: NewWaiter, at: Date): { waiter: Waiter; added: boolean };
  /** Those waiting for the operation who have not been told that it ended. */
  unnotified(operationId: number): Waiter[];
  /** Told: `unnotified` never returns them again. */
  markNotified(operationId: number, user: string, at: Date): void;
  /** Those still waiting for `from` wait for `to` now (a rollback that took over the service). */
  transfer(from: number, to: number): void;
}

/** Freezes started by hand; every method runs inside the caller's transaction. */
export interface FreezeRepository {
  start(freeze: NewAdHocFreeze): AdHocFreeze;
  /** Those not ended by hand, of one environment or of all (some may have run out: ask the domain what is in force). */
  open(environment?: string): AdHocFreeze[];
  /** Ends every open freeze of the environment; the ones it ended. */
  end(environment: string, by: string, at: Date): AdHocFreeze[];
}

/** Holds on rolled-back versions; every method runs inside the caller's transaction. */
export interface HoldRepository {
  /** Records the hold; a version already held keeps its first hold (false then). */
  add(hold: NewVersionHold): boolean;
  /** The hold in force on a version, if any. */
  find(service: string, environment: string, version: string): VersionHold | undefined;
  /** Every hold in force, newest first. */
  list(): VersionHold[];
  /** Lifts the hold on a version, in one environment or in all; the ones it lifted. */
  lift(service: string, version: string, environment: string | undefined, by: string, at: Date): VersionHold[];
}

/** What was gathered at rollback decisions, one record per operation; every method runs inside the caller's transaction. */
export interface EvidenceRepository {
  /** Stores the operation's evidence unless it already has some (then `kept` is false and nothing changes). */
  keep(evidence: KeptEvidence): { kept: boolean; bytes: number };
  get(operationId: number): KeptEvidence | undefined;
  has(operationId: number): boolean;
}

/** The database, as typed repositories and the audit log. */
export interface Store {
  /** One IMMEDIATE transaction: a state change and its audit row commit together or not at all. */
  transaction<T>(fn: () => T): T;
  audit: AuditLog;
  approvals: ApprovalRepository;
  history: OperationHistory;
  outbox: OutboxRepository;
  operations: OperationRepository;
  waiters: WaiterRepository;
  freezes: FreezeRepository;
  holds: HoldRepository;
  evidence: EvidenceRepository;
}

/** What the approval flow needs of the store. */
export type ApprovalStore = Pick<Store, 'transaction' | 'audit' | 'approvals'>;

/** The roles, among `among`, that a user holds right now (usergroups resolved). */
export interface RoleDirectory {
  rolesOf(user: string, among: readonly string[]): Promise<string[]>;
}

/** Where a chat message landed, or the chat service's error code. */
export type ChatDelivery = { ok: true; channel: string; ts: string } | { ok: false; error: string };

/** A request's card as it stands: the chat adapter renders it (Block Kit for Slack). */
export interface RequestCardView {
  request: ApprovalRecord;
  /** Whether a granted request of this kind runs anything yet. */
  executionAvailable: boolean;
}

/** A request's card while its operation runs: the plan and approvals, and where the operation stands. */
export interface CardDelivery {
  request: ApprovalRecord;
  operation: OperationView;
}

/** One outbox message, ready to render: a card is drawn from the store when it is delivered. */
export type ChatView =
  | { kind: 'card'; card: CardDelivery }
  | { kind: 'note'; note: Note }
  | { kind: 'incident'; incident: Incident }
  | { kind: 'lock-freed'; freed: LockFreed }
  | { kind: 'health-summary'; summary: HealthSummary }
  | { kind: 'file'; file: ChatFile };

/** Where an outbox message goes; `key` tags the message so that `findByKey` finds it later. */
export interface DeliveryTarget {
  channel: string;
  threadTs?: string | undefined;
  /** Update this message instead of posting a new one. */
  updateTs?: string | undefined;
  key: string;
  /** A file: the upload `startUpload` began, whose bytes `deliver` sends and whose file it shares. */
  upload?: FileUpload | undefined;
}

/** An upload the chat service has allowed: where its bytes go and the file's id. */
export interface FileUpload {
  fileId: string;
  uploadUrl: string;
}

/**
 * A call the chat service did not carry out. `transient`: trying again later may work (5xx, timeout, network,
 * 429 with `retryAfterMs`); otherwise the message can never be delivered as it is (unknown channel, bad blocks).
 */
export interface ChatFailure {
  ok: false;
  error: string;
  retryAfterMs?: number | undefined;
  transient: boolean;
}

export type DeliveryResult = { ok: true; channel: string; ts: string } | ChatFailure;
export type KeyLookup = { ok: true; found: PostedMessage | undefined } | ChatFailure;
export type UploadStart = ({ ok: true } & FileUpload) | ChatFailure;

/** The chat the flows talk to, in view models: rendering stays in the adapter. */
export interface Chat {
  postCard(channel: string, card: RequestCardView): Promise<ChatDelivery>;
  /** Redraws a posted card in place. */
  updateCard(channel: string, ts: string, card: RequestCardView): Promise<ChatDelivery>;
  /** One post or update, tagged with `target.key`: no retry, no queueing (the outbox sender decides both). */
  deliver(target: DeliveryTarget, view: ChatView): Promise<DeliveryResult>;
  /**
   * The message tagged with `key` in the channel (or in the thread of `threadTs`) posted since `since`: whether
   * a post whose answer was lost reached the channel after all.
   */
  findByKey(where: { channel: string; key: string; threadTs?: string | undefined; since: Date; fileId?: string | undefined }): Promise<KeyLookup>;
  /**
   * Starts the upload of a file of `length` bytes: nothing is shown to anyone until `deliver` shares it. Its id is
   * recorded before then, so a share whose answer was lost is looked for (`findByKey` with `fileId`), not repeated.
   */
  startUpload(file: { filename: string; length: number }): Promise<UploadStart>;
}

/** The audit chain as the checkpoint publisher reads it. */
export interface AuditHead {
  head(): { id: number; hash: string } | undefined;
  hashAt(id: number): string | undefined;
}

/** What a checkpoint store holds, with an opaque revision for compare-and-set. */
export interface StoredCheckpoint {
  checkpoint: Checkpoint;
  revision: string;
}

/** A place outside the database that keeps the latest checkpoint (the ConfigMap adapter). */
export interface CheckpointStore {
  /** e.g. `ConfigMap lifeguard/lifeguard-audit-checkpoint`, for messages. */
  readonly where: string;
  read(): Promise<StoredCheckpoint | undefined>;
  /** Creates it, or replaces `previous` (failing if it changed since it was read). */
  write(checkpoint: Checkpoint, previous: StoredCheckpoint | undefined): Promise<void>;
}

/** An HTTP check of a canary (`http` metrics): never throws, every failure is an outcome. */
export type Probe = (url: string, timeoutMs: number) => Promise<ProbeOutcome>;

/** A post-mortem draft as stored (migration 9). */
export interface StoredPostmortem {
  operationId: number;
  markdown: string;
  /** RFC 3339. */
  createdAt: string;
  /** `lifeguard` for an automated rollback's; the person who asked for a manual one's. */
  requestedBy: string;
}

/** Post-mortem drafts and incident acknowledgements; every method runs inside the caller's transaction. */
export interface PostmortemRepository {
  get(operationId: number): StoredPostmortem | undefined;
  /** False when the operation has a draft already (then nothing changes). */
  insert(draft: StoredPostmortem): boolean;
  acknowledgement(operationId: number): { by: string; at: string } | undefined;
  /** Records the first acknowledgement; false when someone acknowledged it before. */
  acknowledge(operationId: number, by: string, at: Date): boolean;
  /** The audit rows of an operation (`detail.operation`) and of its request (`detail.request`), oldest first. */
  auditOf(op: Pick<Operation, 'id' | 'requestId' | 'service' | 'environment'>): AuditEvent[];
  /** Automated rollbacks that ended since `since` without a draft: a restart between the end and the draft left them so. */
  undrafted(since: Date): number[];
}

/**
 * What was gathered at an operation's rollback decision (canary logs, Events, Deployments), summed up in a few
 * lines for its post-mortem; undefined when nothing was kept. Optional: without it the draft says so.
 */
export interface EvidenceSummary {
  summary(operationId: number): readonly string[] | undefined;
}
