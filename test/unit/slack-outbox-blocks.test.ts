import { describe, expect, it } from 'vitest';
import { incidentPost } from '../../src/adapters/slack/blocks/incident.js';
import { notePost } from '../../src/adapters/slack/blocks/note.js';
import { requestCard } from '../../src/adapters/slack/blocks/request-card.js';
import type { SlackMessage } from '../../src/adapters/slack/blocks/fit.js';
import type { ApprovalRecord } from '../../src/domain/approval.js';
import type { Incident, OperationView } from '../../src/domain/chat-messages.js';
import type { Verdict } from '../../src/domain/verdict.js';
import { blockProblem } from '../support/slack-standin/limits.js';

const HOSTILE = '<!channel> <https://evil.example|click> & <@U0EVIL|x> *bold*';

function acceptedBySlack(message: SlackMessage): void {
  expect(blockProblem(message.blocks)).toBeUndefined();
  expect(message.text.length).toBeLessThanOrEqual(3000);
}

/** Everything a reader sees: the blocks' texts and the notification text. */
const shown = (message: SlackMessage) => JSON.stringify(message);

/** The texts Slack parses for markup: mrkdwn texts and the notification text (plain_text never is). */
function mrkdwn(message: SlackMessage): string {
  const texts: string[] = [message.text];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    const object = node as Record<string, unknown>;
    if (object.type === 'mrkdwn' && typeof object.text === 'string') texts.push(object.text);
    Object.values(object).forEach(walk);
  };
  walk(message.blocks);
  return texts.join('\n');
}

/** No markup a person typed survives: no special mention, link or user mention they wrote. */
function inert(message: SlackMessage): void {
  const text = mrkdwn(message);
  expect(text).not.toContain('<!channel>');
  expect(text).not.toContain('<https://evil.example');
  expect(text).not.toContain('<@U0EVIL|x>');
  expect(text).toContain('&lt;!channel&gt;');
}

const incident: Incident = {
  operationId: 31,
  service: 'checkout',
  environment: 'production',
  fromVersion: '1.4.2',
  toVersion: '1.5.0-bad',
  trigger: 'verdict',
  stepReached: 2,
  stepsTotal: 4,
  weightReached: 25,
  requestedBy: 'U09BOB',
  approvedBy: ['U01ALICE'],
  promotedBy: [],
  failing: [
    {
      metric: 'error-rate',
      classification: 'high',
      canary: 0.0812,
      baseline: 0.0041,
      thresholds: ['≤ 1.5× baseline', '≤ 0.03'],
      breachingForMs: 125_000,
      reason: 'canary 0.0812 is 19.8× the baseline 0.0041 (max 1.5×) for 2m 5s',
    },
  ],
  timings: {
    breachStartedAt: '2026-11-22T10:00:00.000Z',
    decidedAt: '2026-11-22T10:02:05.000Z',
    drainedAt: '2026-11-22T10:02:05.180Z',
    rolledBackAt: '2026-11-22T10:02:17.000Z',
    verifiedAt: '2026-11-22T10:03:17.000Z',
  },
  thread: { channel: 'C0CHECKOUT', ts: '1763800000.000100' },
  outcome: 'rolled-back',
  nextSteps: ['Look at the canary logs in the thread', 'Open a post-mortem: `/rollback postmortem 31`'],
};

