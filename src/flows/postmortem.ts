import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { requirementFor, type CardRef } from '../domain/approval.js';
import { isAutomated, isFinal, type Operation } from '../domain/operation.js';
import { impactWindow, postmortemFilename, postmortemMarkdown, type ImpactFigures, type ImpactWindow } from '../domain/postmortem.js';
import { singleValue } from '../domain/query-outcome.js';
import type { Clock, EvidenceSummary, Metrics, PostedMessage, PostmortemRepository, RoleDirectory, Store, StoredPostmortem } from '../ports.js';
import { incidentSlot, type IncidentNotices } from './operation-notices.js';

/**
 * Post-mortem drafts and the incident post's follow-ups. An automated rollback gets its draft as it ends (in a
 * transaction right after the one that ended it, once the impact is read from Prometheus; `catchUp` drafts those a
 * restart left without one); a manual rollback gets one when someone asks. The draft is stored, shared as a file
 * in the incident post's thread, and the post redrawn with its new status. Acknowledge records who and when.
 */

export interface PostmortemDeps {
  config: Config;
  store: Pick<Store, 'transaction' | 'audit' | 'operations' | 'outbox'>;
  postmortems: PostmortemRepository;
  metrics: Metrics;
  roles: RoleDirectory;
  notices: IncidentNotices;
  clock: Clock;
  log: Logger;
  /** What was gathered at the decision; the draft says so when absent. */
  evidence?: EvidenceSummary | undefined;
  /** A link to a chat message, for the draft's header. */
  permalink?: ((message: PostedMessage) => string) | undefined;
}

/** Why a person's request was refused, for the reply; `where`: the incident post, when there is one. */
export type FollowUpResult<T> = ({ ok: true } & T) | { ok: false; why: string };

/** How recently an automated rollback must have ended for a start to draft its missing post-mortem. */
const CATCH_UP_MS = 60 * 60_000;

const ENDED_WITH_DRAFT: readonly Operation['state'][] = ['rolled-back', 'failed'];

/** The 5xx of the DESIGN's metric conventions (`http_requests_total{app, version, status}`). */
const SERVER_ERRORS = 'status=~"5.."';

export class PostmortemFlow {
  constructor(private readonly deps: PostmortemDeps) {}

  /**
   * Called once an operation has ended: an automated rollback that rolled back or failed is drafted now. Never
   * throws; a failure is logged and `catchUp` tries again at the next start.
   */
  async ended(op: Operation): Promise<void> {
    const rb = op.rollback;
    if (!rb || !isAutomated(rb.trigger) || !ENDED_WITH_DRAFT.includes(op.state)) return;
    await this.draft(op, 'lifeguard').catch((error: unknown) => this.deps.log.error({ err: error, operation: op.id }, 'could not draft the post-mortem of an automated rollback; the next start tries again'));
  }

  /**
   * Drafts the automated rollbacks that ended recently without one (a restart between the end and the draft). Older
   * ones are left alone: the first start after an upgrade must not post drafts into every old incident thread.
   */
  async catchUp(): Promise<void> {
    for (const id of this.deps.postmortems.undrafted(new Date(this.deps.clock.now().getTime() - CATCH_UP_MS))) {
      const op = this.deps.store.operations.get(id);
      if (op) await this.ended(op);
    }
  }

  /** Acknowledged by whom and whether a draft exists: what the incident post shows. */
  followUp(operationId: number): { acknowledged?: { by: string; at: string } | undefined; postmortem: boolean } {
    return { acknowledged: this.deps.postmortems.acknowledgement(operationId), postmortem: this.deps.postmortems.get(operationId) !== undefined };
  }

  get(operationId: number): StoredPostmortem | undefined {
    return this.deps.postmortems.get(operationId);
  }

  /** Where the incident post of an operation is, once posted. */
  incidentPost(operationId: number): PostedMessage | undefined {
    return this.deps.store.outbox.slotMessage(incidentSlot(operationId));
  }

