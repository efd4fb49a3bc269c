import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/adapters/sqlite/store.js';
import { sqliteRepositories } from '../../src/adapters/sqlite/repositories.js';
import { loadConfig } from '../../src/config/load.js';
import { holdFor } from '../../src/domain/holds.js';
import { newOperation } from '../../src/domain/operation.js';
import { ReleaseRules } from '../../src/flows/release-rules.js';
import { manualClock, roleDirectory } from '../support/memory-ports.js';
import { useTempDirs } from '../support/tmp.js';

/* Holds and freezes in a real SQLite file, through the ReleaseRules flow: what is refused, forced, lifted and audited. */

const tempDir = useTempDirs();
const config = loadConfig('lifeguard.example.yaml', {});

function setUp() {
  const clock = manualClock('2026-12-02T10:00:00Z');
  const sqlite = openStore(join(tempDir(), 'lifeguard.db'), { clock });
  const store = sqliteRepositories(sqlite, clock);
  const rules = new ReleaseRules({ config, store, roles: roleDirectory({ U01ALICE: ['release-manager'] }), clock });
  // A release of 1.5.0-bad rolled back by a failing verdict, its hold recorded as the engine records it.
  const released = store.operations.insert(
    newOperation(
      {
        id: 0, requestId: null, kind: 'release', strategy: 'canary', service: 'checkout', environment: 'production',
        from: { version: '1.4.2', image: 'shop/checkout:1.4.2', revision: 3 }, to: { version: '1.5.0-bad', image: 'shop/checkout:1.5.0-bad' },
        steps: [5, 100], pauseForApprovalAt: [], requestedBy: 'U09BOB', approvedBy: ['U01ALICE'], card: { channel: 'C0CHECKOUT', ts: '1764669600.000100' },
      },
      clock.now(),
    ),
  );
  const rolledBack = {
    ...released,
    state: 'rolling-back' as const,
    rollback: { trigger: 'verdict' as const, by: 'lifeguard', why: 'error-rate 8 %', afterPromotion: false, stepReached: 1, weightReached: 5, failing: [], breachStartedAt: null, decidedAt: clock.now().toISOString(), drainedAt: null, restoredAt: null, verifiedAt: null },
  };
  const audit = () => sqlite.db.prepare<[], { actor: string; action: string; detail: string }>('SELECT actor, action, detail FROM audit_log ORDER BY id').all();
  return { clock, sqlite, store, rules, released, hold: holdFor(released, rolledBack)!, audit };
}