describe('the incident post', () => {
  it('names the service, versions, step, people, failing metric with its values, thresholds and breach, the timeline and the thread', () => {
    const post = incidentPost(incident);
    acceptedBySlack(post);
    const text = shown(post);
    for (const expected of [
      'Automated rollback: checkout in production',
      '`1.4.2` → `1.5.0-bad`',
      'step 2 of 4, 25% of traffic on the new version',
      '<@U09BOB>',
      '<@U01ALICE>',
      '_nobody_',
      ':white_check_mark: Rolled back',
    ]) {
      expect(text).toContain(expected);
    }
    const table = post.blocks.find((b) => b.block_id === 'failing');
    expect(JSON.stringify(table)).toMatch(/error-rate\s+0\.0812\s+0\.0041\s+≤ 1\.5× baseline, ≤ 0\.03\s+2 min 05 s\s+high/);
    expect(text).toContain('*error-rate*: canary 0.0812 is 19.8× the baseline 0.0041 (max 1.5×) for 2m 5s');
    const timeline = JSON.stringify(post.blocks.find((b) => b.block_id === 'timeline'));
    expect(timeline).toContain('*Breach started* <!date^1795341600^{date_short} {time_secs}|2026-11-22 10:00:00 UTC>');
    expect(timeline).toContain('*Rollback decided* <!date^1795341725^{date_short} {time_secs}|2026-11-22 10:02:05 UTC> (+2 min 05 s)');
    expect(timeline).toContain('*Traffic drained* <!date^1795341725^{date_short} {time_secs}|2026-11-22 10:02:05 UTC> (+180 ms)');
    expect(timeline).toContain('*Rolled back* <!date^1795341737^{date_short} {time_secs}|2026-11-22 10:02:17 UTC> (+11.8 s)');
    expect(timeline).toContain('*Verified healthy* <!date^1795341797^{date_short} {time_secs}|2026-11-22 10:03:17 UTC> (+1 min 00 s)');
    expect(text).toContain('<https://slack.com/archives/C0CHECKOUT/p1763800000000100|release thread>');
    expect(text).toContain('1. Look at the canary logs in the thread');
    expect(text).toContain('2. Open a post-mortem: `/rollback postmortem 31`');
    expect(text).toContain('Operation #31 · evidence: `lifeguard evidence 31`');
    expect(post.text).toBe('Automated rollback: checkout in production: Rolled back (error-rate 0.0812 vs baseline 0.0041)');
  });

  it('carries a Freeze button for the environment, its value the operation ("stop the line")', () => {
    const actions = incidentPost(incident).blocks.find((b) => b.block_id === 'incident_actions');
    expect(actions).toMatchObject({ type: 'actions', elements: [{ type: 'button', action_id: 'incident.freeze', text: { text: 'Freeze production' }, value: String(incident.operationId) }] });
  });

  it('an escalation pages the on-call: users by mention, a user group by its id (which alone notifies it)', () => {
    const escalated = { ...incident, outcome: 'escalated' as const, why: 'rollback stuck: the cluster failed every attempt for 2 min', page: ['@oncall', 'U01ALICE'] };
    const section = (post: ReturnType<typeof incidentPost>) => JSON.stringify(post.blocks.find((b) => b.block_id === 'escalation'));
    expect(section(incidentPost(escalated, new Map([['oncall', 'S02OC']])))).toContain(':sos: <!subteam^S02OC|@oncall> <@U01ALICE>: rollback stuck: the cluster failed every attempt for 2 min');
    // A group Slack could not be asked about is still named, without a notification.
    expect(section(incidentPost(escalated))).toContain(':sos: @oncall <@U01ALICE>: rollback stuck');
    expect(incidentPost(incident).blocks.some((b) => b.block_id === 'escalation')).toBe(false);
  });

  it('while the rollback is under way, says which steps are still to come; a failed verification says so', () => {
    const early = incidentPost({ ...incident, outcome: 'rolling-back', timings: { decidedAt: incident.timings.decidedAt, drainedAt: incident.timings.drainedAt } });
    const timeline = JSON.stringify(early.blocks.find((b) => b.block_id === 'timeline'));
    expect(timeline).not.toContain('Breach started');
    expect(timeline).toContain(':white_square: *Rolled back* _pending_');
    expect(timeline).toContain(':white_square: *Verified healthy* _pending_');
    const failed = incidentPost({ ...incident, outcome: 'verify-failed', timings: { ...incident.timings, verifiedAt: undefined } });
    expect(shown(failed)).toContain(':x: *Verified healthy* _failed_');
    expect(shown(failed)).toContain('did not verify healthy');
  });

  it('shows what people typed as text: no link, mention or channel ping comes through', () => {
    const post = incidentPost({
      ...incident,
      service: HOSTILE,
      fromVersion: HOSTILE,
      failing: [{ ...incident.failing[0]!, metric: HOSTILE, reason: HOSTILE, thresholds: [HOSTILE] }],
      nextSteps: [HOSTILE],
      thread: { channel: '<!channel>', ts: 'x|y>' },
    });
    acceptedBySlack(post);
    inert(post);
    expect(shown(post)).toContain('release thread in &lt;!channel&gt;');
  });

  it('fits Slack with hundreds of failing metrics and very long texts', () => {
    const post = incidentPost({
      ...incident,
      failing: Array.from({ length: 300 }, (_, i) => ({ ...incident.failing[0]!, metric: `metric-${i}-${'x'.repeat(40)}`, reason: 'y'.repeat(500) })),
      nextSteps: Array.from({ length: 40 }, () => 'z'.repeat(400)),
    });
    acceptedBySlack(post);
    expect(shown(post)).toContain('not shown');
    expect(post.blocks.find((b) => b.block_id === 'timeline')).toBeDefined();
  });
});

