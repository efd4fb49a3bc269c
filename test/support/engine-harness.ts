import { planRollback } from '../../src/domain/plans.js';
import type { ReleaseRules } from '../../src/flows/release-rules.js';
import { join } from 'node:path';
import type { Config } from '../../src/config/schema.js';
import { openStore, type SqliteStore } from '../../src/adapters/sqlite/store.js';
import { SqliteApprovalRepository } from '../../src/adapters/sqlite/approvals.js';
import { SqliteEvidenceRepository } from '../../src/adapters/sqlite/evidence.js';
import { SqliteHoldRepository } from '../../src/adapters/sqlite/release-rules.js';
import { SqliteWaiterRepository } from '../../src/adapters/sqlite/waiters.js';
import { SqliteOperationRepository } from '../../src/adapters/sqlite/operations.js';
import type { ApprovalRecord } from '../../src/domain/approval.js';
import type { Message, Operation, VerdictEvent } from '../../src/domain/operation.js';
import type { Verdict } from '../../src/domain/verdict.js';
import { ReleaseEngine } from '../../src/flows/operations.js';
import type { OperationNotices } from '../../src/flows/operation-notices.js';
import { createLogger } from '../../src/log.js';
import { createTelemetry } from '../../src/metrics.js';
import type { Leadership, Store } from '../../src/ports.js';
import { exampleConfig, startFixture, type Fixture } from '../integration/kubernetes/fixture.js';
import { roleDirectory } from './memory-ports.js';

/*
 * The release engine wired to the real Kubernetes adapter and API-server stand-in and a real SQLite store, with
 * verdicts as its input: for tests and benchmarks that check what the engine does to the cluster.
 */

/** The example config with second-scale steps, so a release takes a second or two. */
export function fastConfig(overrides: { steps?: number[]; pauseForApprovalAt?: number[]; watch?: number; cooldown?: number } = {}): Config {
  const config = structuredClone(exampleConfig);
  const production = config.services.checkout!.environments.production!;
  Object.assign(production, {
    steps: overrides.steps ?? [5, 25, 50, 100],
    pauseForApprovalAt: overrides.pauseForApprovalAt ?? [50],
    stepDuration: 150,
    watch: overrides.watch ?? 200,
    analysis: { ...production.analysis, interval: 100 },
  });
  config.environments.production!.rollbackCooldown = overrides.cooldown ?? 60_000;
  // The watch and the check after a rollback wait one lookback of the analysis: make it short too.
  for (const template of Object.values(config.metrics)) {
    if (template.kind === 'http') continue;
    Object.assign(template, { window: 100, step: 10, ...(template.for !== undefined ? { for: 100 } : {}) });
  }
  return config;
}

/** A verdict on checkout's canary: a failing one breaks error-rate's absolute bound. */
export function verdict(outcome: Verdict['verdict'], service = 'checkout'): Verdict {
  const failing = outcome === 'fail';
  return {
    service,
    environment: 'production',
    evaluatedAt: new Date().toISOString(),
    verdict: outcome,
    reasons: failing ? ['error-rate high: canary 0.081 > max 0.03 for 3s'] : outcome === 'pass' ? ['score 100'] : ['error-rate: no data'],
    score: failing ? null : 100,
    scoreThresholds: { pass: 80, marginal: 60 },
    trafficShare: 5,
    metrics: [
      {
        metric: 'error-rate',
        kind: 'prometheus',
        critical: true,
        weight: 1,
        classification: failing ? 'high' : outcome === 'pass' ? 'pass' : 'nodata',
        reason: failing ? 'canary 0.081 > max 0.03 for 3s' : 'within bounds',
        canary: failing ? 0.081 : 0.004,
        baseline: 0.004,
        ratio: failing ? 20.25 : 1,
        trafficShare: null,
        rules: [{ rule: 'max', threshold: 0.03, outcome: failing ? 'breach' : 'pass', breachingForMs: failing ? 3000 : null, forMs: 3000, detail: '' }],
        comparison: null,
        queries: [],
        range: null,
        warnings: [],
      },
    ],
  };
}

export interface Told {
  op: Operation;
  message: Message;
  verdict?: VerdictEvent | undefined;
}

export type EngineHarness = Awaited<ReturnType<typeof startEngine>>;

/**
 * A seeded stand-in, a store in `dir`, and a started engine; `stop` undoes it all. What the engine tells people
 * is recorded in `told`, unless `notices` gives other notices (the real outbox ones) over the store.
 */
