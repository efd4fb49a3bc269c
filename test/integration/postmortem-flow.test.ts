import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/adapters/sqlite/store.js';
import { sqliteRepositories } from '../../src/adapters/sqlite/repositories.js';
import { SqlitePostmortems } from '../../src/adapters/sqlite/postmortems.js';
import { parseConfig } from '../../src/config/load.js';
import { newOperation, type Operation } from '../../src/domain/operation.js';
import { outboxNotices } from '../../src/flows/operation-notices.js';
import { PostmortemFlow } from '../../src/flows/postmortem.js';
import { createLogger } from '../../src/log.js';
import type { Metrics } from '../../src/ports.js';
import { fastConfig } from '../support/engine-config.js';
import { useTempDirs } from '../support/tmp.js';
import { join } from 'node:path';

/*
 * The post-mortem flow on a real SQLite file: an automated rollback that ended is drafted once (its impact asked of
 * Prometheus over its window), the file and the redrawn incident post queued; a restart drafts what it missed, but
 * only recently ended rollbacks.
 */

const quiet = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, done) => done() }) });
const tempDir = useTempDirs();
const NOW = new Date('2026-05-04T10:00:00.000Z');

function automatedRollback(finishedAt: string): Operation {
  const op = newOperation(
    { id: 0, requestId: null, kind: 'release', strategy: 'canary', service: 'checkout', environment: 'production', from: { version: '1.4.2', image: 'r/checkout:1.4.2', revision: 3 }, to: { version: '1.5.0-bad', image: 'r/checkout:1.5.0-bad' }, steps: [5, 25, 50, 100], pauseForApprovalAt: [50], requestedBy: 'U09BOB', approvedBy: ['U01ALICE'], card: null },
    new Date(Date.parse(finishedAt) - 60_000),
  );
  const at = (s: number) => new Date(Date.parse(finishedAt) - s * 1000).toISOString();
  return {
    ...op,
    state: 'rolled-back',
    phase: 'done',
    finishedAt,
    rollback: { trigger: 'verdict', by: 'lifeguard', why: 'error-rate high', afterPromotion: false, stepReached: 1, weightReached: 5, failing: [], breachStartedAt: at(40), decidedAt: at(35), drainedAt: at(34), restoredAt: at(20), verifiedAt: at(0) },
  };
}

function setup() {
  const sqlite = openStore(join(tempDir(), 'lifeguard.db'), { clock: { now: () => NOW } });
  const store = sqliteRepositories(sqlite, { now: () => NOW });
  const drafts = new SqlitePostmortems(sqlite.db);
  const config = parseConfig(fastConfig({ prometheusUrl: 'http://127.0.0.1:1' }));
  const asked: { query: string; at: string }[] = [];
  const metrics: Metrics = {
    instant: async (query, at) => {
      asked.push({ query, at: at.toISOString() });
      return { kind: 'vector', samples: [{ labels: {}, value: query.includes('5..') ? 41.6 : 520.2 }], warnings: [] };
    },
    range: async () => ({ kind: 'unreachable', message: 'not used', warnings: [] }),
  };
  const notices = outboxNotices({ config, outbox: store.outbox, waiters: store.waiters, clock: { now: () => NOW }, kick: () => undefined, followUp: (id) => ({ acknowledged: drafts.acknowledgement(id), postmortem: drafts.get(id) !== undefined }) });
  const flow = new PostmortemFlow({ config, store, postmortems: drafts, metrics, roles: { rolesOf: async () => [] }, notices, clock: { now: () => NOW }, log: quiet });
  const insert = (op: Operation) => store.transaction(() => store.operations.insert(op));
  const outbox = () => sqlite.db.prepare('SELECT key, thread_ts, payload FROM outbox ORDER BY id').all() as { key: string; thread_ts: string | null; payload: string }[];
  return { sqlite, store, drafts, flow, asked, insert, outbox };
}

describe('the post-mortem flow', () => {
  it('drafts an ended automated rollback once: stored, audited, the file and the redrawn incident post queued', async () => {
    const { sqlite, drafts, flow, asked, insert, outbox } = setup();
    const op = insert(automatedRollback('2026-05-04T09:59:00.000Z'));
    await flow.ended(op);
    await flow.ended(op);
    expect(drafts.get(op.id)?.markdown).toContain('- Failed requests (5xx): **42** (7.997 % of them)');
    // The window: from the breach start (no step row here) to the drain, asked at the drain.
    expect(asked.map((a) => a.at)).toEqual(['2026-05-04T09:58:26.000Z', '2026-05-04T09:58:26.000Z']);
    expect(asked[1]!.query).toBe('sum(increase(http_requests_total{app="checkout",version="canary",status=~"5.."}[6000ms]))');
    const queued = outbox();
    expect(queued.map((e) => [e.key, e.thread_ts])).toEqual([
      [`operation:${op.id}:postmortem`, `slot:operation:${op.id}:incident`],
      [`operation:${op.id}:incident:postmortem`, null],
    ]);
    expect(JSON.parse(queued[1]!.payload)).toMatchObject({ kind: 'incident', incident: { status: 'mitigated', postmortem: true, actions: ['acknowledge'] } });
    const audited = sqlite.db.prepare("SELECT actor FROM audit_log WHERE action = 'postmortem.drafted'").all();
    expect(audited).toEqual([{ actor: 'lifeguard' }]);
    sqlite.close();
  });

  it('at a start, drafts the automated rollbacks that ended within the hour without one, not older ones', async () => {
    const { sqlite, drafts, flow, insert } = setup();
    const recent = insert(automatedRollback('2026-05-04T09:30:00.000Z'));
    const old = insert(automatedRollback('2026-05-03T09:30:00.000Z'));
    await flow.catchUp();
    expect(drafts.get(recent.id)).toBeDefined();
    expect(drafts.get(old.id)).toBeUndefined();
    sqlite.close();
  });
});
