import * as z from 'zod';
import { isAutomated, type FailingMetric, type Operation } from './operation.js';
import type { MetricEvidence } from './verdict.js';

/**
 * The post-mortem draft of a rollback, as Markdown: what happened, the timeline from the audit log, the impact
 * estimated from the metrics, the evidence, and the sections people fill in. Pure: the flow gathers the audit
 * rows, asks Prometheus for the impact and stores the text; this only writes it.
 */

/** One audit row as the draft reads it. */
export interface AuditEvent {
  id: number;
  /** RFC 3339 UTC. */
  at: string;
  actor: string;
  action: string;
  detail: Record<string, unknown>;
}

/** Whose requests the impact counts: the canary's, or the stable's once it ran the new version (after promotion). */
export type ImpactVariant = 'canary' | 'baseline';

/** The period the service was hurt, as far as Lifeguard can tell. */
export interface ImpactWindow {
  start: Date;
  end: Date;
  variant: ImpactVariant;
  /** Where `start` comes from, in words for the draft. */
  from: 'the breach start' | 'the first step' | 'the promotion' | 'the rollback decision';
  /** Where `end` comes from. */
  to: 'the drain' | 'the restore' | 'the end of the operation';
}

export const impactFiguresSchema = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    requests: z.number(),
    failed: z.number(),
    /** The PromQL asked, as evaluated, for readers who want to check. */
    queries: z.array(z.string()),
  }),
  z.object({ ok: z.literal(false), why: z.string() }),
]);
/** Requests and 5xx served in the impact window, from Prometheus; or why they could not be had. */
export type ImpactFigures = z.infer<typeof impactFiguresSchema>;

export interface PostmortemInput {
  op: Operation;
  /** The operation's audit rows (and its request's), oldest first. */
  audit: readonly AuditEvent[];
  window: ImpactWindow;
  impact: ImpactFigures;
  /** Lines summing up what was gathered at the decision (canary logs, Events, Deployments); undefined: none. */
  evidence: readonly string[] | undefined;
  /** Metrics the config marks critical: one failing makes the incident's severity high. */
  critical: readonly string[];
  links: { releaseThread?: string | undefined; incidentPost?: string | undefined };
  /** `lifeguard` for an automated rollback; the person who asked for a manual one's draft. */
  requestedBy: string;
  now: Date;
}

/** The time of the first write-ahead row of a traffic change that `wanted` accepts (`operation.action`). */
function weightWritten(audit: readonly AuditEvent[], wanted: (canary: number, phase: unknown) => boolean): string | undefined {
  return audit.find((row) => {
    const action = row.detail.action as { type?: unknown; canary?: unknown } | undefined;
    return row.action === 'operation.action' && action?.type === 'set-weight' && typeof action.canary === 'number' && wanted(action.canary, row.detail.phase);
  })?.at;
}

/**
 * When the draft's impact window begins and ends, read from the operation and its audit rows. It begins when users
 * first met the new version (traffic first sent to the canary; the promotion, when the stable failed after it),
 * else at the breach start: a breach is only recognised a window and a `for` after the failures began, and the
 * draft counts every failed request. It ends when the bad version stopped serving: the drain as written (the
 * write-ahead row of "weight 0", tens of milliseconds after the decision; `drainedAt` is when it was observed,
 * later), or the restore after a promotion.
 */
