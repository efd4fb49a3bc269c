import { ReleaseRules } from '../../src/flows/release-rules.js';
import { afterEach, describe, expect, test } from 'vitest';
import { sqliteRepositories } from '../../src/adapters/sqlite/repositories.js';
import type { LockFreed } from '../../src/domain/chat-messages.js';
import { ApprovalFlow } from '../../src/flows/approval.js';
import { outboxNotices } from '../../src/flows/operation-notices.js';
import { RequestFlow, type RequestCommand } from '../../src/flows/requests.js';
import { systemClock } from '../../src/ports.js';
import { fastConfig, startEngine, verdict, type EngineHarness } from '../support/engine-harness.js';
import { MemoryChat, roleDirectory } from '../support/memory-ports.js';
import { useTempDirs } from '../support/tmp.js';
import { until } from '../support/until.js';

/*
 * Lock etiquette (issue #11, item 6) against a real SQLite store and the release engine: whoever is refused while
 * an operation holds the service is recorded once, and is written one direct message when it ends, in the
 * transaction that ends it.
 */

const tempDir = useTempDirs();
const running: EngineHarness[] = [];
afterEach(async () => {
  for (const env of running.splice(0)) await env.stop();
});

const config = fastConfig();

async function start() {
  const env = await startEngine(tempDir(), config, {
    notices: (sqlite) => {
      const store = sqliteRepositories(sqlite);
      return outboxNotices({ config, outbox: store.outbox, waiters: store.waiters, clock: systemClock, kick: () => undefined });
    },
  });
  running.push(env);
  const store = sqliteRepositories(env.sqlite);
  const requests = new RequestFlow({
    config,
    workloads: env.fixture.cluster.workloads,
    approvals: new ApprovalFlow({ store, clock: systemClock, roles: roleDirectory({}) }),
    chat: new MemoryChat(),
    operations: store.operations,
    audit: store.audit,
    waiters: store.waiters,
    transaction: store.transaction,
    clock: systemClock,
    rules: new ReleaseRules({ config, store, roles: roleDirectory({}), clock: systemClock }),
    readTimeoutMs: 5_000,
  });
  const rows = <T>(sql: string) => env.sqlite.db.prepare<[], T>(sql).all();
  const dms = () => rows<{ channel: string; key: string; payload: string }>(`SELECT channel, key, payload FROM outbox WHERE key LIKE 'lock-freed:%' ORDER BY id`);
  return { env, requests, rows, dms };
}

const release = (version: string): RequestCommand => ({ kind: 'release', service: 'checkout', environment: 'production', version, strategy: 'canary' });
const hotfix = (version: string): RequestCommand => ({ kind: 'hotfix', service: 'checkout', environment: 'production', version, urgency: 'critical', reason: 'CVE' });

