import { describe, expect, it } from 'vitest';
import { releaseCard } from '../../src/adapters/slack/blocks/release-card.js';
import { rollbackPlan } from '../../src/adapters/slack/blocks/rollback-plan.js';
import { verdictPost, type MetricRow } from '../../src/adapters/slack/blocks/verdict.js';
import { errorReply, helpReply, resultPost, stepPost, usageError } from '../../src/adapters/slack/blocks/replies.js';
import { requestCard } from '../../src/adapters/slack/blocks/request-card.js';
import { fitMessage, type SlackMessage } from '../../src/adapters/slack/blocks/fit.js';
import type { ApprovalView } from '../../src/adapters/slack/blocks/approvals.js';
import type { ApprovalRecord } from '../../src/domain/approval.js';
import { blockProblem } from '../support/slack-standin/limits.js';
import { RELEASE_USAGE } from '../../commands/index.js';

const at = new Date('2026-11-22T10:00:00Z');
const pending: ApprovalView = {
  requestId: 7,
  requirement: { mode: 'any', roles: ['release-manager'], count: 1 },
  votes: [],
  state: 'pending',
  expiresAt: new Date('2026-11-22T14:00:00Z'),
};

function acceptedBySlack(message: SlackMessage): void {
  expect(blockProblem(message.blocks)).toBeUndefined();
  expect(message.text.length).toBeLessThanOrEqual(3000);
}

const rows = (n: number, why = 'within bounds'): MetricRow[] =>
  Array.from({ length: n }, (_, i) => ({
    name: `metric-${i}`,
    canary: 0.012 + i / 1000,
    baseline: 0.01,
    threshold: '≤ 1.5× baseline, ≤ 0.03',
    classification: i % 7 === 3 ? 'high' : 'pass',
    why,
  }));

describe('Block Kit builders', () => {
  it('release card awaiting approval', () => {
    const card = releaseCard({
      title: 'Release checkout 1.5.0 → production',
      service: 'checkout',
      environment: 'production',
      fromVersion: '1.4.2',
      toVersion: '1.5.0',
      strategy: 'canary',
      requester: 'U09BOB',
      steps: [
        { weight: 5, state: 'done' },
        { weight: 25, state: 'current' },
        { weight: 50, state: 'pending', pause: true },
        { weight: 100, state: 'pending' },
      ],
      approval: pending,
      executionAvailable: false,
    });
    acceptedBySlack(card);
    expect(card).toMatchSnapshot();
  });

  it('release card once approved says plainly that nothing was executed', () => {
    const card = releaseCard({
      title: 'Release checkout 1.5.0 → production',
      service: 'checkout',
      environment: 'production',
      fromVersion: undefined,
      toVersion: '1.5.0',
      strategy: 'canary',
      requester: 'U09BOB',
      steps: [{ weight: 100, state: 'pending' }],
      approval: { ...pending, state: 'granted', votes: [{ user: 'U01ALICE', decision: 'approve', role: 'release-manager', at }] },
      executionAvailable: false,
    });
    expect(card.blocks.some((b) => b.type === 'actions')).toBe(false);
    expect(JSON.stringify(card)).toContain('Lifeguard cannot carry this out yet in this version: nothing was changed in the cluster.');
    expect(card).toMatchSnapshot();
  });

  it('running release card carries Promote and Abort', () => {
    const card = releaseCard({
      title: 'Release checkout 1.5.0 → production',
      service: 'checkout',
      environment: 'production',
      fromVersion: '1.4.2',
      toVersion: '1.5.0',
      strategy: 'canary',
      requester: 'U09BOB',
      steps: [{ weight: 50, state: 'pending', pause: true }],
      executionAvailable: true,
      operation: {
        id: 42,
        kind: 'release',
        state: 'paused',
        headline: 'Step 1 of 1: waiting for Promote at 50%',
        steps: [{ weight: 50, state: 'current', pause: true }],
        weight: 50,
        controls: ['promote', 'abort'],
      },
    });
    acceptedBySlack(card);
    expect(card).toMatchSnapshot();
  });

  it('rollback plan', () => {
    const plan = rollbackPlan({
      service: 'checkout',
      environment: 'production',
      now: { revision: 42, image: 'registry.local/checkout:1.5.0' },
      after: { revision: 41, image: 'registry.local/checkout:1.4.2' },
      canaryWeightNow: 25,
      reason: 'error rate <3% & rising',
      requester: 'U09BOB',
      approval: { ...pending, requirement: { mode: 'any', roles: ['release-manager', 'on-call'], count: 1 } },
      executionAvailable: false,
    });
    acceptedBySlack(plan);
    expect(plan).toMatchSnapshot();
  });

  it('verdict post, result post, errors and help', () => {
    const verdict = verdictPost({ service: 'checkout', environment: 'production', weight: 25, verdict: 'fail', score: 42.4, metrics: rows(4, 'canary 1.6× baseline for 5m') });
    acceptedBySlack(verdict);
    expect(verdict).toMatchSnapshot();
    expect(resultPost({ title: 'Rollback checkout in production', outcome: 'succeeded', lines: ['revision 42 → 41 in 48 s'] })).toMatchSnapshot();
    expect(errorReply('Could not read checkout in production', 'the cluster did not answer in 30 s', 'Try again, or use lifeguard rollback from a terminal.')).toMatchSnapshot();
    expect(usageError('unknown service "chekout": did you mean checkout?', RELEASE_USAGE)).toMatchSnapshot();
    acceptedBySlack(helpReply([RELEASE_USAGE]));
    expect(stepPost({ service: 'checkout', environment: 'production', index: 2, total: 4, weight: 25, detail: 'analysis every 30s for 5m' })).toMatchSnapshot();
  });
});

