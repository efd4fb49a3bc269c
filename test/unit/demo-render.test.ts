import { describe, expect, it } from 'vitest';
import { releaseCard } from '../../src/adapters/slack/blocks/release-card.js';
import { errorReply } from '../../src/adapters/slack/blocks/replies.js';
import { plainText, renderSent } from '../support/demo/render.js';

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
});
