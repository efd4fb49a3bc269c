import type { Config, Urgency } from '../config/schema.js';
import { requirementFor, type ApprovalRecord } from '../domain/approval.js';
import { serviceTarget } from '../domain/cluster-state.js';
import { imageVersion } from '../domain/image.js';
import { planHotfix, planRelease, planRollback, type ClusterRead, type Plan } from '../domain/plans.js';
import { lockHolder, type LockHolder } from '../domain/lock.js';
import type { AuditLog, Chat, Clock, OperationRepository, Store, WaiterRepository, Workloads } from '../ports.js';
import type { ApprovalFlow } from './approval.js';
import type { ReleaseRules, Refusal } from './release-rules.js';

/** What someone asked for, already parsed and checked against the config. */
export type RequestCommand =
  | { kind: 'release'; service: string; environment: string; version: string; strategy: 'canary' | 'rolling'; force?: boolean | undefined }
  | { kind: 'rollback'; service: string; environment: string; reason: string; toRevision?: number | undefined }
  | { kind: 'hotfix'; service: string; environment: string; version: string; urgency: Urgency; reason: string };

export type OpenedRequest =
  | { posted: false; busy: LockHolder; refusedAt: Date; channel: string }
  /** Refused by a freeze or a hold on the version (release rules). */
  | { posted: false; refused: Refusal; channel: string }
  /** Refused before any request was recorded: nothing to do (a rollback to what already runs), in words. */
  | { posted: false; noop: string; channel: string }
  | { posted: true; request: ApprovalRecord; channel: string; clusterUnread?: string | undefined }
  | { posted: false; request: ApprovalRecord; channel: string; error: string; clusterUnread?: string | undefined };

/** What runs now in one environment of a service, or why it is not known. */
export type ServiceStatus = { service: string; environment: string } & (
  | { ok: true; version: string; revision: number; canaryWeight: number }
  | { ok: false; why: string }
);

export interface RequestFlowDeps {
  config: Config;
  workloads: Pick<Workloads, 'readState'>;
  approvals: ApprovalFlow;
  chat: Chat;
  /** The operation running for a service in an environment, if any: one at a time. */
  operations: Pick<OperationRepository, 'active'>;
  audit: Pick<AuditLog, 'append'>;
  /** Whoever is refused because the service is busy waits for its operation, to be told when it ends. */
  waiters: Pick<WaiterRepository, 'add'>;
  transaction: Store['transaction'];
  clock: Clock;
  /** Freezes and holds on rolled-back versions, checked before anything is read or recorded. */
  rules: Pick<ReleaseRules, 'admit'>;
  /** How long a plan waits for the cluster before it is made with what is known. */
  readTimeoutMs: number;
}

/**
 * Opening a release, rollback or hotfix request: one read of the cluster, a plan from the domain, the approval
 * request recorded with it, and its card posted. Slack, the CLI and tests all come through here.
 */
export class RequestFlow {
  constructor(private readonly deps: RequestFlowDeps) {}