export function impactWindow(op: Operation, audit: readonly AuditEvent[]): ImpactWindow {
  const rb = op.rollback!;
  const ended = new Date(op.finishedAt ?? rb.decidedAt);
  if (rb.afterPromotion && rb.trigger !== 'manual') {
    const start = op.stableChangedAt ?? rb.breachStartedAt ?? rb.decidedAt;
    return {
      start: new Date(start),
      end: rb.restoredAt ? new Date(rb.restoredAt) : ended,
      variant: 'baseline',
      from: op.stableChangedAt ? 'the promotion' : rb.breachStartedAt ? 'the breach start' : 'the rollback decision',
      to: rb.restoredAt ? 'the restore' : 'the end of the operation',
    };
  }
  const firstStep = weightWritten(audit, (canary, phase) => canary > 0 && phase !== 'drain') ?? audit.find((row) => row.action === 'operation.step')?.at;
  const drained = weightWritten(audit, (canary, phase) => canary === 0 && phase === 'drain') ?? rb.drainedAt;
  const start = firstStep ?? rb.breachStartedAt ?? rb.decidedAt;
  return {
    start: new Date(start),
    end: drained ? new Date(drained) : ended,
    variant: 'canary',
    from: firstStep ? 'the first step' : rb.breachStartedAt ? 'the breach start' : 'the rollback decision',
    to: drained ? 'the drain' : 'the end of the operation',
  };
}

/** High when a failing metric is critical (it fails the canary alone), else medium. */
export function severity(failing: readonly FailingMetric[], critical: readonly string[]): { level: 'high' | 'medium'; why: string } {
  const names = [...new Set(failing.map((f) => f.metric))];
  const criticalOnes = names.filter((name) => critical.includes(name));
  if (criticalOnes.length) return { level: 'high', why: `${criticalOnes.join(', ')} ${criticalOnes.length === 1 ? 'is a critical metric' : 'are critical metrics'}` };
  if (names.length) return { level: 'medium', why: `no failing metric is critical (${names.join(', ')})` };
  return { level: 'medium', why: 'no metric failed' };
}

