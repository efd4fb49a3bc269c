import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { requirementFor, type ApprovalRecord, type CardRef } from '../domain/approval.js';
import { rolloutOf, serviceTarget, type ServiceState, type ServiceTarget } from '../domain/cluster-state.js';
import { imageVersion, withVersion } from '../domain/image.js';
import type { RollbackRequestPlan } from '../domain/plans.js';
import { rollbackTarget } from '../domain/rollback-target.js';
import {
  confirmPerformed,
  decide,
  headline,
  manualRollback,
  preempt,
  isFinal,
  newOperation,
  stableJudgement,
  unmanagedDrain,
  type Action,
  type ControlVerb,
  type Decision,
  type Observation,
  type Operation,
  type OperationEvent,
  type Settings,
  type VerdictEvent,
  type Workload,
} from '../domain/operation.js';
import { verdictEvent } from '../domain/verdict-event.js';
import { boundEvidence } from '../domain/evidence-bound.js';
import { keptEvidence } from '../domain/kept-evidence.js';
import { holdFor } from '../domain/holds.js';
import type { Verdict } from '../domain/verdict.js';
import { metricRange } from './canary-analysis.js';
import type { Telemetry } from '../metrics.js';
import type { Clock, Cluster, Leadership, RoleDirectory, Store } from '../ports.js';
import type { OperationNotices } from './operation-notices.js';
import type { ReleaseRules } from './release-rules.js';

/**
 * The release engine (DESIGN §7): drives every operation to its end. `reconcile` loads an operation, observes
 * the cluster, asks the domain's `decide`, commits the new state with its audit rows and messages in one
 * compare-and-set transaction ("about to do X"), then does X. Verdicts, clicks and approvals reconcile their
 * operation at once; a leader-only ticker reconciles the rest every second; starting, or winning the lease,
 * reconciles everything unfinished: that is crash recovery, with no special path.
 */

export interface EngineDeps {
  config: Config;
  store: Pick<Store, 'transaction' | 'audit' | 'operations' | 'approvals' | 'holds' | 'waiters' | 'evidence'>;
  cluster: Cluster;
  clock: Clock;
  roles: RoleDirectory;
  notices: OperationNotices;
  /** Judges the stable now against its own metrics from before `since` (watch, and the check after a rollback). */
  judgeStable(service: string, environment: string, since: Date, at: Date): Promise<Verdict>;
  /** Records a verdict the engine asked for in the audit log, as the analysis loop records its own. */
  recordVerdict(verdict: Verdict): Promise<void>;
  log: Logger;
  metrics: Telemetry;
  leadership?: Leadership | undefined;
  /** Freezes, checked again when a granted release or hotfix starts: one may have begun since it was asked for. */
  rules?: Pick<ReleaseRules, 'gate'> | undefined;
  /** Told of an operation once the transaction that ended it has committed (the post-mortem of a rollback). */
  onEnded?: ((op: Operation) => void) | undefined;
  tuning?: { tickMs?: number };
}

/** A rollback to start: a granted `/rollback` (with its request and card) or `lifeguard rollback` (neither). */
export interface RollbackStart {
  requestId: number | null;
  service: string;
  environment: string;
  plan: RollbackRequestPlan;
  requestedBy: string;
  approvedBy: string[];
  card: Operation['card'];
  /** Stop a release or hotfix running for the service (Slack always; the CLI with `--force`). */
  preempt: boolean;
  /** The operator forced it (`lifeguard rollback --force`): audited when it stops something. */
  forced?: boolean | undefined;
}

export type StartResult = { ok: true; operation: Operation } | { ok: false; why: string; running?: Operation | undefined };

export type ControlResult =
  | { ok: true; operation: Operation }
  | { ok: false; why: string; denial: 'not-found' | 'wrong-card' | 'no-role' | 'refused'; operation?: Operation | undefined };

/** How recent a grant must be to start after a restart that lost its operation. */
const RESUME_GRANTS_WITHIN_MS = 15 * 60_000;

/** How long a drain or restore may take before the rollback is reported stuck and ended failed. */
const STUCK_AFTER_MS = 5 * 60_000;

/** The longest wait between two attempts at an operation the cluster keeps failing. */
const MAX_BACKOFF_MS = 16_000;

/** How long a drained canary's restore waits for its evidence, which reads the pods the restore replaces. */
const EVIDENCE_WAIT_MS = 10_000;