export async function startEngine(
  dir: string,
  config = fastConfig(),
  opts: { readyDelayMs?: number; leadership?: Leadership; notices?: (sqlite: SqliteStore) => OperationNotices; rules?: Pick<ReleaseRules, 'gate'> } = {},
) {
  const fixture: Fixture = await startFixture({ readyDelayMs: opts.readyDelayMs ?? 20 });
  const sqlite: SqliteStore = openStore(join(dir, 'lifeguard.db'));
  const approvals = new SqliteApprovalRepository(sqlite.db);
  const operations = new SqliteOperationRepository(sqlite.db, () => new Date());
  const holds = new SqliteHoldRepository(sqlite.db);
  const waiters = new SqliteWaiterRepository(sqlite.db);
  const evidence = new SqliteEvidenceRepository(sqlite.db);
  const store: Pick<Store, 'transaction' | 'audit' | 'operations' | 'approvals' | 'holds' | 'waiters' | 'evidence'> = { transaction: sqlite.transaction, audit: sqlite.audit, operations, approvals, holds, waiters, evidence };
  const told: Told[] = [];
  const notices: OperationNotices = opts.notices?.(sqlite) ?? {
    write: (op, messages, v) => told.push(...messages.map((message) => ({ op, message, verdict: v }))),
    unmanaged: () => undefined,
    refused: () => undefined,
    freed: () => undefined,
  };
  const stableVerdicts: Verdict['verdict'][] = [];
  const engine = new ReleaseEngine({
    config,
    store,
    cluster: fixture.cluster,
    clock: { now: () => new Date() },
    roles: roleDirectory({ U0ALICE: ['release-manager'] }),
    notices,
    judgeStable: async (service) => verdict(stableVerdicts.shift() ?? 'pass', service),
    recordVerdict: async (v) => void sqlite.audit.append({ actor: 'lifeguard', action: 'analysis.verdict', subject: `${v.service}/${v.environment}`, detail: { verdict: v.verdict } }),
    log: createLogger({ level: 'silent' }),
    metrics: createTelemetry({ processMetrics: false }),
    tuning: { tickMs: 50 },
    leadership: opts.leadership,
    rules: opts.rules,
  });
  engine.start();

  const settings = config.services.checkout!.environments.production!;
  /** A granted release request of checkout in production, with its card, as the approval flow leaves it. */
  const grant = (version: string, requester = 'U0BOB'): ApprovalRecord => {
    const id = approvals.insert({
      kind: 'release',
      service: 'checkout',
      environment: 'production',
      requester,
      requirement: { mode: 'any', roles: ['release-manager'], count: 1 },
      plan: { kind: 'release', service: 'checkout', environment: 'production', running: null, version, strategy: 'canary', steps: settings.steps, pauseForApprovalAt: settings.pauseForApprovalAt },
      state: 'granted',
      createdAt: new Date(),
      expiresAt: new Date(Date.now() + 3_600_000),
    });
    approvals.attachMessage(id, 'C0CHECKOUT', `1700000000.${String(id).padStart(6, '0')}`);
    return approvals.get(id)!;
  };
  /** A granted `/rollback` of checkout in production, planned on the cluster as it is now. */
  const grantRollback = async (reason: string, requester = 'U0CARLA', toRevision?: number): Promise<ApprovalRecord> => {
    const plan = planRollback({ service: 'checkout', environment: 'production', reason, toRevision }, settings, { ok: true, state: await fixture.cluster.workloads.readState(fixture.production) });
    const id = approvals.insert({
      kind: 'rollback',
      service: 'checkout',
      environment: 'production',
      requester,
      requirement: { mode: 'any', roles: ['on-call'], count: 1 },
      plan,
      state: 'granted',
      createdAt: new Date(),
      expiresAt: new Date(Date.now() + 3_600_000),
    });
    approvals.attachMessage(id, 'C0CHECKOUT', `1700000001.${String(id).padStart(6, '0')}`);
    return approvals.get(id)!;
  };
  const op = (id: number) => operations.get(id)!;
  const cluster = () => fixture.cluster.workloads.readState(fixture.production);
  const stop = async () => {
    await engine.stop();
    sqlite.close();
    await fixture.standin.stop();
  };
  return { fixture, engine, grant, grantRollback, op, told, cluster, sqlite, evidence, stableVerdicts, stop };
}


/** A lease this test hands over by hand: `set(true)` makes this replica the leader, `set(false)` takes it away. */
export function manualLeadership(leader = false): Leadership & { set(leader: boolean): void } {
  const listeners: ((leader: boolean) => void)[] = [];
  let controller = new AbortController();
  return {
    isLeader: () => leader,
    get signal() {
      return controller.signal;
    },
    onChange: (listener) => void listeners.push(listener),
    start: () => undefined,
    stop: async () => undefined,
    set(next) {
      leader = next;
      if (!next) controller.abort(new Error('lost the lease'));
      else controller = new AbortController();
      for (const listener of listeners) listener(next);
    },
  };
}