describe('version holds', () => {
  it('one hold per version: a second rollback keeps the first; lifting ends it in one environment or all', () => {
    const { store, hold, released } = setUp();
    expect(store.holds.add(hold)).toBe(true);
    expect(store.holds.add({ ...hold, reason: 'again' })).toBe(false);
    expect(store.holds.find('checkout', 'production', '1.5.0-bad')).toMatchObject({ operationId: released.id, reason: 'error-rate 8 %', liftedAt: null });
    expect(store.holds.add({ ...hold, environment: 'staging' })).toBe(true);
    expect(store.holds.list().map((h) => h.environment)).toEqual(['staging', 'production']);
    expect(store.holds.lift('checkout', '1.5.0-bad', 'staging', 'U01ALICE', new Date()).map((h) => h.environment)).toEqual(['staging']);
    expect(store.holds.lift('checkout', '1.5.0-bad', undefined, 'U01ALICE', new Date())).toMatchObject([{ environment: 'production', liftedBy: 'U01ALICE' }]);
    expect(store.holds.list()).toEqual([]);
    // Held again after a lift: a new rollback holds it anew.
    expect(store.holds.add(hold)).toBe(true);
  });

  it('refuses a held version naming the rollback and where to read about it; force is for release managers, audited and marked', async () => {
    const { store, rules, hold, released, audit } = setUp();
    store.holds.add(hold);
    store.outbox.enqueue({ key: 'k', slot: `operation:${released.id}:incident`, channel: '#incidents', message: { kind: 'note', note: { headline: 'x', lines: [], tone: 'bad' } } }, new Date());
    const [entry] = store.outbox.heads();
    store.outbox.markSent(entry!.id, { channel: 'C0INCIDENT', ts: '1764669700.000200' }, new Date());

    const subject = { kind: 'release' as const, service: 'checkout', environment: 'production', version: '1.5.0-bad' };
    expect(await rules.admit('U09BOB', subject)).toEqual({
      ok: false,
      refusal: { kind: 'hold', hold: expect.objectContaining({ operationId: released.id, reason: 'error-rate 8 %' }), incident: { channel: 'C0INCIDENT', ts: '1764669700.000200' }, card: { channel: 'C0CHECKOUT', ts: '1764669600.000100' } },
    });
    expect(await rules.admit('U09BOB', { ...subject, force: true })).toMatchObject({ ok: false, refusal: { kind: 'force-denied' } });
    expect(await rules.admit('U01ALICE', { ...subject, force: true })).toEqual({ ok: true, marks: { forcedPastHold: { operationId: released.id, reason: 'error-rate 8 %', by: 'U01ALICE' } } });
    expect(await rules.admit('U09BOB', { ...subject, version: '1.5.1' })).toEqual({ ok: true, marks: {} });
    expect(await rules.admit('U09BOB', { kind: 'rollback', service: 'checkout', environment: 'production' })).toEqual({ ok: true, marks: {} });
    expect(audit().map((r) => [r.actor, r.action, JSON.parse(r.detail).why])).toEqual([
      ['U09BOB', 'request.refused', 'hold'],
      ['U09BOB', 'request.refused', 'force-denied'],
      ['U01ALICE', 'request.hold_forced', undefined],
    ]);

    expect(await rules.unhold('checkout', '1.5.0-bad', 'production', 'U01ALICE')).toMatchObject({ ok: true, lifted: [{ version: '1.5.0-bad' }] });
    expect(await rules.admit('U09BOB', subject)).toEqual({ ok: true, marks: {} });
  });
});

describe('freezes', () => {
  it('an ad-hoc freeze is in force until it runs out or is ended; the gate and status see it; the Freeze button freezes until unfrozen', async () => {
    const { clock, rules, released, audit } = setUp();
    expect(await rules.freeze('staging', 3_600_000, 'load test', 'U01ALICE')).toMatchObject({ ok: true, freeze: { endsAt: new Date('2026-12-02T11:00:00Z') } });
    expect(rules.gate('release', 'staging', undefined, clock.now())).toMatchObject({ ok: false, freeze: { reason: 'load test' } });
    expect(rules.gate('release', 'staging', undefined, new Date('2026-12-02T11:00:00Z'))).toEqual({ ok: true });
    expect(rules.gate('hotfix', 'staging', 'critical', clock.now())).toEqual({ ok: true, duringFreeze: { reason: 'load test', endsAt: '2026-12-02T11:00:00.000Z' } });

    expect(await rules.stopTheLine(released.id, 'U01ALICE', { channel: 'C0INCIDENT', messageTs: '1764669700.000200' })).toMatchObject({ ok: true, freeze: { environment: 'production', endsAt: null, reason: `stop the line after rollback #${released.id}` } });
    expect(rules.status().freezes.map((f) => [f.environment, f.reason, f.end])).toEqual([
      ['staging', 'load test', new Date('2026-12-02T11:00:00Z')],
      ['production', `stop the line after rollback #${released.id}`, null],
    ]);
    const ended = await rules.unfreeze('production', 'U01ALICE');
    expect(ended).toMatchObject({ ok: true, ended: [{ environment: 'production' }], stillInForce: [] });
    expect(rules.gate('release', 'production', undefined, clock.now())).toEqual({ ok: true });
    expect(audit().map((r) => r.action)).toEqual(['freeze.started', 'freeze.started', 'freeze.ended']);
    expect(JSON.parse(audit()[1]!.detail)).toMatchObject({ environment: 'production', endsAt: null, operation: released.id });
  });
});