/** What the engine needs of lifeguard.yaml for one service in one environment, with what the operation's plan changes. */
function settingsFor(config: Config, target: ServiceTarget, op?: Pick<Operation, 'stepDurationMs'>): Settings {
  const { settings } = target;
  const env = config.environments[target.environment];
  // A shorter step (a high hotfix) does not shorten the watch: that safety net keeps the service's own length.
  const stepTotal = settings.stepDuration * Math.max(1, settings.steps.length);
  return {
    stepDurationMs: op?.stepDurationMs ?? settings.stepDuration,
    watchMs: settings.watch ?? stepTotal,
    maxInconclusive: settings.analysis.maxInconclusive,
    warmupMs: Math.max(0, ...settings.analysis.metrics.map((m) => metricLookback(config, m))),
    // The check after a rollback judges data from after it: a whole lookback of the analysis.
    verifyAfterMs: Math.max(settings.analysis.interval, ...settings.analysis.metrics.map((m) => metricLookback(config, m))),
    canaryReplicas: settings.canaryReplicas,
    rollbackCooldownMs: env?.rollbackCooldown ?? 0,
    stuckAfterMs: STUCK_AFTER_MS,
    retryForMs: env?.rollbackRetryTimeout,
    workload: workloadOf(target),
  };
}

function workloadOf({ settings }: ServiceTarget): Workload {
  const { traffic } = settings;
  return {
    namespace: settings.namespace,
    stable: settings.stable,
    canary: settings.canary,
    traffic: 'istio' in traffic ? { kind: 'istio', name: traffic.istio.virtualService } : 'gatewayApi' in traffic ? { kind: 'gatewayApi', name: traffic.gatewayApi.httpRoute } : { kind: 'replicas' },
  };
}

/** How far back a metric's verdict reads, as the analysis queries it. */
function metricLookback(config: Config, name: string): number {
  const template = config.metrics[name];
  if (!template || template.kind === 'http') return 0;
  const range = metricRange(template, new Date(0));
  return range.end.getTime() - range.start.getTime() + template.window;
}


/**
 * The roles that may use a control in an environment, or undefined when anyone may. Those who approve releases
 * may do anything to one; those who approve rollbacks (on call) may also stop one: Pause and Abort.
 */
function controllers(config: Config, environment: string, verb: ControlVerb): string[] | undefined {
  const rules = [requirementFor(config, 'release', environment), ...(verb === 'pause' || verb === 'abort' ? [requirementFor(config, 'rollback', environment)] : [])];
  if (rules.some((rule) => rule.mode === 'any' && rule.count === 0)) return undefined;
  return [...new Set(rules.flatMap((rule) => rule.roles))];
}

/** The cluster as the state machine reads it. */
export function observe(state: ServiceState): Observation {
  const view = (d: ServiceState['stable']) => ({ image: d.image, revision: d.revision, template: d.template, desired: d.replicas.desired, ready: d.replicas.ready, rollout: rolloutOf(d) });
  return { stable: view(state.stable), canary: view(state.canary), weight: state.traffic.canary, replicaTraffic: state.traffic.source === 'replicas' };
}