/** `2025-05-01 12:00:05 UTC`. */
export function utc(at: Date | string): string {
  return `${new Date(at).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

function span(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
  return `${Math.floor(seconds / 3600)} h ${String(Math.round((seconds % 3600) / 60)).padStart(2, '0')} min`;
}

/** A figure to four significant digits, as the incident post shows them. */
function num(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  return String(Number(n.toPrecision(4)));
}

const pct = (part: number, whole: number) => (whole > 0 ? `${num((100 * part) / whole)} %` : '—');

/** Text that goes into a Markdown table cell: no pipe or line break may end the cell early. */
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined);

/** A failing metric in one line: its values, the bounds it broke and how long it had breached. */
function failingLine(f: FailingMetric, sides: [string, string]): string {
  const bounds = f.thresholds.length ? `, bounds ${f.thresholds.join(', ')}` : '';
  const held = f.breachingForMs !== null ? `, breaching for ${span(f.breachingForMs)}` : '';
  return `${f.metric} ${f.classification}: ${sides[0]} ${num(f.canary)} vs ${sides[1]} ${num(f.baseline)}${bounds}${held}`;
}

interface VerdictDetail {
  evaluatedAt?: string;
  verdict?: string;
  failing?: FailingMetric[];
  reasons?: string[];
  evidence?: { metrics?: MetricEvidence[] };
}

/** The timeline: one entry per audit row that says something a reader of the post-mortem needs, with its time. */
function timeline(input: PostmortemInput): { at: string; what: string; id?: number }[] {
  const { op } = input;
  const rb = op.rollback!;
  const sides: [string, string] = rb.trigger === 'watch' ? ['now', 'before'] : ['canary', 'baseline'];
  const entries: { at: string; what: string; id?: number }[] = [];
  const add = (row: AuditEvent, what: string) => entries.push({ at: row.at, what, id: row.id });
  for (const row of input.audit) {
    const d = row.detail;
    switch (row.action) {
      case 'approval.requested': {
        const plan = (d.plan ?? {}) as { version?: unknown };
        const kind = str(d.kind) ?? 'request';
        add(row, `${kind.charAt(0).toUpperCase()}${kind.slice(1)} #${str(d.request) ?? '?'}${str(plan.version) ? ` of ${str(plan.version)}` : ''} requested by ${row.actor}`);
        break;
      }
      case 'approval.approved':
        add(row, `Approved by ${row.actor}${str(d.role) ? ` (${str(d.role)})` : ''}`);
        break;
      case 'approval.granted':
        add(row, `Request #${str(d.request) ?? '?'} granted${str(d.why) ? `: ${str(d.why)}` : ''}`);
        break;
      case 'operation.started':
        add(row, `Operation #${op.id} started: ${op.from.version} → ${op.to?.version ?? 'the stable'}${op.steps.length ? ` (steps ${op.steps.join(', ')} %)` : ''}`);
        break;
      case 'operation.canary_deployed':
        add(row, `Canary ${op.to?.version ?? ''} deployed (${str(d.replicas) ?? '?'} replicas)`.replace('  ', ' '));
        break;
      case 'operation.step':
        add(row, `Step ${str(d.step) ?? '?'} of ${op.steps.length}: ${str(d.weight) ?? '?'} % of traffic on the canary`);
        break;
      case 'operation.promoted_step':
        add(row, `Promoted at ${str(d.weight) ?? '?'} % by ${row.actor}`);
        break;
      case 'operation.paused':
        add(row, `Paused by ${row.actor}${str(d.why) ? `: ${str(d.why)}` : ''}`);
        break;
      case 'operation.resumed':
        add(row, `Resumed by ${row.actor}`);
        break;
      case 'operation.stable_updated':
        add(row, `Stable rolled out ${op.to?.version ?? ''} (revision ${str(d.revision) ?? '?'})`);
        break;
      case 'operation.action_failed':
        add(row, `A cluster write failed: ${str(d.error) ?? 'unknown error'}`);
        break;
      case 'rollback.automated': {
        const verdict = (d.verdict ?? {}) as VerdictDetail;
        const failing = verdict.failing ?? (d.failing as FailingMetric[] | undefined) ?? [];
        if (verdict.evaluatedAt && verdict.verdict) {
          entries.push({ at: verdict.evaluatedAt, what: `Verdict ${verdict.verdict}: ${failing.map((f) => failingLine(f, sides)).join('; ') || (verdict.reasons ?? []).join('; ')}`, id: row.id });
        }
        add(row, `Automated rollback decided at ${str(d.weight) ?? '?'} % of traffic (step ${str(d.step) ?? '?'}): ${str(d.why) ?? ''}`);
        break;
      }
      case 'rollback.manual':
        add(row, `Rollback requested by ${row.actor}: ${str(d.why) ?? ''}`);
        break;
      case 'rollback.drained':
        add(row, 'Traffic drained: all of it on the stable');
        break;
      case 'rollback.restored':
        add(row, `Rolled back: the stable runs ${str(d.stable) ?? '?'} (revision ${str(d.revision) ?? '?'}), the canary at 0`);
        break;
      case 'rollback.verified':
        add(row, `Verified: ${str(d.verdict) === 'pass' ? 'the stable passed analysis against its own past' : `the stable's metrics were ${str(d.verdict) ?? '?'}, its pods ready`}`);
        break;
      case 'rollback.verify_failed':
        add(row, 'Verification failed: the stable is not healthy after the rollback');
        break;
      case 'rollback.stuck':
        add(row, `The rollback could not finish: ${str(d.why) ?? ''}`);
        break;
      case 'operation.finished':
        add(row, `Operation ended: ${str(d.state) ?? '?'} (${str(d.outcome) ?? ''})`);
        break;
    }
  }
  // The breach began before the verdict that acted on it; it is the clock's start for the impact.
  if (rb.breachStartedAt) entries.push({ at: rb.breachStartedAt, what: `Breach started: ${rb.failing.map((f) => f.metric).join(', ') || 'the failing metrics'} began breaching` });
  return entries.map((e, index) => ({ e, index })).sort((a, b) => Date.parse(a.e.at) - Date.parse(b.e.at) || a.index - b.index).map(({ e }) => e);
}