  /**
   * `/rollback postmortem <id>` or the Start post-mortem button: drafts the post-mortem of a rollback that has
   * ended, for people who may approve rollbacks there. A rollback with a draft says where it is (`created: false`).
   */
  async request(operationId: number, user: string, post?: CardRef): Promise<FollowUpResult<{ created: boolean; draft: StoredPostmortem; operation: Operation }>> {
    const checked = await this.check(operationId, user, 'postmortem', post);
    if (!checked.ok) return checked;
    const { op } = checked;
    if (!isFinal(op.state)) return this.deny(op, user, 'postmortem', 'running', `rollback #${op.id} is still running (${op.phase}): ask again once it has ended, so the draft has its whole timeline`);
    const existing = this.deps.postmortems.get(op.id);
    if (existing) return { ok: true, created: false, draft: existing, operation: op };
    const drafted = await this.draft(op, user);
    return { ok: true, ...drafted, operation: op };
  }

  /** The Acknowledge button: the first click is recorded (audited) and shown on the post; later ones are told who did. */
  async acknowledge(operationId: number, user: string, post: CardRef): Promise<FollowUpResult<{ by: string; at: string; first: boolean }>> {
    const checked = await this.check(operationId, user, 'acknowledge', post);
    if (!checked.ok) return checked;
    const { op } = checked;
    const { store, postmortems, clock } = this.deps;
    return store.transaction(() => {
      const now = clock.now();
      if (!postmortems.acknowledge(op.id, user, now)) return { ok: true as const, ...postmortems.acknowledgement(op.id)!, first: false };
      store.audit.append({ actor: user, action: 'incident.acknowledged', subject: `${op.service}/${op.environment}`, detail: { operation: op.id } });
      this.deps.notices.incidentChanged(op, 'ack');
      return { ok: true as const, by: user, at: now.toISOString(), first: true };
    });
  }

  /**
   * The operation exists, is a rollback with an incident post, the click came from that post, and the person may
   * approve rollbacks in its environment (anyone, where rollbacks need no approval). Refusals are audited.
   */
  private async check(operationId: number, user: string, what: 'postmortem' | 'acknowledge', post?: CardRef): Promise<FollowUpResult<{ op: Operation }>> {
    const { store, config, roles } = this.deps;
    const op = store.operations.get(operationId);
    if (!op) {
      store.audit.append({ actor: user, action: `${what === 'postmortem' ? 'postmortem' : 'incident'}.denied`, subject: 'unknown', detail: { operation: operationId, why: 'not-found' } });
      return { ok: false, why: `there is no operation #${operationId}` };
    }
    if (!op.rollback || op.rollback.trigger === 'abort') return this.deny(op, user, what, 'not-an-incident', `operation #${op.id} is not a rollback with an incident post (${op.kind}, ${op.state})`);
    const posted = this.incidentPost(op.id);
    if (post && (!posted || posted.channel !== post.channel || posted.ts !== post.messageTs)) return this.deny(op, user, what, 'wrong-post', 'this button belongs to another incident post');
    const rule = requirementFor(config, 'rollback', op.environment);
    if (rule.mode === 'any' && rule.count === 0) return { ok: true, op };
    const held = await roles.rolesOf(user, rule.roles);
    if (held.length === 0) return this.deny(op, user, what, 'no-role', `only ${rule.roles.join(' or ')} may ${what === 'postmortem' ? 'start a post-mortem' : 'acknowledge incidents'} in ${op.environment}`);
    return { ok: true, op };
  }

  private deny(op: Operation, user: string, what: 'postmortem' | 'acknowledge', why: string, text: string): { ok: false; why: string } {
    this.deps.store.audit.append({ actor: user, action: `${what === 'postmortem' ? 'postmortem' : 'incident'}.denied`, subject: `${op.service}/${op.environment}`, detail: { operation: op.id, what, why } });
    return { ok: false, why: text };
  }

