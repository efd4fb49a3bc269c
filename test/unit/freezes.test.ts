import { describe, expect, it } from 'vitest';
import { freezeGate, freezesInForce, scheduledWindow, type AdHocFreeze, type FreezeInForce } from '../../src/domain/freezes.js';

/* Freeze windows from cron (in UTC) and durations, ad-hoc freezes, and what a freeze lets through. */

const H = 3_600_000;
const weekend = { cron: '0 18 * * 5', duration: 60 * H, reason: 'weekend freeze' };
const nightly = { cron: '0 22 * * *', duration: 4 * H, reason: 'nightly batch' };

describe('scheduled freeze windows', () => {
  it('the weekend window runs from Friday 18:00 UTC to Monday 06:00 UTC, start included and end excluded', () => {
    expect(scheduledWindow(weekend, new Date('2026-12-04T17:59:59Z'))).toBeUndefined();
    expect(scheduledWindow(weekend, new Date('2026-12-04T18:00:00Z'))).toEqual({ start: new Date('2026-12-04T18:00:00Z'), end: new Date('2026-12-07T06:00:00Z') });
    expect(scheduledWindow(weekend, new Date('2026-12-06T12:00:00Z'))?.end).toEqual(new Date('2026-12-07T06:00:00Z'));
    expect(scheduledWindow(weekend, new Date('2026-12-07T05:59:59.999Z'))).toBeDefined();
    expect(scheduledWindow(weekend, new Date('2026-12-07T06:00:00Z'))).toBeUndefined();
  });

  it('a window spanning midnight is found from either side of it, and across a month and a year', () => {
    expect(scheduledWindow(nightly, new Date('2026-12-02T23:30:00Z'))).toEqual({ start: new Date('2026-12-02T22:00:00Z'), end: new Date('2026-12-03T02:00:00Z') });
    expect(scheduledWindow(nightly, new Date('2026-12-03T01:59:00Z'))?.start).toEqual(new Date('2026-12-02T22:00:00Z'));
    expect(scheduledWindow(nightly, new Date('2027-01-01T01:00:00Z'))).toEqual({ start: new Date('2026-12-31T22:00:00Z'), end: new Date('2027-01-01T02:00:00Z') });
    expect(scheduledWindow(nightly, new Date('2026-12-03T02:00:00Z'))).toBeUndefined();
  });

  it('windows that start before the last one ends are one freeze, ending with the last', () => {
    const overlapping = { cron: '0 * * * *', duration: 2 * H, reason: 'hourly' };
    // Every window is followed by another before it ends: the chain is followed as far as the bound allows.
    expect(scheduledWindow(overlapping, new Date('2026-12-02T10:30:00Z'))!.end.getTime()).toBeGreaterThan(new Date('2026-12-30T00:00:00Z').getTime());
    const weekdays = { cron: '0 0 * * 1-5', duration: 24 * H, reason: 'weekdays' };
    expect(scheduledWindow(weekdays, new Date('2026-12-01T12:00:00Z'))).toEqual({ start: new Date('2026-12-01T00:00:00Z'), end: new Date('2026-12-05T00:00:00Z') });
  });

  it('cron is read in UTC whatever the time zone of the process', () => {
    const tz = process.env.TZ;
    process.env.TZ = 'America/New_York';
    try {
      expect(scheduledWindow(weekend, new Date('2026-12-04T18:30:00Z'))?.start).toEqual(new Date('2026-12-04T18:00:00Z'));
    } finally {
      process.env.TZ = tz;
    }
  });
});

describe('freezes in force', () => {
  const adHoc = (over: Partial<AdHocFreeze>): AdHocFreeze => ({
    id: 1, environment: 'production', reason: 'sale', by: 'U01ALICE', startedAt: new Date('2026-12-02T10:00:00Z'), endsAt: new Date('2026-12-02T12:00:00Z'), endedAt: null, endedBy: null, ...over,
  });

  it('lists scheduled windows and ad-hoc freezes of the environment that have started and not ended', () => {
    const at = new Date('2026-12-04T19:00:00Z');
    const open = adHoc({ startedAt: new Date('2026-12-04T18:30:00Z'), endsAt: null });
    expect(freezesInForce('production', [weekend, nightly], [open, adHoc({ id: 2 }), adHoc({ id: 3, environment: 'staging', endsAt: null }), adHoc({ id: 4, endsAt: null, endedAt: at })], at)).toEqual([
      { environment: 'production', reason: 'weekend freeze', start: new Date('2026-12-04T18:00:00Z'), end: new Date('2026-12-07T06:00:00Z'), source: { kind: 'schedule', cron: '0 18 * * 5' } },
      { environment: 'production', reason: 'sale', start: open.startedAt, end: null, source: { kind: 'ad-hoc', id: 1, by: 'U01ALICE' } },
    ]);
    expect(freezesInForce('production', [weekend], [adHoc({})], new Date('2026-12-02T12:00:00Z'))).toEqual([]);
  });
});

describe('the freeze gate', () => {
  const freeze = (end: Date | null): FreezeInForce => ({ environment: 'production', reason: 'r', start: new Date(0), end, source: { kind: 'ad-hoc', id: 1, by: 'U1' } });
  const inForce = [freeze(new Date('2026-12-07T06:00:00Z')), freeze(null)];

  it.each([
    ['release', undefined, false],
    ['hotfix', 'critical', true],
    ['hotfix', 'high', true],
    ['hotfix', 'medium', false],
    ['hotfix', 'low', false],
    ['rollback', undefined, true],
  ] as const)('%s %s during a freeze: allowed %s', (kind, urgency, allowed) => {
    const gate = freezeGate(kind, urgency, inForce);
    expect(gate.ok).toBe(allowed);
    // The freeze named is the longest: an open-ended one.
    if (!gate.ok) expect(gate.freeze.end).toBeNull();
    if (gate.ok && kind === 'hotfix') expect(gate.duringFreeze).toEqual({ reason: 'r', endsAt: null });
    if (kind === 'rollback') expect(gate).toEqual({ ok: true });
  });

  it('lets everything through unmarked when nothing is in force', () => {
    expect(freezeGate('release', undefined, [])).toEqual({ ok: true });
    expect(freezeGate('hotfix', 'critical', [])).toEqual({ ok: true });
  });
});