/** The latency metric of the decision's verdict, as a change from baseline to canary; undefined when there was none. */
function latencyChange(audit: readonly AuditEvent[]): string | undefined {
  const decision = audit.find((row) => row.action === 'rollback.automated');
  const metrics = ((decision?.detail.verdict ?? {}) as VerdictDetail).evidence?.metrics ?? [];
  const latency = metrics.find((m) => /latency|duration/i.test(m.metric));
  if (!latency) return undefined;
  const change = latency.canary !== null && latency.baseline !== null && latency.baseline !== 0 ? ` (${latency.canary >= latency.baseline ? '+' : ''}${num((100 * (latency.canary - latency.baseline)) / latency.baseline)} %)` : '';
  return `${latency.metric}: canary ${num(latency.canary)} vs baseline ${num(latency.baseline)}${change}, at the decision (${latency.classification})`;
}

const TRIGGER: Record<NonNullable<Operation['rollback']>['trigger'], string> = {
  verdict: 'canary analysis failed',
  watch: 'the new version failed analysis while watched after promotion',
  unmanaged: 'a canary Lifeguard did not start failed analysis',
  'rollout-failed': "the new version's rollout failed",
  abort: 'aborted by hand',
  manual: 'rolled back by hand',
};

const OUTCOME: Record<string, string> = {
  'rolled-back': 'rolled back and verified',
  failed: 'the rollback did not finish (see the timeline)',
  aborted: 'aborted and rolled back',
};

function people(input: PostmortemInput): [string, string][] {
  const { op, audit } = input;
  const person = (who: string) => who !== 'lifeguard';
  const requester = op.requestedBy === 'lifeguard' ? 'nobody (Lifeguard acted alone)' : op.requestedBy;
  const promoters = [...new Set(op.promotions.map((p) => p.user))];
  const named = new Set([op.requestedBy, ...op.approvedBy, ...promoters]);
  // Anyone else who clicked or typed something the audit log recorded (pause, resume, abort, a manual rollback).
  const others = [...new Set(audit.map((row) => row.actor).filter((actor) => person(actor) && !named.has(actor)))];
  return [
    ['Requested by', requester],
    ['Approved by', op.approvedBy.join(', ') || 'no approval needed'],
    ['Promoted by', promoters.join(', ') || 'nobody'],
    ...(others.length ? ([['Also involved', others.join(', ')]] as [string, string][]) : []),
    ['Draft requested by', input.requestedBy],
  ];
}

/** Consecutive ids as ranges: `3–9, 12`. */
function idRanges(ids: readonly number[]): string {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j > i ? `${sorted[i]}–${sorted[j]}` : String(sorted[i]));
    i = j;
  }
  return parts.join(', ');
}

function impactLines(input: PostmortemInput): string[] {
  const { window, impact } = input;
  const who = window.variant === 'canary' ? 'the canary' : 'the stable (running the new version)';
  const lines = [`Window: ${utc(window.start)} → ${utc(window.end)} (${span(window.end.getTime() - window.start.getTime())}), from ${window.from} to ${window.to}.`, ''];
  if (impact.ok) {
    lines.push(
      `- Requests served by ${who}: **${Math.round(impact.requests)}**`,
      `- Failed requests (5xx): **${Math.round(impact.failed)}** (${pct(impact.failed, impact.requests)} of them)`,
    );
  } else {
    lines.push(`- Requests and failures: unknown, Prometheus could not be asked (${impact.why}). Read them from your dashboards for the window above.`);
  }
  const latency = latencyChange(input.audit);
  lines.push(`- Latency: ${latency ?? 'no latency metric was judged at the decision'}`);
  if (impact.ok) lines.push('', 'From Prometheus, evaluated at the end of the window:', '', ...impact.queries.map((q) => `    ${q}`));
  return lines;
}