  /**
   * Writes the draft (the impact is read first, outside any transaction), then in one transaction: stored, audited,
   * the file queued for the incident post's thread, the post redrawn. A draft someone else wrote meanwhile wins.
   */
  /** The evidence in a few lines; evidence that cannot be read leaves the draft without it, not without a draft. */
  private evidenceOf(operationId: number): readonly string[] | undefined {
    try {
      return this.deps.evidence?.summary(operationId);
    } catch (error) {
      this.deps.log.warn({ err: error, operation: operationId }, 'the kept evidence cannot be read; the post-mortem draft goes without it');
      return undefined;
    }
  }

  private async draft(op: Operation, requestedBy: string): Promise<{ created: boolean; draft: StoredPostmortem }> {
    const { store, postmortems, clock, config } = this.deps;
    const existing = postmortems.get(op.id);
    if (existing) return { created: false, draft: existing };
    const audit = postmortems.auditOf(op);
    const window = impactWindow(op, audit);
    const impact = await this.impact(op, window);
    const post = this.incidentPost(op.id);
    const now = clock.now();
    const markdown = postmortemMarkdown({
      op,
      audit,
      window,
      impact,
      evidence: this.evidenceOf(op.id),
      critical: Object.entries(config.metrics)
        .filter(([, metric]) => 'critical' in metric && metric.critical === true)
        .map(([name]) => name),
      links: {
        releaseThread: op.card ? this.link(op.card) : undefined,
        incidentPost: post ? this.link(post) : undefined,
      },
      requestedBy,
      now,
    });
    const draft = { operationId: op.id, markdown, createdAt: now.toISOString(), requestedBy };
    return store.transaction(() => {
      if (!postmortems.insert(draft)) return { created: false, draft: postmortems.get(op.id)! };
      store.audit.append({
        actor: requestedBy,
        action: 'postmortem.drafted',
        subject: `${op.service}/${op.environment}`,
        detail: { operation: op.id, window: { start: window.start.toISOString(), end: window.end.toISOString() }, impact, bytes: Buffer.byteLength(markdown) },
      });
      this.deps.notices.postmortemFile(op, {
        filename: postmortemFilename(op),
        title: `Post-mortem draft: rollback #${op.id} of ${op.service} in ${op.environment}`,
        content: markdown,
        comment: `Post-mortem draft of #${op.id}: fill in the contributing factors, what went well and wrong, the action items and the lessons. \`lifeguard postmortem ${op.id}\` prints it.`,
      });
      this.deps.notices.incidentChanged(op, 'postmortem');
      return { created: true, draft };
    });
  }

  private link(message: PostedMessage): string {
    return this.deps.permalink ? this.deps.permalink(message) : `message ${message.ts} in ${message.channel}`;
  }

  /** Requests and 5xx of the version that failed, over the window, asked of Prometheus at the window's end. */
  private async impact(op: Operation, window: ImpactWindow): Promise<ImpactFigures> {
    const ms = window.end.getTime() - window.start.getTime();
    if (ms < 1000) return { ok: false, why: 'the impact window is shorter than a second' };
    const series = `http_requests_total{app="${op.service}",version="${window.variant}"`;
    const queries = [`sum(increase(${series}}[${ms}ms]))`, `sum(increase(${series},${SERVER_ERRORS}}[${ms}ms]))`];
    const [requests, failed] = await Promise.all(queries.map((q) => this.deps.metrics.instant(q, window.end).then(singleValue)));
    for (const outcome of [requests!, failed!]) {
      if (outcome.kind === 'value') continue;
      if (outcome.kind === 'nodata') return { ok: false, why: `no ${series}} series over the window: does the service export the DESIGN's metric conventions?` };
      return { ok: false, why: 'message' in outcome ? outcome.message : `its answer was ${outcome.kind}` };
    }
    const value = (o: typeof requests) => (o!.kind === 'value' ? o!.value : 0);
    return { ok: true, requests: value(requests), failed: value(failed), queries: queries.map((q) => `${q} @ ${window.end.toISOString()}`) };
  }
}
