import { describe, expect, it } from 'vitest';
import { releaseCard } from '../../src/adapters/slack/blocks/release-card.js';
import { errorReply } from '../../src/adapters/slack/blocks/replies.js';
import { changedLines, plainText, renderSent } from '../support/demo/render.js';

const names = { users: { U01ALICE: 'alice' }, channels: { C0CHECKOUT: 'checkout-releases' } };

describe('the demo renders what Lifeguard sent to Slack as terminal text', () => {
  it('resolves mentions, channels, dates, links, emoji and escapes, and drops emphasis marks', () => {
    expect(plainText('*Approved* by <@U01ALICE> <!date^1795377540^{date_short_pretty} {time}|2026-11-22 19:59 UTC> in <#C0CHECKOUT>', names)).toBe(
      'Approved by @alice 2026-11-22 19:59 UTC in #checkout-releases',
    );
    expect(plainText('<#C0OTHER|ops> <@U0NOBODY> <https://example.com/run/1|run 1> :white_check_mark: :tada:', names)).toBe(
      '#ops @U0NOBODY run 1 (https://example.com/run/1) ✅ :tada:',
    );
    expect(plainText('_unknown_ → `1.5.0` &lt;b&gt; &amp;', names)).toBe('unknown → 1.5.0 <b> &');
    expect(plainText('*Usage*\n```/a <x>\n/b```', names)).toBe('Usage\n  /a <x>\n  /b');
  });

  it('leaves marks inside words alone, as Slack does, and shows struck-out steps and the engine\'s emoji', () => {
    expect(plainText('_paused: /api/v1/query_range refused; see /api/v1/query_range_', names)).toBe('paused: /api/v1/query_range refused; see /api/v1/query_range');
    expect(plainText(':white_check_mark: 5%  →  :heavy_minus_sign: ~25%~  →  :arrow_forward: 50% _(pause for Promote)_', names)).toBe('✅ 5%  →  ➖ 25%  →  ▶ 50% (pause for Promote)');
    expect(plainText(':rotating_light: :double_vertical_bar: :rewind: :large_green_circle: :red_circle:', names)).toBe('🚨 ⏸ ⏪ 🟢 🔴');
  });

  it('shows a card as header, "Label: value" fields, sections, buttons and context, under where it went', () => {
    const card = releaseCard({
      title: 'Release checkout 1.5.0 → production',
      service: 'checkout',
      environment: 'production',
      fromVersion: '1.4.2',
      toVersion: '1.5.0',
      strategy: 'canary',
      requester: 'U01ALICE',
      steps: [
        { weight: 50, state: 'pending' },
        { weight: 100, state: 'pending' },
      ],
      executionAvailable: false,
    });
    expect(renderSent({ method: 'chat.postMessage', args: { channel: '#checkout-releases', ...card }, ts: '1.2' }, names)).toEqual([
      'Lifeguard posted message 1.2 in #checkout-releases:',
      '  │ ■ Release checkout 1.5.0 → production',
      '  │ Service: checkout',
      '  │ Environment: production',
      '  │ Version: 1.4.2 → 1.5.0',
      '  │ Strategy: canary',
      '  │ Requested by: @alice',
      '  │ State: Planned',
      '  │ Steps',
      '  │ □ 50%  →  □ 100%',
    ]);
  });

  it('says an ephemeral answer is seen by its user only, and shows the context line of an error', () => {
    const reply = { response_type: 'ephemeral', replace_original: false, ...errorReply('Could not post the card', 'Slack answered not_in_channel.', 'Invite the Lifeguard app.') };
    expect(renderSent({ method: 'response_url', args: reply, to: 'U01ALICE' }, names)).toEqual([
      'Lifeguard showed @alice only:',
      '  │ ❌ Could not post the card',
      '  │ Slack answered not_in_channel.',
      '  │ (Invite the Lifeguard app.)',
    ]);
    expect(renderSent({ method: 'chat.update', args: { channel: 'C0CHECKOUT', ts: '1.2', text: 'done' } }, names)).toEqual(['Lifeguard updated message 1.2 in #checkout-releases:', '  │ done']);
  });

  it('shows a redrawn message by the lines that changed, and nothing when none did', () => {
    const before = { blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*State*: running at 5%\nCanary traffic now: *5%*' } }, { type: 'context', elements: [{ type: 'mrkdwn', text: 'Operation #1' }] }] };
    const after = { blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*State*: running at 25%\nCanary traffic now: *25%*' } }, { type: 'context', elements: [{ type: 'mrkdwn', text: 'Operation #1' }] }] };
    expect(renderSent({ method: 'chat.update', args: { channel: 'C0CHECKOUT', ts: '1.2', ...after } }, names, before)).toEqual([
      'Lifeguard updated message 1.2 in #checkout-releases, changing these lines:',
      '  │ State: running at 25%',
      '  │ Canary traffic now: 25%',
    ]);
    expect(renderSent({ method: 'chat.update', args: { channel: 'C0CHECKOUT', ts: '1.2', ...after } }, names, after)).toEqual([]);
    expect(changedLines(['a', 'b', 'a'], ['a', 'a', 'a', 'c'])).toEqual(['a', 'c']);
  });
});