const verdict: Verdict = {
  service: 'checkout',
  environment: 'production',
  evaluatedAt: '2026-11-22T10:02:05Z',
  verdict: 'fail',
  reasons: ['error-rate: canary 0.0812 vs baseline 0.0041'],
  score: null,
  scoreThresholds: { pass: 90, marginal: 75 },
  trafficShare: 25,
  metrics: [
    {
      metric: 'error-rate',
      kind: 'prometheus',
      critical: true,
      weight: 1,
      classification: 'high',
      reason: 'canary 19.8× baseline',
      canary: 0.0812,
      baseline: 0.0041,
      ratio: 19.8,
      trafficShare: null,
      rules: [{ rule: 'maxRatioToBaseline', threshold: 1.5, outcome: 'breach', breachingForMs: 125_000, forMs: 300_000, detail: '' }],
      comparison: null,
      queries: [],
      range: null,
      warnings: [],
    },
  ],
};

describe('a note in the release thread', () => {
  it('shows its headline, lines and the verdict table behind it', () => {
    const post = notePost({ headline: 'Rolling back: the canary failed analysis', lines: ['Traffic drained to stable by <@U0LIFEGUARD>'], tone: 'bad', verdict });
    acceptedBySlack(post);
    const text = shown(post);
    expect(text).toContain(':x: *Rolling back: the canary failed analysis*');
    expect(text).toContain('Traffic drained to stable by <@U0LIFEGUARD>');
    expect(text).toContain('Analysis at 25%: fail');
    expect(text).toMatch(/error-rate\s+0\.0812\s+0\.0041\s+≤ 1\.5× baseline for 5m\s+high/);
  });

  it('keeps typed markup inert and fits however long it is', () => {
    const post = notePost({ headline: HOSTILE, lines: [HOSTILE, ...Array.from({ length: 200 }, () => 'w'.repeat(300))], tone: 'warning' });
    acceptedBySlack(post);
    inert(post);
  });
});

const record: ApprovalRecord = {
  id: 7,
  kind: 'release',
  service: 'checkout',
  environment: 'production',
  requester: 'U09BOB',
  requirement: { mode: 'any', roles: ['release-manager'], count: 1 },
  plan: { kind: 'release', service: 'checkout', environment: 'production', version: '1.5.0', strategy: 'canary', running: null, steps: [5, 25, 50, 100], pauseForApprovalAt: [50] },
  state: 'granted',
  createdAt: new Date('2026-11-22T09:00:00Z'),
  expiresAt: new Date('2026-11-22T13:00:00Z'),
  votes: [{ user: 'U01ALICE', decision: 'approve', role: 'release-manager', at: new Date('2026-11-22T09:05:00Z') }],
  channel: 'C0CHECKOUT',
  messageTs: '1763800000.000100',
};