export class ReleaseEngine {
  /** Reconciles of one operation run one after another, in the order asked. */
  private readonly chains = new Map<number, Promise<unknown>>();
  /** When each operation's stable was last judged against its past, to keep to the analysis interval. */
  private readonly judgedAt = new Map<number, number>();
  private ticker: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly deps: EngineDeps) {}

  /** Starts the ticker (leader only) and resumes every operation in flight. */
  start(): void {
    const { leadership } = this.deps;
    const run = () => {
      if (this.ticker || this.stopped) return;
      this.ticker = setInterval(() => void this.tick(), this.deps.tuning?.tickMs ?? 1000);
      void this.startGranted().then(() => this.tick());
    };
    if (leadership) {
      leadership.onChange((leader) => {
        if (leader) run();
        else this.halt();
      });
      if (leadership.isLeader()) run();
    } else {
      run();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.halt();
    await Promise.allSettled([...this.chains.values(), ...this.gathering.values()]);
  }

  private halt(): void {
    clearInterval(this.ticker);
    this.ticker = undefined;
  }

  private leads(): boolean {
    return !this.stopped && (this.deps.leadership?.isLeader() ?? true);
  }

  private ticking = false;

  /** Every unfinished operation, reconciled; the stables under watch or verification judged when due. */
  async tick(): Promise<void> {
    // A slow cluster must not pile reconciles up behind each other: a tick still running skips the next.
    if (!this.leads() || this.ticking) return;
    this.ticking = true;
    try {
      await this.tickNow();
    } finally {
      this.ticking = false;
    }
  }

  private async tickNow(): Promise<void> {
    await Promise.all(this.deps.store.operations.unfinished().map((id) => this.advance(id)));
  }

  /**
   * One tick of one operation: reconciled, with the stable's verdict when one is due, unless it is paused or
   * backing off. The ticker does this for every unfinished operation; `lifeguard rollback` for its own.
   */
  async advance(id: number): Promise<Operation | undefined> {
    const { store, clock } = this.deps;
    const op = store.operations.get(id);
    if (!op || op.state === 'paused' || isFinal(op.state)) return op;
    if ((this.failures.get(id)?.retryAt ?? 0) > clock.now().getTime()) return op;
    const judged = await this.judgeStableIfDue(op, clock.now());
    await this.reconcile(id, judged ?? { type: 'tick' });
    return store.operations.get(id);
  }

  /**
   * Requests granted shortly before a crash whose operation was never recorded: started now, as the click that
   * granted them would have. Older grants are left alone: nobody expects them to start by surprise.
   */
  private async startGranted(): Promise<void> {
    const { store, clock, log } = this.deps;
    for (const id of store.operations.grantedNotStarted(new Date(clock.now().getTime() - RESUME_GRANTS_WITHIN_MS))) {
      const request = store.approvals.get(id);
      if (!request) continue;
      log.warn({ request: id }, 'a granted request had not started its operation (a restart in between): starting it now');
      await this.startFromRequest(request).catch((error: unknown) => log.error({ err: error, request: id }, 'could not start a granted request after a restart'));
    }
  }

  /** The approval executor: a granted release or hotfix becomes an operation and starts at once. */
  async startFromRequest(request: ApprovalRecord): Promise<StartResult> {
    const { plan } = request;
    if (plan.kind === 'rollback') {
      const started = await this.startRollback({
        requestId: request.id,
        service: request.service,
        environment: request.environment,
        plan,
        requestedBy: request.requester,
        approvedBy: request.votes.filter((v) => v.decision === 'approve').map((v) => v.user),
        card: request.channel && request.messageTs ? { channel: request.channel, ts: request.messageTs } : null,
        preempt: true,
      });
      if (!started.ok) this.refuse(request, started.why, started.running);
      return started;
    }
    const gate = this.deps.rules?.gate(plan.kind, request.environment, plan.kind === 'hotfix' ? plan.urgency : undefined, this.deps.clock.now());
    if (gate && !gate.ok) {
      const until = gate.freeze.end ? `until ${gate.freeze.end.toISOString()}` : 'until someone runs /release unfreeze';
      return this.refuse(request, `${request.environment} is frozen (${gate.freeze.reason}) ${until}`);
    }
    // Rolled back while this request waited for its approvals: held unless a release manager forced it.
    const held = plan.forcedPastHold ? undefined : this.deps.store.holds.find(request.service, request.environment, plan.version);
    if (held) return this.refuse(request, `${plan.version} is held since rollback #${held.operationId} (${held.reason}); /release unhold it, or ask again with force=true`);
    const target = serviceTarget(this.deps.config, request.service, request.environment);
    let state: ServiceState;
    try {
      state = await this.deps.cluster.workloads.readState(target);
    } catch (error) {
      return this.refuse(request, `the cluster could not be read (${error instanceof Error ? error.message : String(error)})`);
    }
    const { stable } = state;
    const strategy = plan.kind === 'release' ? plan.strategy : plan.path === 'direct' ? 'rolling' : 'canary';
    const { store, clock } = this.deps;
    const subject = `${request.service}/${request.environment}`;
    const started = store.transaction((): StartResult => {
      const running = store.operations.byRequest(request.id) ?? store.operations.active(request.service, request.environment);
      if (running) {
        if (running.requestId === request.id) return { ok: true, operation: running };
        return this.refuse(request, `release #${running.id} is already running for ${subject}`, running);
      }
      const op = store.operations.insert(
        newOperation(
          {
            id: 0,
            requestId: request.id,
            kind: plan.kind,
            strategy,
            service: request.service,
            environment: request.environment,
            from: { version: imageVersion(stable.image), image: stable.image, revision: stable.revision },
            to: { version: plan.version, image: withVersion(stable.image, plan.version) },
            steps: [...plan.steps],
            pauseForApprovalAt: [...plan.pauseForApprovalAt],
            stepDurationMs: plan.stepDurationMs ?? null,
            requestedBy: request.requester,
            approvedBy: request.votes.filter((v) => v.decision === 'approve').map((v) => v.user),
            card: request.channel && request.messageTs ? { channel: request.channel, ts: request.messageTs } : null,
          },
          clock.now(),
        ),
      );
      store.audit.append({
        actor: 'lifeguard',
        action: 'operation.started',
        subject,
        detail: { operation: op.id, request: request.id, kind: op.kind, strategy, from: op.from, to: op.to, steps: op.steps, pauseForApprovalAt: op.pauseForApprovalAt },
      });
      this.deps.notices.write(op, [{ kind: 'card' }]);
      return { ok: true, operation: op };
    });
    if (started.ok) void this.reconcile(started.operation.id, { type: 'tick' });
    return started;
  }

  /**
   * A rollback someone asked for, granted in Slack or run from the CLI: one read of the cluster decides where
   * `kubectl rollout undo` goes (the revision the plan showed), then, in one transaction, a release or hotfix
   * running for the service is stopped where it is (`preempt`; without it, refused) and the rollback operation
   * is recorded with its first messages. This process's reconciles of the release are waited for first; a
   * write of another process landing after the drain is undone, since the rollback keeps traffic at 0 until it
   * ends.
   */
  async startRollback(input: RollbackStart): Promise<StartResult> {
    const { config, store, clock } = this.deps;
    const target = serviceTarget(config, input.service, input.environment);
    const existing = input.requestId !== null ? store.operations.byRequest(input.requestId) : undefined;
    if (existing) return { ok: true, operation: existing };
    let state: ServiceState;
    try {
      state = await this.deps.cluster.workloads.readState(target);
    } catch (error) {
      return { ok: false, why: `the cluster could not be read (${error instanceof Error ? error.message : String(error)})` };
    }
    const goal = rollbackTarget(state, target.settings.container, input.plan.target?.kind === 'rollback' ? input.plan.target.to : input.plan.requestedRevision);
    if (goal.kind !== 'rollback') return { ok: false, why: goal.message };
    const template = state.history.find((r) => r.revision === goal.to)?.template;
    const active = store.operations.active(input.service, input.environment);
    if (active && (active.kind === 'rollback' || active.state === 'rolling-back')) {
      return { ok: false, why: `${active.kind} #${active.id} is already rolling ${input.service} back in ${input.environment}; follow it in its thread`, running: active };
    }
    if (active && !input.preempt) return { ok: false, why: `${active.kind} #${active.id} (${active.to?.version ?? ''}) holds ${input.service} in ${input.environment}: ${headline(active)}`, running: active };
    const record = (): StartResult => {
      const now = clock.now();
      const ctx = { now, settings: settingsFor(config, target) };
      return store.transaction((): StartResult => {
        // The same grant started meanwhile (a retried click, the start after a restart): that is this start.
        const started = input.requestId !== null ? store.operations.byRequest(input.requestId) : undefined;
        if (started) return { ok: true, operation: started };
        const running = store.operations.active(input.service, input.environment);
        if (running && (running.kind === 'rollback' || running.state === 'rolling-back' || running.id !== active?.id)) {
          return { ok: false, why: `${running.kind} #${running.id} started meanwhile for ${input.service} in ${input.environment}`, running };
        }
        // The lock is released first (one active operation per service), then handed to the rollback.
        const released = running ? store.operations.update({ ...running, state: 'aborted', phase: 'done', finishedAt: now.toISOString() }) : undefined;
        if (running && !released) return { ok: false, why: `${running.kind} #${running.id} changed while the rollback started; ask again`, running };
        const from = { version: imageVersion(state.stable.image), image: state.stable.image, revision: state.stable.revision };
        const to = { version: imageVersion(goal.image), image: goal.image, revision: goal.to, ...(template !== undefined ? { template } : {}) };
        const start = { id: 0, requestId: input.requestId, kind: 'rollback' as const, strategy: 'canary' as const, service: input.service, environment: input.environment, from, to, steps: [], pauseForApprovalAt: [], requestedBy: input.requestedBy, approvedBy: input.approvedBy, card: input.card };
        const decision = manualRollback(start, input.plan.reason, state.traffic.canary, ctx);
        const op = store.operations.insert(decision.next);
        const hold = holdFor(undefined, op);
        if (hold) store.holds.add(hold);
        const subject = `${input.service}/${input.environment}`;
        store.audit.append({
          actor: input.requestedBy,
          action: 'operation.started',
          subject,
          detail: { operation: op.id, request: input.requestId, kind: 'rollback', from, to, reason: input.plan.reason, ...(running ? { preempts: running.id } : {}) },
        });
        if (running && input.forced) store.audit.append({ actor: input.requestedBy, action: 'rollback.forced', subject, detail: { operation: op.id, preempts: running.id, kind: running.kind, state: running.state } });
        for (const row of decision.audit) store.audit.append({ actor: row.actor, action: row.action, subject, detail: { ...row.detail, operation: op.id } });
        this.deps.notices.write(op, decision.messages);
        this.deps.metrics.rollbacks.inc({ service: input.service, environment: input.environment, trigger: 'manual' });
        if (running && released) {
          const stopped = preempt(running, { operation: op.id, user: input.requestedBy }, ctx);
          const stored = store.operations.update({ ...stopped.next, version: released.version });
          if (!stored) throw new Error(`operation ${running.id} changed inside its own transaction`);
          for (const row of stopped.audit) store.audit.append({ actor: row.actor, action: row.action, subject, detail: row.detail });
          this.deps.notices.write(stored, stopped.messages);
          // Those waiting for the release now wait for the rollback that holds the service.
          store.waiters.transfer(running.id, op.id);
        }
        return { ok: true, operation: op };
      });
    };
    // Inside the running operation's chain: its reconcile in flight (and its write) ends before the lock moves.
    const started = active ? await this.serialized(active.id, record) : record();
    if (started.ok) void this.reconcile(started.operation.id, { type: 'tick' });
    return started;
  }

  /** A granted request that cannot start: audited, and said in its card's thread so nobody waits for it. */
  private refuse(request: ApprovalRecord, why: string, running?: Operation): StartResult {
    const { store } = this.deps;
    store.transaction(() => {
      store.audit.append({ actor: 'lifeguard', action: 'operation.refused', subject: `${request.service}/${request.environment}`, detail: { request: request.id, why, ...(running ? { running: running.id } : {}) } });
      this.deps.notices.refused(request, why);
    });
    return { ok: false, why, running };
  }

  /** The operation a request started, if it did. */
  forRequest(requestId: number): Operation | undefined {
    return this.deps.store.operations.byRequest(requestId);
  }

  /**
   * A tick's verdicts, handed over as soon as they are judged: a failing canary under a release is drained now,
   * not at the next tick. A failing canary nobody started is drained too (or reported, as configured).
   */
  async onVerdicts(verdicts: readonly Verdict[]): Promise<void> {
    await Promise.all(
      verdicts.map(async (verdict) => {
        const event = verdictEvent(verdict, 'canary');
        const op = this.deps.store.operations.active(verdict.service, verdict.environment);
        if (op) return this.reconcile(op.id, event);
        if (verdict.verdict === 'fail') return this.unmanaged(verdict, event);
        return undefined;
      }),
    );
  }

  /** Pause, resume, abort or promote, by a person; checked against their roles and the card clicked. */
  async control(id: number, user: string, verb: ControlVerb, card?: CardRef): Promise<ControlResult> {
    const { store, config, roles } = this.deps;
    const op = store.operations.get(id);
    const deny = (denial: Exclude<ControlResult, { ok: true }>['denial'], why: string, subject = 'unknown'): ControlResult => {
      store.audit.append({ actor: user, action: 'operation.control_denied', subject, detail: { operation: id, verb, why: denial, detail: why } });
      return { ok: false, denial, why, operation: op };
    };
    if (!op) return deny('not-found', `there is no operation ${id}`);
    const subject = `${op.service}/${op.environment}`;
    if (card && op.card && (op.card.channel !== card.channel || op.card.ts !== card.messageTs)) return deny('wrong-card', 'this button belongs to another card', subject);
    const allowed = controllers(config, op.environment, verb);
    if (allowed) {
      const held = await roles.rolesOf(user, allowed);
      if (held.length === 0) return deny('no-role', `only ${allowed.join(' or ')} may ${verb} releases in ${op.environment}`, subject);
    }
    const outcome = await this.reconcile(id, { type: 'control', verb, user });
    if (outcome?.refused) return deny('refused', outcome.refused, subject);
    return { ok: true, operation: store.operations.get(id)! };
  }

  /** Reconciles one operation; calls for the same operation run in order, never at once. */
  reconcile(id: number, event: OperationEvent): Promise<Decision | undefined> {
    return this.serialized(id, () => this.reconcileNow(id, event)).catch((error: unknown) => {
      this.deps.log.error({ err: error, operation: id, event: event.type }, 'reconciling an operation failed; the next tick tries again');
      return undefined;
    });
  }

  /** Runs `work` after everything already queued for operation `id`, and before anything queued later. */
  private serialized<T>(id: number, work: () => T | Promise<T>): Promise<T> {
    const previous = this.chains.get(id) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch(() => undefined);
    this.chains.set(id, settled);
    void settled.finally(() => {
      if (this.chains.get(id) === settled) this.chains.delete(id);
    });
    return next;
  }

  private async reconcileNow(id: number, event: OperationEvent): Promise<Decision | undefined> {
    const { store, clock, log } = this.deps;
    for (let attempt = 0; attempt < 3; attempt++) {
      const op = store.operations.get(id);
      if (!op) return undefined;
      const target = serviceTarget(this.deps.config, op.service, op.environment);
      const observation = isFinal(op.state) ? undefined : await this.observe(target, op);
      const settings = settingsFor(this.deps.config, target, op);
      const failing = this.failures.get(id);
      const ctx = {
        now: clock.now(),
        settings,
        lastAutomatedRollbackAt: store.operations.lastAutomatedRollbackAt(op.service, op.environment),
        ...(failing ? { failing: { since: failing.since, error: failing.error } } : {}),
      };
      const decision = decide(op, observation, event, ctx);
      if (decision.refused !== undefined) return decision;
      const committed = this.commit(op, decision, event);
      if (committed === 'conflict') {
        log.debug({ operation: id }, 'another writer moved the operation first; deciding again on what it wrote');
        continue;
      }
      // The cluster answered and wants nothing written: whatever failed before is over.
      if (observation && !decision.action) this.recovered(id);
      if (isFinal(decision.next.state)) this.judgedAt.delete(id);
      if (decision.action?.type === 'restore-canary') await this.evidenceGathered(id);
      if (decision.action && this.leads()) {
        const current = committed ?? op;
        if (await this.perform(current, target, decision.action)) this.confirm(id, decision.action);
        // Once the drain write is over (done or failed), never before it: the evidence of the decision.
        if (current.state === 'rolling-back' && current.phase === 'drain') this.keepEvidence(id);
      }
      return decision;
    }
    log.warn({ operation: id }, 'the operation kept changing under this reconcile; the next tick tries again');
    return undefined;
  }

  /** Commits a decision that changed anything: the operation (compare-and-set), its audit rows and its messages. */
  private commit(op: Operation, decision: Decision, event: OperationEvent): Operation | undefined | 'conflict' {
    const changed = JSON.stringify(decision.next) !== JSON.stringify(op) || decision.audit.length > 0 || decision.messages.length > 0;
    if (!changed) return undefined;
    const { store } = this.deps;
    const subject = `${op.service}/${op.environment}`;
    const committed = store.transaction(() => {
      const stored = store.operations.update(decision.next);
      if (!stored) return 'conflict' as const;
      for (const row of decision.audit) store.audit.append({ actor: row.actor, action: row.action, subject, detail: row.detail });
      const hold = holdFor(op, stored);
      if (hold) store.holds.add(hold);
      this.deps.notices.write(stored, decision.messages, event.type === 'verdict' ? event : undefined);
      if (!isFinal(op.state) && isFinal(stored.state)) this.deps.notices.freed(stored);
      this.count(op, stored);
      return stored;
    });
    if (committed !== 'conflict' && !isFinal(op.state) && isFinal(committed.state)) this.deps.onEnded?.(committed);
    return committed;
  }

  /** Rollbacks started and finished, on /metrics. */
  private count(before: Operation, after: Operation): void {
    const rb = after.rollback;
    if (!rb) return;
    const labels = { service: after.service, environment: after.environment };
    if (after.state === 'rolling-back' && before.state !== 'rolling-back') this.deps.metrics.rollbacks.inc({ ...labels, trigger: rb.trigger === 'abort' ? 'manual' : 'automatic' });
    if (before.state === 'rolling-back' && isFinal(after.state) && after.finishedAt) {
      this.deps.metrics.rollbackDurationSeconds.observe({ ...labels, outcome: after.state }, (Date.parse(after.finishedAt) - Date.parse(rb.decidedAt)) / 1000);
    }
  }

  /** Reads the cluster; undefined (logged) when it cannot, so a decision that needs no cluster still happens. */
  private async observe(target: ServiceTarget, op: Operation): Promise<Observation | undefined> {
    try {
      return observe(await this.deps.cluster.workloads.readState(target));
    } catch (error) {
      if (this.isNewFailure(op.id, error)) this.deps.log.warn({ err: error, operation: op.id }, 'cannot read the cluster for an operation; it waits for the next reconcile');
      this.failed(op.id, error);
      return undefined;
    }
  }

  /** Records that the cluster accepted the action written ahead ("X done"), unless the operation moved on meanwhile. */
  private confirm(id: number, action: Action): void {
    const { store } = this.deps;
    store.transaction(() => {
      const current = store.operations.get(id);
      const next = current && confirmPerformed(current, action);
      if (next) store.operations.update(next);
    });
  }

  /** Does what was committed; a failure is audited once per distinct error and retried by the next reconcile. */
  private async perform(op: Operation, target: ServiceTarget, action: Action): Promise<boolean> {
    const { cluster, store, log } = this.deps;
    const cause = `lifeguard: operation ${op.id} (${op.kind} ${op.to?.version ?? 'rollback'})`;
    try {
      switch (action.type) {
        case 'set-weight':
          await cluster.traffic.set(target, action.canary);
          break;
        case 'deploy-canary':
          await cluster.workloads.setCanaryImage(target, action.image, { changeCause: cause });
          if (action.replicas !== null) await cluster.workloads.scaleCanary(target, action.replicas);
          break;
        case 'promote-stable':
        case 'set-stable-image':
          await cluster.workloads.setStableImage(target, action.image, { changeCause: cause });
          break;
        case 'scale-canary':
          await cluster.workloads.scaleCanary(target, action.replicas);
          break;
        case 'restore-canary':
          await cluster.workloads.setCanaryImage(target, action.image);
          await cluster.workloads.scaleCanary(target, 0);
          break;
        case 'undo-stable':
          await cluster.workloads.rollback(target, { toRevision: action.toRevision });
          break;
      }
      this.recovered(op.id);
      return true;
    } catch (error) {
      // Logged and audited when it starts or changes, not at every retry.
      if (this.isNewFailure(op.id, error)) {
        log.error({ err: error, operation: op.id, action }, 'a cluster action failed; the next reconcile tries again after a back-off');
        store.audit.append({ actor: 'lifeguard', action: 'operation.action_failed', subject: `${op.service}/${op.environment}`, detail: { operation: op.id, action, error: messageOf(error) } });
      }
      this.failed(op.id, error);
      return false;
    }
  }

  /**
   * An operation the cluster failed (an action refused after the adapter's own retries, or the cluster unreadable):
   * the ticker leaves it alone for a back-off that doubles up to 16 s, and the state machine gives a rollback up
   * once the failures have lasted `rollbackRetryTimeout`. Kept in memory: a restart retries afresh.
   */
  private failed(id: number, error: unknown): void {
    const now = this.deps.clock.now();
    const previous = this.failures.get(id);
    const attempts = (previous?.attempts ?? 0) + 1;
    this.failures.set(id, {
      since: previous?.since ?? now,
      error: messageOf(error),
      attempts,
      retryAt: now.getTime() + Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (attempts - 1)),
    });
  }

  private readonly failures = new Map<number, { since: Date; error: string; attempts: number; retryAt: number }>();

  private isNewFailure(id: number, error: unknown): boolean {
    return this.failures.get(id)?.error !== messageOf(error);
  }

  /** The cluster answers the operation again: its failure ends, said once. */
  private recovered(id: number): void {
    const failure = this.failures.get(id);
    if (!failure) return;
    this.failures.delete(id);
    this.deps.log.info({ operation: id, failingSince: failure.since.toISOString(), attempts: failure.attempts }, 'the cluster answers the operation again');
  }

  /** What the cluster has been failing with for operation `id`, if it is: for a terminal that shows progress. */
  trouble(id: number): { since: Date; error: string } | undefined {
    const failure = this.failures.get(id);
    return failure && { since: failure.since, error: failure.error };
  }

  /** In watch or verification, the stable's verdict against its past, at most once per analysis interval. */
  private async judgeStableIfDue(op: Operation, now: Date): Promise<VerdictEvent | undefined> {
    const target = serviceTarget(this.deps.config, op.service, op.environment);
    const due = stableJudgement(op, now, settingsFor(this.deps.config, target, op));
    if (!due) return undefined;
    const last = this.judgedAt.get(op.id) ?? 0;
    if (now.getTime() - last < target.settings.analysis.interval) return undefined;
    this.judgedAt.set(op.id, now.getTime());
    const verdict = await this.deps.judgeStable(op.service, op.environment, new Date(due.since), now);
    await this.deps.recordVerdict(verdict);
    return verdictEvent(verdict, 'stable');
  }

  /** A failing canary under no operation: drained as an automated rollback, or only reported. */
  private async unmanaged(verdict: Verdict, event: VerdictEvent): Promise<void> {
    const { config, store, clock } = this.deps;
    const target = serviceTarget(config, verdict.service, verdict.environment);
    const subject = `${verdict.service}/${verdict.environment}`;
    let state: ServiceState;
    try {
      state = await this.deps.cluster.workloads.readState(target);
    } catch (error) {
      this.deps.log.error({ err: error, service: verdict.service, environment: verdict.environment }, 'a failing canary Lifeguard did not start cannot be drained: the cluster cannot be read');
      return;
    }
    const ctx = { now: clock.now(), settings: settingsFor(config, target), lastAutomatedRollbackAt: store.operations.lastAutomatedRollbackAt(verdict.service, verdict.environment) };
    // Within the cooldown (its owner scaling it back up, say) it is reported, not drained again and again.
    const cooling = ctx.lastAutomatedRollbackAt !== undefined && ctx.now.getTime() - ctx.lastAutomatedRollbackAt.getTime() < ctx.settings.rollbackCooldownMs;
    if (config.unmanagedCanaries === 'notify' || cooling) {
      store.transaction(() => {
        store.audit.append({ actor: 'lifeguard', action: 'canary.unmanaged_failing', subject, detail: { verdict: event, mode: config.unmanagedCanaries, cooling } });
        this.deps.notices.unmanaged(verdict, state.traffic.canary, state.canary.image);
      });
      return;
    }
    const from = { version: imageVersion(state.stable.image), image: state.stable.image, revision: state.stable.revision };
    const opId = store.transaction(() => {
      if (store.operations.active(verdict.service, verdict.environment)) return undefined;
      const decision = unmanagedDrain({ id: 0, service: verdict.service, environment: verdict.environment, from }, state.traffic.canary, event, ctx);
      const op = store.operations.insert(decision.next);
      store.audit.append({ actor: 'lifeguard', action: 'operation.started', subject, detail: { operation: op.id, kind: 'rollback', trigger: 'unmanaged', from } });
      for (const row of decision.audit) store.audit.append({ actor: row.actor, action: row.action, subject, detail: { ...row.detail, operation: op.id } });
      this.deps.notices.write(op, decision.messages, event);
      this.deps.metrics.rollbacks.inc({ service: verdict.service, environment: verdict.environment, trigger: 'automatic' });
      return op.id;
    });
    if (opId !== undefined) await this.reconcile(opId, { type: 'tick' });
  }

  /** Evidence being gathered, by operation: `stop` waits for it, so that a `lifeguard rollback` that ends keeps its evidence. */
  private readonly gathering = new Map<number, Promise<void>>();
  /** Operations whose evidence this process went for: once each, whatever came of it. */
  private readonly gathered = new Set<number>();

  /**
   * At a rollback decision (automated, asked for, an Abort or an unmanaged canary's drain), once the leader has
   * performed the drain: the canary's pod logs, the Events and both Deployments as they are, with the verdict's
   * failing metrics, cut to `evidence.maxBytes` and stored once with the operation. Called after every drain
   * write rather than at the transition, so that a rollback recorded by a replica without the lease, or before a
   * crash, still gets its evidence from the leader that drains it. Never awaited: it must not delay the rollback.
   */
  private keepEvidence(id: number): void {
    const { store, log } = this.deps;
    if (!this.leads() || this.gathered.has(id) || store.evidence.has(id)) return;
    this.gathered.add(id);
    const work = this.gatherEvidence(id).catch((error: unknown) => {
      log.error({ err: error, operation: id }, 'could not keep the evidence of a rollback decision; the rollback goes on without it');
      try {
        const op = store.operations.get(id);
        const subject = op ? `${op.service}/${op.environment}` : '-';
        store.audit.append({ actor: 'lifeguard', action: 'evidence.failed', subject, detail: { operation: id, error: error instanceof Error ? error.message : String(error) } });
      } catch (auditError) {
        // Nothing may escape a promise nobody awaits: the log line above already says what was lost.
        log.error({ err: auditError, operation: id }, 'could not audit the evidence that failed');
      }
    });
    this.gathering.set(id, work);
    void work.finally(() => this.gathering.delete(id));
  }

  /**
   * Waits, at most EVIDENCE_WAIT_MS, for the operation's evidence being gathered. Restoring the canary replaces its
   * pods, and their logs go with them; traffic is already off the canary, so a few seconds more cost nothing.
   */
  private async evidenceGathered(id: number): Promise<void> {
    const work = this.gathering.get(id);
    if (!work) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([work, new Promise<void>((resolve) => (timer = setTimeout(resolve, EVIDENCE_WAIT_MS)))]);
    clearTimeout(timer);
  }

  private async gatherEvidence(id: number): Promise<void> {
    const { store, config, cluster } = this.deps;
    const op = store.operations.get(id);
    if (!op?.rollback) return;
    const gathered = await cluster.workloads.gatherEvidence(serviceTarget(config, op.service, op.environment));
    const { maxBytes } = config.evidence;
    const evidence = boundEvidence(keptEvidence(op, gathered, maxBytes), maxBytes);
    store.transaction(() => {
      const { kept, bytes } = store.evidence.keep(evidence);
      if (!kept) return;
      store.audit.append({
        actor: 'lifeguard',
        action: 'evidence.kept',
        subject: `${op.service}/${op.environment}`,
        detail: { operation: id, bytes, logs: evidence.logs.length, events: evidence.events.length, bound: evidence.bound },
      });
    });
  }
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));