  /**
   * Opens the request and posts its card in the service's channel. `onRecorded` runs once the request is in the
   * store, so a caller whose later step fails can say truthfully what exists.
   */
  async open(requester: string, command: RequestCommand, onRecorded?: (request: ApprovalRecord, channel: string) => void): Promise<OpenedRequest> {
    const { config, approvals, chat } = this.deps;
    const service = config.services[command.service]!;
    if (command.kind !== 'rollback') {
      const busy = this.refuseIfBusy(requester, command);
      if (busy) return { posted: false, ...busy, channel: service.channel };
    }
    const admitted = await this.deps.rules.admit(requester, { ...command, urgency: command.kind === 'hotfix' ? command.urgency : undefined });
    if (!admitted.ok) return { posted: false, refused: admitted.refusal, channel: service.channel };
    const read = await this.read(command.service, command.environment);
    const plan = this.plan(command, read);
    if (plan.kind === 'rollback' && plan.target?.kind === 'no-op') {
      this.deps.audit.append({ actor: requester, action: 'request.refused', subject: `${command.service}/${command.environment}`, detail: { kind: 'rollback', why: plan.target.message, plan } });
      return { posted: false, noop: plan.target.message, channel: service.channel };
    }
    const request = approvals.open({
      kind: command.kind,
      service: command.service,
      environment: command.environment,
      requester,
      requirement: requirementFor(config, command.kind, command.environment, command.kind === 'hotfix' ? command.urgency : undefined),
      ttlMs: config.slack.approvalTtl,
      plan: { ...plan, ...admitted.marks },
    });
    onRecorded?.(request, service.channel);
    const delivery = await chat.postCard(service.channel, { request, executionAvailable: approvals.canExecute(command.kind) });
    if (!delivery.ok) return { posted: false, request, channel: service.channel, error: delivery.error, clusterUnread: read.ok ? undefined : read.why };
    approvals.attachMessage(request.id, delivery.channel, delivery.ts);
    await approvals.executeIfGranted(request.id);
    return { posted: true, request: approvals.get(request.id)!, channel: delivery.channel, clusterUnread: read.ok ? undefined : read.why };
  }

  /**
   * When an operation holds the service: the refusal audited and the requester recorded as waiting for it, in one
   * transaction that also reads the lock, so an operation ending meanwhile cannot leave a waiter nobody tells.
   */
  private refuseIfBusy(requester: string, command: Extract<RequestCommand, { kind: 'release' | 'hotfix' }>): { busy: LockHolder; refusedAt: Date } | undefined {
    const { operations, audit, waiters, transaction, clock } = this.deps;
    return transaction(() => {
      const busy = operations.active(command.service, command.environment);
      if (!busy) return undefined;
      const refusedAt = clock.now();
      const { waiter, added } = waiters.add(
        { operationId: busy.id, service: command.service, environment: command.environment, user: requester, asked: { kind: command.kind, version: command.version } },
        refusedAt,
      );
      audit.append({
        actor: requester,
        action: 'request.refused',
        subject: `${command.service}/${command.environment}`,
        detail: { kind: command.kind, why: 'another operation is active', running: busy.id, version: command.version, waiter: { since: waiter.createdAt, added } },
      });
      return { busy: lockHolder(busy), refusedAt };
    });
  }

  /** What runs in each environment of `service` (every service when omitted), read from the cluster now. */
  async status(service?: string): Promise<ServiceStatus[]> {
    const { services } = this.deps.config;
    const targets = (service ? [service] : Object.keys(services)).flatMap((name) => Object.keys(services[name]!.environments).map((environment) => ({ service: name, environment })));
    return Promise.all(
      targets.map(async ({ service: name, environment }): Promise<ServiceStatus> => {
        const read = await this.read(name, environment);
        if (!read.ok) return { service: name, environment, ok: false, why: read.why };
        const { stable, traffic } = read.state;
        return { service: name, environment, ok: true, version: imageVersion(stable.image), revision: stable.revision, canaryWeight: traffic.canary };
      }),
    );
  }

  private plan(command: RequestCommand, read: ClusterRead): Plan {
    const settings = this.deps.config.services[command.service]!.environments[command.environment]!;
    switch (command.kind) {
      case 'release':
        return planRelease(command, settings, read);
      case 'rollback':
        return planRollback(command, settings, read);
      case 'hotfix':
        return planHotfix(command, settings, read);
    }
  }

  /** One read of the cluster, bounded in time; never throws. */
  private async read(service: string, environment: string): Promise<ClusterRead> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<ClusterRead>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, why: `the cluster did not answer within ${Math.round(this.deps.readTimeoutMs / 1000)} s` }), this.deps.readTimeoutMs);
    });
    const read = (async (): Promise<ClusterRead> => ({ ok: true, state: await this.deps.workloads.readState(serviceTarget(this.deps.config, service, environment)) }))().catch(
      (error: unknown): ClusterRead => ({ ok: false, why: error instanceof Error ? error.message : String(error) }),
    );
    try {
      return await Promise.race([read, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
