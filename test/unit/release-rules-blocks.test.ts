import { describe, expect, it } from 'vitest';
import { refusalText, ruleNotes, rulesStatusLines } from '../../src/adapters/slack/blocks/release-rules.js';
import type { FreezeInForce } from '../../src/domain/freezes.js';
import type { VersionHold } from '../../src/domain/holds.js';
import type { Plan } from '../../src/domain/plans.js';

/* What people read about freezes and holds: refusals, card marks and status lines, with typed text kept inert. */

const HOSTILE = '<!channel> <https://evil.example|x>';
const freeze: FreezeInForce = { environment: 'production', reason: HOSTILE, start: new Date('2026-12-04T18:00:00Z'), end: new Date('2026-12-07T06:00:00Z'), source: { kind: 'schedule', cron: '0 18 * * 5' } };
const hold: VersionHold = { service: 'checkout', environment: 'production', version: '1.5.0-bad', operationId: 7, reason: HOSTILE, createdAt: new Date(), liftedAt: null, liftedBy: null };
const release = { kind: 'release', service: 'checkout', environment: 'production', version: '1.5.0-bad' };

describe('release rule texts', () => {
  it('a freeze refusal names the reason and the end in UTC, escaped', () => {
    const text = refusalText(release, { kind: 'freeze', freeze });
    expect(text).toContain('production is frozen, “&lt;!channel&gt; &lt;https://evil.example|x&gt;”, scheduled `0 18 * * 5` (UTC), until 2026-12-07 06:00 UTC');
    expect(text).not.toContain('<!channel>');
    expect(refusalText(release, { kind: 'freeze', freeze: { ...freeze, end: null, source: { kind: 'ad-hoc', id: 1, by: 'U01ALICE' } } })).toContain('started by <@U01ALICE>, until a release manager ends it (`/release unfreeze production`)');
  });

  it('a hold refusal names the rollback, its reason, and links its incident post (else its card)', () => {
    const text = refusalText(release, { kind: 'hold', hold, incident: { channel: 'C0INCIDENT', ts: '1764669700.000200' }, card: { channel: 'C0CHECKOUT', ts: '1764669600.000100' } });
    expect(text).toContain('rolled back by operation #7: “&lt;!channel&gt;');
    expect(text).toContain('(<https://slack.com/archives/C0INCIDENT/p1764669700000200|incident post>)');
    expect(text).toContain('`/release unhold checkout 1.5.0-bad env=production`');
    expect(refusalText(release, { kind: 'hold', hold, card: { channel: 'C0CHECKOUT', ts: '1764669600.000100' } })).toContain('|release card>');
    expect(refusalText(release, { kind: 'hold', hold })).not.toContain('https://slack.com');
  });

  it('the card marks a hotfix made during a freeze and a release forced past a hold', () => {
    const plan = { kind: 'hotfix', environment: 'production', duringFreeze: { reason: 'weekend', endsAt: null }, forcedPastHold: { operationId: 7, reason: 'bad', by: 'U05FRANK' } } as unknown as Plan;
    expect(ruleNotes(plan)).toEqual([
      ':snowflake: *Made during a freeze*: “weekend”, until a release manager ends it (`/release unfreeze production`)',
      ':warning: *Forced past the hold* of rollback #7 by <@U05FRANK> (“bad”)',
    ]);
  });

  it('status lists the freezes in force and the held versions of the service asked about', () => {
    expect(rulesStatusLines({ freezes: [], holds: [] })).toEqual(['No freeze in force.']);
    const lines = rulesStatusLines({ freezes: [freeze], holds: [hold, { ...hold, service: 'payments' }] }, 'checkout');
    expect(lines.filter((l) => l.includes('1.5.0-bad'))).toHaveLength(1);
    expect(lines[1]).toContain(':snowflake: *production*');
  });
});