const operation: OperationView = {
  id: 12,
  kind: 'release',
  state: 'running',
  headline: 'Step 3 of 4: 50% of traffic on the canary',
  steps: [
    { weight: 5, state: 'done' },
    { weight: 25, state: 'skipped' },
    { weight: 50, state: 'current', pause: true },
    { weight: 100, state: 'pending' },
  ],
  weight: 50,
  controls: ['pause', 'abort'],
  lastVerdict: { verdict: 'pass', at: '2026-11-22T10:00:00Z', reasons: ['score 100', 'a', 'b', 'c', 'd'] },
  promotedBy: [{ user: 'U05FRANK', weight: 25 }],
};

const actionIds = (message: SlackMessage) => message.blocks.flatMap((b) => (b.type === 'actions' ? b.elements.map((e) => [(e as { action_id?: string }).action_id, (e as { value?: string }).value]) : []));

describe("a request's card once its operation runs", () => {
  it('shows state, steps done, current, skipped and to come, the weight, the last verdict, who promoted, and its controls', () => {
    const card = requestCard(record, true, operation);
    acceptedBySlack(card);
    const text = shown(card);
    expect(text).toContain(':arrow_forward: Running at 50%');
    expect(text).toContain(':white_check_mark: 5%  →  :heavy_minus_sign: ~25%~  →  :arrow_forward: 50% _(pause for Promote)_  →  :white_square: 100%');
    expect(text).toContain('Canary traffic now: *50%*');
    expect(text).toContain(':large_green_circle: Last analysis: *pass*');
    expect(text).toContain('• _and 2 more in the thread_');
    expect(text).toContain(':fast_forward: Promoted past 25% by <@U05FRANK>');
    expect(text).toContain('Approved by <@U01ALICE>');
    expect(text).toContain('Request #7 · Operation #12');
    expect(actionIds(card)).toEqual([
      ['release.pause', '12'],
      ['release.abort', '12'],
    ]);
  });

  it('a paused operation offers Resume and Promote and says why; an ended one has no buttons', () => {
    const paused = requestCard(record, true, { ...operation, state: 'paused', controls: ['promote', 'resume', 'abort'], why: `Paused after 3 inconclusive verdicts: ${HOSTILE}` });
    expect(actionIds(paused).map(([id]) => id)).toEqual(['release.promote', 'release.resume', 'release.abort']);
    expect(shown(paused)).toContain('_Paused after 3 inconclusive verdicts: &lt;!channel&gt;');
    inert(paused);
    const ended = requestCard(record, true, { ...operation, state: 'rolled-back', controls: [], why: 'error-rate failed' });
    expect(ended.blocks.some((b) => b.type === 'actions')).toBe(false);
    expect(shown(ended)).toContain(':leftwards_arrow_with_hook: Rolled back');
  });

  it('a pending request that already runs shows no approval buttons, and a rollback card shows its operation too', () => {
    expect(actionIds(requestCard({ ...record, state: 'pending' }, true, operation)).map(([id]) => id)).not.toContain('approval.approve');
    const rollback: ApprovalRecord = {
      ...record,
      kind: 'rollback',
      plan: { kind: 'rollback', service: 'checkout', environment: 'production', running: null, reason: 'errors', target: null, canaryWeightNow: 25 },
    };
    const card = requestCard(rollback, true, { ...operation, kind: 'rollback', state: 'rolling-back', headline: 'Draining the canary', steps: [], weight: 0, controls: [] });
    acceptedBySlack(card);
    expect(shown(card)).toContain(':rewind: Rolling back');
    expect(shown(card)).toContain('Draining the canary');
    expect(shown(card)).not.toContain('*Steps*');
  });
});
