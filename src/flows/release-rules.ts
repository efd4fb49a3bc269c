import type { Config, Urgency } from '../config/schema.js';
import type { ApprovalKind, CardRef } from '../domain/approval.js';
import { freezeGate, freezesInForce, type AdHocFreeze, type DuringFreeze, type FreezeGate, type FreezeInForce } from '../domain/freezes.js';
import type { ForcedPastHold, VersionHold } from '../domain/holds.js';
import type { Clock, PostedMessage, RoleDirectory, Store } from '../ports.js';
import { incidentSlot } from './operation-notices.js';

/**
 * The rules a release must pass before it is even asked for: freeze windows (scheduled in the config or started
 * by hand) and holds on versions that were rolled back. Starting and ending freezes and lifting holds is for
 * release managers; every change and every denial is audited in the transaction of the change.
 */

/** The role that may freeze, unfreeze, lift holds and force past one. */
export const RELEASE_MANAGER = 'release-manager';

export interface ReleaseRulesDeps {
  config: Pick<Config, 'environments'>;
  store: Pick<Store, 'transaction' | 'audit' | 'freezes' | 'holds' | 'outbox' | 'operations'>;
  roles: RoleDirectory;
  clock: Clock;
}

/** What a request asks for, as far as the rules care. */
export interface RuleSubject {
  kind: ApprovalKind;
  service: string;
  environment: string;
  version?: string | undefined;
  urgency?: Urgency | undefined;
  /** `force=true`: a release manager releases a held version all the same. */
  force?: boolean | undefined;
}

/** A held version and where its rollback can be read about. */
export interface HoldInForce {
  hold: VersionHold;
  /** The rollback's incident post, once posted. */
  incident?: PostedMessage | undefined;
  /** The card of the operation that rolled back, when there is one. */
  card?: PostedMessage | undefined;
}

export type Refusal = { kind: 'freeze'; freeze: FreezeInForce } | ({ kind: 'hold' } & HoldInForce) | { kind: 'force-denied'; role: string };

/** What the plan records of the rules it passed, for its card. */
export interface RuleMarks {
  duringFreeze?: DuringFreeze | undefined;
  forcedPastHold?: ForcedPastHold | undefined;
}

export type Admission = { ok: true; marks: RuleMarks } | { ok: false; refusal: Refusal };

export type RuleResult<T> = ({ ok: true } & T) | { ok: false; why: string };

export interface RulesStatus {
  freezes: FreezeInForce[];
  holds: VersionHold[];
}

export class ReleaseRules {
  constructor(private readonly deps: ReleaseRulesDeps) {}

  /** Every freeze in force in `environment` at `at`. */
  inForce(environment: string, at: Date = this.deps.clock.now()): FreezeInForce[] {
    const scheduled = this.deps.config.environments[environment]?.freezes ?? [];
    return freezesInForce(environment, scheduled, this.deps.store.freezes.open(environment), at);
  }

  /**
   * Whether a release, hotfix or rollback may go ahead in `environment` at `at`, as far as freezes go: for the
   * engine to check again at start time a request approved while a freeze began.
   */
  gate(kind: ApprovalKind, environment: string, urgency: Urgency | undefined, at: Date): FreezeGate {
    return freezeGate(kind, urgency, this.inForce(environment, at));
  }

  /**
   * Checks a request as it is opened: a freeze refuses it (a critical or high hotfix passes, marked); a held
   * version refuses it unless a release manager forces it. A refusal is audited as `request.refused`, a force as
   * `request.hold_forced`. Rollbacks always pass.
   */
  async admit(requester: string, subject: RuleSubject): Promise<Admission> {
    if (subject.kind === 'rollback') return { ok: true, marks: {} };
    const { store } = this.deps;
    const where = `${subject.service}/${subject.environment}`;
    const refuse = (refusal: Refusal, detail: Record<string, unknown>): Admission => {
      store.audit.append({ actor: requester, action: 'request.refused', subject: where, detail: { kind: subject.kind, version: subject.version, why: refusal.kind, ...detail } });
      return { ok: false, refusal };
    };
    const gate = this.gate(subject.kind, subject.environment, subject.urgency, this.deps.clock.now());
    if (!gate.ok) return refuse({ kind: 'freeze', freeze: gate.freeze }, { freeze: { reason: gate.freeze.reason, endsAt: gate.freeze.end?.toISOString() ?? null, source: gate.freeze.source } });
    if (subject.force && !(await this.isReleaseManager(requester))) {
      return refuse({ kind: 'force-denied', role: RELEASE_MANAGER }, { force: true, detail: `only ${RELEASE_MANAGER} may use force=true` });
    }
    const marks: RuleMarks = gate.duringFreeze ? { duringFreeze: gate.duringFreeze } : {};
    const held = subject.version === undefined ? undefined : this.holdOn(subject.service, subject.environment, subject.version);
    if (!held) return { ok: true, marks };
    const { hold } = held;
    if (!subject.force) return refuse({ kind: 'hold', ...held }, { hold: { operation: hold.operationId, reason: hold.reason } });
    store.audit.append({ actor: requester, action: 'request.hold_forced', subject: where, detail: { kind: subject.kind, version: subject.version, hold: { operation: hold.operationId, reason: hold.reason } } });
    return { ok: true, marks: { ...marks, forcedPastHold: { operationId: hold.operationId, reason: hold.reason, by: requester } } };
  }