describe('lock etiquette: refused while an operation holds the service', () => {
  test('the refusal says what holds it, who, how it stands, since when and where; each person waits once; the audit row names the waiter', async () => {
    const { env, requests, rows } = await start();
    const started = await env.engine.startFromRequest(env.grant('1.5.0'));
    const op = started.ok ? started.operation : undefined;
    await until(() => (env.op(op!.id).phase === 'hold' ? true : undefined));

    const refused = await requests.open('U0CAROL', release('1.6.0'));
    expect(refused).toMatchObject({
      posted: false,
      channel: '#checkout-releases',
      busy: {
        operationId: op!.id,
        kind: 'release',
        fromVersion: '1.4.2',
        toVersion: '1.5.0',
        requestedBy: 'U0BOB',
        state: 'running',
        headline: expect.stringMatching(/^Step 1 of 4: 5 % of traffic on the canary/),
        since: op!.createdAt,
        thread: { channel: 'C0CHECKOUT', ts: op!.card!.ts },
      },
    });
    expect('refusedAt' in refused && refused.refusedAt.getTime()).toBeGreaterThanOrEqual(Date.parse(op!.createdAt));

    // Asking again, even for another version, and a hotfix by someone else: one row per person.
    await requests.open('U0CAROL', release('1.6.1'));
    await requests.open('U0DAN', hotfix('1.5.1'));
    expect(rows(`SELECT operation_id, service, environment, user, asked_kind, asked_version, notified_at FROM lock_waiters ORDER BY user`)).toEqual([
      { operation_id: op!.id, service: 'checkout', environment: 'production', user: 'U0CAROL', asked_kind: 'release', asked_version: '1.6.0', notified_at: null },
      { operation_id: op!.id, service: 'checkout', environment: 'production', user: 'U0DAN', asked_kind: 'hotfix', asked_version: '1.5.1', notified_at: null },
    ]);
    const audited = rows<{ actor: string; detail: string }>(`SELECT actor, detail FROM audit_log WHERE action = 'request.refused' ORDER BY id`);
    const carolSince = (JSON.parse(audited[0]!.detail) as { waiter: { since: string } }).waiter.since;
    expect(audited.map((r) => [r.actor, JSON.parse(r.detail)])).toEqual([
      ['U0CAROL', { kind: 'release', why: 'another operation is active', running: op!.id, version: '1.6.0', waiter: { since: carolSince, added: true } }],
      ['U0CAROL', { kind: 'release', why: 'another operation is active', running: op!.id, version: '1.6.1', waiter: { since: carolSince, added: false } }],
      ['U0DAN', expect.objectContaining({ kind: 'hotfix', version: '1.5.1', waiter: expect.objectContaining({ added: true }) })],
    ]);
  });

  test('when the operation ends each waiter gets one direct message, written with its end; nothing more after', async () => {
    const { env, requests, rows, dms } = await start();
    const started = await env.engine.startFromRequest(env.grant('1.5.0-bad'));
    const id = started.ok ? started.operation.id : 0;
    await until(() => (env.op(id).phase === 'hold' ? true : undefined));
    await requests.open('U0CAROL', release('1.6.0'));
    await requests.open('U0CAROL', release('1.6.0'));
    await requests.open('U0DAN', hotfix('1.5.1'));
    expect(dms()).toEqual([]);

    await env.engine.onVerdicts([verdict('fail')]);
    // Rolling back still holds the lock: nobody is told yet (read before the state: both commit together).
    const early = await until(() => {
      const before = dms();
      const state = env.op(id).state;
      return state !== 'running' ? { before, state } : undefined;
    });
    if (early.state === 'rolling-back') expect(early.before).toEqual([]);
    const done = await until(() => (env.op(id).state === 'rolled-back' ? env.op(id) : undefined));

    const written = dms();
    expect(written.map((d) => [d.channel, d.key])).toEqual([
      ['U0CAROL', `lock-freed:${id}:U0CAROL`],
      ['U0DAN', `lock-freed:${id}:U0DAN`],
    ]);
    expect(JSON.parse(written[0]!.payload)).toEqual({
      kind: 'lock-freed',
      freed: {
        service: 'checkout',
        environment: 'production',
        operationId: id,
        kind: 'release',
        requestedBy: 'U0BOB',
        state: 'rolled-back',
        asked: { kind: 'release', version: '1.6.0' },
        thread: done.card,
      },
    } satisfies { kind: 'lock-freed'; freed: LockFreed });
    expect(rows<{ notified: number }>(`SELECT COUNT(*) AS notified FROM lock_waiters WHERE notified_at IS NOT NULL`)).toEqual([{ notified: 2 }]);

    // The ended operation reconciled again (a tick, a restart) tells nobody twice.
    await env.engine.reconcile(id, { type: 'tick' });
    await env.engine.tick();
    expect(dms()).toHaveLength(2);

    // The service is free now: the next release is not refused, and nobody waits for it.
    const next = await requests.open('U0CAROL', release('1.6.0'));
    expect('busy' in next).toBe(false);
  });
});
