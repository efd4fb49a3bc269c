import { describe, expect, it } from 'vitest';
import { FailureStreaks } from '../../src/domain/failure-streaks.js';

const at = (s: number) => new Date(Date.UTC(2026, 11, 2, 3, 0, s));

describe('failure streaks', () => {
  it('a failure repeated is news when it starts, and its end says since when and how often', () => {
    const streaks = new FailureStreaks();
    expect([streaks.fail('production/a', at(0), 'not found'), streaks.fail('production/a', at(30), 'not found'), streaks.fail('production/a', at(60), 'timeout')]).toEqual([true, false, false]);
    expect(streaks.succeed('production/a')).toEqual({ since: at(0), failures: 3, error: 'timeout' });
    expect(streaks.succeed('production/a')).toBeUndefined();
    expect(streaks.fail('production/a', at(90), 'not found')).toBe(true);
  });

  it('counts the streaks running under a prefix', () => {
    const streaks = new FailureStreaks();
    for (const key of ['production/a', 'production/b', 'staging/a']) streaks.fail(key, at(0), 'x');
    expect([streaks.count('production/'), streaks.count('staging/'), streaks.count()]).toEqual([2, 1, 3]);
  });
});