  /** The hold in force on a version, with the links to its rollback. */
  holdOn(service: string, environment: string, version: string): HoldInForce | undefined {
    const { store } = this.deps;
    const hold = store.holds.find(service, environment, version);
    if (!hold) return undefined;
    const incident = store.outbox.slotMessage(incidentSlot(hold.operationId));
    const card = store.operations.get(hold.operationId)?.card ?? undefined;
    return { hold, ...(incident ? { incident } : {}), ...(card ? { card } : {}) };
  }

  /** Starts a freeze of `environment` for `durationMs` (null: until unfrozen). Release managers only. */
  async freeze(environment: string, durationMs: number | null, reason: string, user: string, operationId?: number): Promise<RuleResult<{ freeze: AdHocFreeze }>> {
    const denied = await this.denyUnlessReleaseManager(user, 'freeze', `*/${environment}`, { environment, reason });
    if (denied) return denied;
    const { store, clock } = this.deps;
    const now = clock.now();
    const freeze = store.transaction(() => {
      const started = store.freezes.start({ environment, reason, by: user, startedAt: now, endsAt: durationMs === null ? null : new Date(now.getTime() + durationMs) });
      store.audit.append({
        actor: user,
        action: 'freeze.started',
        subject: `*/${environment}`,
        detail: { freeze: started.id, environment, reason, endsAt: started.endsAt?.toISOString() ?? null, ...(operationId !== undefined ? { operation: operationId } : {}) },
      });
      return started;
    });
    return { ok: true, freeze };
  }

  /**
   * The Freeze button of an incident post: stops the line in the rolled-back operation's environment until
   * someone unfreezes. The click counts only on the post of that operation.
   */
  async stopTheLine(operationId: number, user: string, post: CardRef): Promise<RuleResult<{ freeze: AdHocFreeze }>> {
    const { store } = this.deps;
    const op = store.operations.get(operationId);
    const posted = store.outbox.slotMessage(incidentSlot(operationId));
    const wrongPost = posted !== undefined && (posted.channel !== post.channel || posted.ts !== post.messageTs);
    if (!op || wrongPost) {
      const why = !op ? `there is no operation #${operationId}` : 'this button belongs to another incident post';
      store.audit.append({ actor: user, action: 'freeze.denied', subject: op ? `*/${op.environment}` : 'unknown', detail: { operation: operationId, why: op ? 'wrong-post' : 'not-found' } });
      return { ok: false, why };
    }
    return this.freeze(op.environment, null, `stop the line after rollback #${operationId}`, user, operationId);
  }

  /**
   * Ends the freezes started by hand in `environment`. Scheduled windows stay: they are the config's. Release
   * managers only.
   */
  async unfreeze(environment: string, user: string): Promise<RuleResult<{ ended: AdHocFreeze[]; stillInForce: FreezeInForce[] }>> {
    const denied = await this.denyUnlessReleaseManager(user, 'unfreeze', `*/${environment}`, { environment });
    if (denied) return denied;
    const { store, clock } = this.deps;
    const now = clock.now();
    const ended = store.transaction(() => {
      const closed = store.freezes.end(environment, user, now);
      store.audit.append({ actor: user, action: 'freeze.ended', subject: `*/${environment}`, detail: { environment, ended: closed.map((f) => f.id) } });
      return closed;
    });
    return { ok: true, ended, stillInForce: this.inForce(environment, now) };
  }

  /** Lifts the hold on a version (in one environment, or in every one). Release managers only. */
  async unhold(service: string, version: string, environment: string | undefined, user: string): Promise<RuleResult<{ lifted: VersionHold[] }>> {
    const denied = await this.denyUnlessReleaseManager(user, 'unhold', environment ? `${service}/${environment}` : `${service}/*`, { service, version, environment: environment ?? null });
    if (denied) return denied;
    const { store, clock } = this.deps;
    const lifted = store.transaction(() => {
      const done = store.holds.lift(service, version, environment, user, clock.now());
      store.audit.append({
        actor: user,
        action: 'hold.lifted',
        subject: environment ? `${service}/${environment}` : `${service}/*`,
        detail: { service, version, environment: environment ?? null, lifted: done.map((h) => ({ environment: h.environment, operation: h.operationId })) },
      });
      return done;
    });
    return { ok: true, lifted };
  }

  /** The freezes in force in every configured environment, and every hold. */
  status(): RulesStatus {
    const now = this.deps.clock.now();
    return { freezes: Object.keys(this.deps.config.environments).flatMap((env) => this.inForce(env, now)), holds: this.deps.store.holds.list() };
  }

  private async isReleaseManager(user: string): Promise<boolean> {
    return (await this.deps.roles.rolesOf(user, [RELEASE_MANAGER])).includes(RELEASE_MANAGER);
  }

  /** Undefined for a release manager; otherwise the denial, audited. */
  private async denyUnlessReleaseManager(user: string, verb: 'freeze' | 'unfreeze' | 'unhold', subject: string, detail: Record<string, unknown>): Promise<{ ok: false; why: string } | undefined> {
    if (await this.isReleaseManager(user)) return undefined;
    this.deps.store.audit.append({ actor: user, action: `${verb}.denied`, subject, detail: { ...detail, why: 'no-role', role: RELEASE_MANAGER } });
    return { ok: false, why: `only ${RELEASE_MANAGER} may ${verb}` };
  }
}