/** The post-mortem draft of a rollback, in Markdown. */
export function postmortemMarkdown(input: PostmortemInput): string {
  const { op, window } = input;
  const rb = op.rollback;
  if (!rb) throw new Error(`operation ${op.id} is not a rollback: it has no post-mortem`);
  const level = severity(rb.failing, input.critical);
  const events = timeline(input);
  const where = `${op.service} in ${op.environment}`;
  const versions = `${op.to && rb.trigger !== 'manual' ? `${op.from.version} → ${op.to.version}` : op.from.version}`;
  const title = `${isAutomated(rb.trigger) ? 'Automated rollback' : 'Rollback'} of ${where}${rb.trigger === 'manual' ? ` to ${op.to?.version ?? 'an earlier revision'}` : ` (${versions})`}`;
  const header: [string, string][] = [
    ['Incident', `#${op.id} (operation ${op.id})`],
    ['Severity', `${level.level}: ${level.why}`],
    ['Status', 'draft'],
    ['Service', op.service],
    ['Environment', op.environment],
    ['Impact start', utc(window.start)],
    ['Impact end', utc(window.end)],
    ['Impact duration', span(window.end.getTime() - window.start.getTime())],
    ...people(input),
    ['Release thread', input.links.releaseThread ?? 'none'],
    ['Incident post', input.links.incidentPost ?? 'not posted'],
    ['Audit rows', input.audit.length ? `${idRanges(input.audit.map((r) => r.id))} (\`lifeguard audit export\`)` : 'none'],
  ];
  const reached = rb.trigger === 'manual' ? `the canary had ${rb.weightReached} % of traffic when it was decided` : `it had reached ${rb.stepReached > 0 && op.steps.length ? `step ${rb.stepReached} of ${op.steps.length}, ` : ''}${rb.weightReached} % of traffic`;
  const detected = rb.failing.length ? `${TRIGGER[rb.trigger]}: ${rb.failing.map((f) => `${f.metric} (${f.reason})`).join('; ')}` : `${TRIGGER[rb.trigger]}${rb.trigger === 'manual' ? ` by ${rb.by}: ${rb.why}` : `: ${rb.why}`}`;
  const evidence = input.evidence?.length ? input.evidence.map((line) => `- ${line}`) : [`No evidence was kept for this operation (\`lifeguard evidence ${op.id}\` shows what was, when it was).`];
  const fill = '_To fill in._';
  return [
    `# Post-mortem (draft): ${title}`,
    '',
    '| | |',
    '| --- | --- |',
    ...header.map(([k, v]) => `| ${k} | ${cell(v)} |`),
    '',
    '## Summary',
    '',
    `- **What**: ${isAutomated(rb.trigger) ? 'Lifeguard rolled back' : `${rb.by} rolled back`} ${op.service} ${versions}; ${reached}. Outcome: ${OUTCOME[op.state] ?? op.state}.`,
    `- **Where**: ${op.service}, environment ${op.environment}.`,
    `- **When**: decided at ${utc(rb.decidedAt)}${op.finishedAt ? `, over at ${utc(op.finishedAt)}` : ''}.`,
    `- **Detected how**: ${detected}.`,
    '',
    '## Timeline (UTC)',
    '',
    '| Time | Event | Audit row |',
    '| --- | --- | --- |',
    ...events.map((e) => `| ${utc(e.at)} | ${cell(e.what)} | ${e.id ?? '—'} |`),
    '',
    '## Impact',
    '',
    ...impactLines(input),
    '',
    '## Evidence',
    '',
    ...evidence,
    '',
    '## Contributing factors',
    '',
    fill,
    '',
    '## What went well',
    '',
    fill,
    '',
    '## What went wrong',
    '',
    fill,
    '',
    '## Action items',
    '',
    '| Action | Owner | Due |',
    '| --- | --- | --- |',
    '| _To fill in._ | | |',
    '',
    '## Lessons',
    '',
    fill,
    '',
    `_Drafted by Lifeguard at ${utc(input.now)} from the audit log and Prometheus; \`lifeguard postmortem ${op.id}\` prints it again._`,
    '',
  ].join('\n');
}

/** The filename of an operation's draft in Slack. */
export const postmortemFilename = (op: Pick<Operation, 'id' | 'service' | 'environment'>): string => `postmortem-${op.id}-${op.service}-${op.environment}.md`.replace(/[^A-Za-z0-9._-]/g, '_');