describe('oversized content', () => {
  it('a verdict with hundreds of metrics is cut with a note, never refused by Slack', () => {
    const verdict = verdictPost({ service: 'checkout', environment: 'production', weight: 5, verdict: 'fail', metrics: rows(400, 'x'.repeat(120)) });
    acceptedBySlack(verdict);
    expect(JSON.stringify(verdict.blocks)).toMatch(/more blocks? not shown|more characters not shown/);
  });

  it('a huge reason and a long version stay within the section and field limits', () => {
    const plan = rollbackPlan({
      service: 'checkout',
      environment: 'production',
      now: { revision: 42, image: `registry.local/checkout:${'a'.repeat(2500)}` },
      after: undefined,
      requestedRevision: 7,
      canaryWeightNow: undefined,
      reason: 'because '.repeat(2000),
      requester: 'U09BOB',
      approval: pending,
      executionAvailable: false,
    });
    acceptedBySlack(plan);
    expect(JSON.stringify(plan)).toContain('more characters not shown');
    expect(plan.blocks.some((b) => b.type === 'actions')).toBe(true);
  });

  it('a message of more than 50 blocks keeps its buttons and says how many blocks were left out', () => {
    const blocks = Array.from({ length: 80 }, (_, i) => ({ type: 'section' as const, text: { type: 'mrkdwn' as const, text: `line ${i}` } }));
    const fitted = fitMessage({ text: 't', blocks: [...blocks, { type: 'actions', elements: [{ type: 'button', action_id: 'a', text: { type: 'plain_text', text: 'A' } }] }] });
    acceptedBySlack(fitted);
    expect(fitted.blocks).toHaveLength(50);
    expect(fitted.blocks.at(-2)?.type).toBe('actions');
    expect(JSON.stringify(fitted.blocks.at(-1))).toContain('32 more blocks not shown');
  });
});

describe('request cards', () => {
  it('a hotfix card shows urgency, reason and the rollout its urgency implies', () => {
    const record: ApprovalRecord = {
      id: 9,
      kind: 'hotfix',
      service: 'checkout',
      environment: 'production',
      requester: 'U09BOB',
      requirement: { mode: 'each', roles: ['team-lead', 'platform-owner'] },
      state: 'pending',
      createdAt: at,
      expiresAt: new Date('2026-11-22T14:00:00Z'),
      votes: [{ user: 'U02CAROL', decision: 'approve', role: 'team-lead', at }],
      plan: {
        kind: 'hotfix',
        service: 'checkout',
        environment: 'production',
        version: '1.4.3',
        urgency: 'high',
        reason: 'card payments failing',
        running: { version: '1.4.2', image: 'registry.local/checkout:1.4.2', revision: 41 },
        path: 'fast-canary',
        steps: [5, 100],
        pauseForApprovalAt: [],
      },
    };
    const card = requestCard(record, false);
    acceptedBySlack(card);
    expect(card).toMatchSnapshot();
  });
});
