import { describe, expect, it } from 'vitest';
import { incidentPost } from '../../src/adapters/slack/blocks/incident.js';
import { ACTIONS } from '../../src/adapters/slack/blocks/approvals.js';
import type { SlackMessage } from '../../src/adapters/slack/blocks/fit.js';
import type { Incident } from '../../src/domain/chat-messages.js';
import { blockProblem } from '../support/slack-standin/limits.js';

/* The incident post's follow-ups: its status, who acknowledged it, where the post-mortem draft is, and its buttons. */

const incident: Incident = {
  operationId: 31,
  service: 'checkout',
  environment: 'production',
  fromVersion: '1.4.2',
  toVersion: '1.4.1',
  trigger: 'manual',
  weightReached: 0,
  requestedBy: 'U09BOB',
  approvedBy: ['U06OSCAR'],
  promotedBy: [],
  failing: [],
  timings: { decidedAt: '2026-11-22T10:02:05.000Z', drainedAt: '2026-11-22T10:02:05.180Z', rolledBackAt: '2026-11-22T10:02:17.000Z', verifiedAt: '2026-11-22T10:03:17.000Z' },
  outcome: 'rolled-back',
  nextSteps: [],
  status: 'mitigated',
  actions: ['acknowledge', 'postmortem'],
};

const buttons = (post: SlackMessage) =>
  post.blocks.flatMap((b) => (b.type === 'actions' ? b.elements.map((e) => [(e as { action_id?: string }).action_id, (e as { value?: string }).value]) : []));
const status = (post: SlackMessage) => JSON.stringify(post.blocks.find((b) => b.block_id === 'status'));

describe('the incident post with follow-ups', () => {
  it('shows the status and offers Acknowledge and Start post-mortem beside Freeze, each for its operation', () => {
    const post = incidentPost(incident);
    expect(blockProblem(post.blocks)).toBeUndefined();
    expect(buttons(post)).toEqual([
      [ACTIONS.freeze, '31'],
      [ACTIONS.acknowledge, '31'],
      [ACTIONS.postmortem, '31'],
    ]);
    expect(status(post)).toContain('Mitigated: rolled back and verified');
    expect(status(post)).toContain('_not yet_');
    expect(status(post)).toContain('none yet: Start post-mortem');
  });

  it('once acknowledged and drafted: resolved, who and when, the draft in the thread, only Freeze left', () => {
    const post = incidentPost({ ...incident, status: 'resolved', acknowledged: { by: 'U06OSCAR', at: '2026-11-22T10:05:00.000Z' }, postmortem: true, actions: [] });
    expect(blockProblem(post.blocks)).toBeUndefined();
    expect(buttons(post)).toEqual([[ACTIONS.freeze, '31']]);
    expect(status(post)).toContain('Resolved');
    expect(status(post)).toContain('<@U06OSCAR> <!date^1795341900^');
    expect(status(post)).toContain('Draft attached in this thread');
  });

  it('keeps its old look for a post written before follow-ups existed (no status)', () => {
    const { status: _status, actions: _actions, ...old } = incident;
    const post = incidentPost(old);
    expect(post.blocks.some((b) => b.block_id === 'status')).toBe(false);
    expect(buttons(post)).toEqual([[ACTIONS.freeze, '31']]);
  });
});
