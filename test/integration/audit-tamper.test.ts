import type { Plan } from '../../src/domain/plans.js';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { rowHash, type AuditRow } from '../../src/adapters/sqlite/audit-chain.js';
import { SqliteApprovalRepository } from '../../src/adapters/sqlite/approvals.js';
import { openStore } from '../../src/adapters/sqlite/store.js';
import { ConfigMapCheckpoints } from '../../src/adapters/kubernetes/checkpoint-configmap.js';
import { ApprovalFlow } from '../../src/flows/approval.js';
import { AuditCheckpoints } from '../../src/flows/audit-checkpoints.js';
import { runCli } from '../support/cli.js';
import { KubeStandin } from '../support/kube-standin/server.js';
import { useTempDirs } from '../support/tmp.js';

const releasePlan: Plan = { kind: 'release', service: 'checkout', environment: 'production', version: '1.5.0', strategy: 'canary', running: null, steps: [5, 25, 50, 100], pauseForApprovalAt: [50] };

/**
 * An attacker who can write the database: drops the append-only triggers with the sqlite3 shell, deletes or edits
 * rows, and recomputes the chain with the published algorithm. `audit verify` must catch each of them, given a
 * key or a checkpoint kept outside the database.
 */

// Each test runs the real CLI a few times; on a loaded machine one start takes seconds.
vi.setConfig({ testTimeout: 120_000 });

const tempDir = useTempDirs();
const KEY = 'c0ffee'.repeat(8);

function tamper(file: string, sql: string): void {
  execFileSync('sqlite3', [file, `DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; ${sql}`]);
}

/** A log of `count` operator notes; returns the file and the head's `<id>:<hash>`, as a checkpoint gives it. */
function noted(count: number, auditKey?: string): { file: string; checkpoint: string } {
  const file = join(tempDir(), 'lifeguard.db');
  const store = openStore(file, { auditKey });
  let last;
  for (let i = 1; i <= count; i++) last = store.audit.append({ actor: 'cli:ops', action: 'operator.note', subject: 'checkout/production', detail: { text: `note ${i}` } });
  store.close();
  return { file, checkpoint: `${last!.id}:${last!.hash}` };
}

/** The forger's script: edit one row, then recompute every hash in order with plain SHA-256, as the README documents it. */
function rewriteAndRecompute(file: string, id: number, detail: string): void {
  tamper(file, `UPDATE audit_log SET detail = '${detail}' WHERE id = ${id};`);
  const db = new Database(file);
  const rows = db.prepare<[], AuditRow>('SELECT * FROM audit_log ORDER BY id').all();
  const update = db.prepare('UPDATE audit_log SET prev_hash = ?, hash = ? WHERE id = ?');
  let prev = '0'.repeat(64);
  for (const row of rows) {
    const hash = rowHash({ ...row, prev_hash: prev });
    update.run(prev, hash, row.id);
    prev = hash;
  }
  db.close();
}

describe('audit verify --expect: a log cut short', () => {
  it('finds the last rows deleted, which the chain alone cannot', async () => {
    const { file, checkpoint } = noted(5);
    tamper(file, 'DELETE FROM audit_log WHERE id > 3;');
    expect((await runCli(['audit', 'verify', '--db', file])).code).toBe(0);

    const result = await runCli(['audit', 'verify', '--db', file, '--expect', checkpoint]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`audit log TRUNCATED: missing tail: rows after 3 are gone (the checkpoint names row 5) [--expect ${checkpoint}]`);
  });

  it('finds all rows but the first deleted', async () => {
    const { file, checkpoint } = noted(5);
    tamper(file, 'DELETE FROM audit_log WHERE id > 1;');
    const result = await runCli(['audit', 'verify', '--db', file, '--expect', checkpoint]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('audit log TRUNCATED: missing tail: rows after 1 are gone (the checkpoint names row 5)');
  });

  it('accepts a log that grew past its checkpoint', async () => {
    const { file, checkpoint } = noted(3);
    const store = openStore(file);
    store.audit.append({ actor: 'cli:ops', action: 'operator.note', subject: '-', detail: { text: 'later' } });
    store.close();
    const result = await runCli(['audit', 'verify', '--db', file, '--expect', checkpoint]);
    expect(result).toMatchObject({ code: 0, stdout: expect.stringContaining(`checkpoint: checkpoint at row 3 matches (the log now ends at row 4) [--expect ${checkpoint}]`) });
  });

  it('refuses a malformed checkpoint with the usage, exit 2', async () => {
    const { file } = noted(1);
    for (const bad of ['5', `5:${'z'.repeat(64)}`, '0x5:abc']) {
      const result = await runCli(['audit', 'verify', '--db', file, '--expect', bad]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`lifeguard audit verify: --expect: "${bad}" is not <id>:<hash>`);
      expect(result.stderr).toContain('usage: lifeguard audit verify');
    }
  });
});

describe('audit verify: a chain rewritten and recomputed', () => {
  it('without a key, passes the chain (and says it is not keyed) but not the checkpoint', async () => {
    const { file, checkpoint } = noted(5);
    rewriteAndRecompute(file, 2, '{"text":"nothing happened"}');
    const plain = await runCli(['audit', 'verify', '--db', file]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain('not keyed: plain SHA-256, which anyone able to write the database can recompute');

    const result = await runCli(['audit', 'verify', '--db', file, '--expect', checkpoint]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(new RegExp(`audit log REWRITTEN: row 5 was rewritten: its hash is [0-9a-f]{64}, the checkpoint says ${checkpoint.split(':')[1]}`));
  });

  it('with a key, is caught by the key alone', async () => {
    const { file } = noted(5, KEY);
    const intact = await runCli(['audit', 'verify', '--db', file], { LIFEGUARD_AUDIT_KEY: KEY });
    expect(intact.code).toBe(0);
    expect(intact.stdout).toContain('keyed: every row is HMAC-SHA256 with LIFEGUARD_AUDIT_KEY');

    rewriteAndRecompute(file, 3, '{"text":"nothing happened"}');
    const result = await runCli(['audit', 'verify', '--db', file], { LIFEGUARD_AUDIT_KEY: KEY });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('audit log BROKEN at id 1: no row is keyed although LIFEGUARD_AUDIT_KEY is set');
  });

  it('with a key, catches a forger who keeps the keyed marks', async () => {
    const { file } = noted(3, KEY);
    tamper(file, `UPDATE audit_log SET detail = '{"text":"nothing happened"}' WHERE id = 2;`);
    const db = new Database(file);
    const rows = db.prepare<[], AuditRow>('SELECT * FROM audit_log ORDER BY id').all();
    let prev = '0'.repeat(64);
    for (const row of rows) {
      const hash = `hmac-sha256:${rowHash({ ...row, prev_hash: prev })}`;
      db.prepare('UPDATE audit_log SET prev_hash = ?, hash = ? WHERE id = ?').run(prev, hash, row.id);
      prev = hash;
    }
    db.close();
    const result = await runCli(['audit', 'verify', '--db', file], { LIFEGUARD_AUDIT_KEY: KEY });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('audit log BROKEN at id 1: hash does not match the row contents');
  });

  it('needs the key for a keyed chain: exit 2 without it, broken at id 1 with another, exit 2 for a short one', async () => {
    const { file } = noted(2, KEY);
    const none = await runCli(['audit', 'verify', '--db', file]);
    expect(none).toMatchObject({ code: 2, stderr: 'lifeguard audit verify: the audit chain is keyed (HMAC-SHA256) from row 1: set LIFEGUARD_AUDIT_KEY to the key Lifeguard writes with to verify it\n' });

    const wrong = await runCli(['audit', 'verify', '--db', file], { LIFEGUARD_AUDIT_KEY: 'f'.repeat(40) });
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toContain('audit log BROKEN at id 1: hash does not match the row contents: the row was changed, or LIFEGUARD_AUDIT_KEY is not the key it was written with');

    const short = await runCli(['audit', 'verify', '--db', file], { LIFEGUARD_AUDIT_KEY: 'secret' });
    expect(short).toMatchObject({ code: 2, stderr: 'lifeguard audit verify: LIFEGUARD_AUDIT_KEY: must be at least 32 characters (e.g. `openssl rand -hex 32`)\n' });
  });

  it('keys an existing log from the first keyed write on, and refuses plain writes after that', async () => {
    const { file } = noted(3);
    const keyed = await runCli(['audit', 'note', 'key rolled out', '--db', file], { LIFEGUARD_AUDIT_KEY: KEY, LIFEGUARD_OPERATOR: 'ops' });
    expect(keyed).toMatchObject({ code: 0, stdout: 'noted as audit row 5 by cli:ops\n' });
    const result = await runCli(['audit', 'verify', '--db', file], { LIFEGUARD_AUDIT_KEY: KEY });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('keyed: HMAC-SHA256 with LIFEGUARD_AUDIT_KEY from row 4; rows 1-3 predate the key (plain SHA-256)');
    const exported = (await runCli(['audit', 'export', '--db', file])).stdout.trim().split('\n').map((l) => JSON.parse(l) as { action: string });
    expect(exported[3]).toMatchObject({ action: 'audit.keyed' });

    const plain = await runCli(['audit', 'note', 'no key here', '--db', file]);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain('the audit chain is keyed (its newest row, 5, is HMAC-SHA256): set LIFEGUARD_AUDIT_KEY');
  });
});

describe('audit verify --state', () => {
  /** Two approval requests through the real flow: #1 approved and granted with its card posted, #2 pending. */
  function approvals(): string {
    const file = join(tempDir(), 'lifeguard.db');
    const store = openStore(file);
    const flow = new ApprovalFlow({
      store: { transaction: store.transaction, audit: store.audit, approvals: new SqliteApprovalRepository(store.db) },
      clock: { now: () => new Date() },
      roles: { rolesOf: async (_user, among) => [...among] },
    });
    const open = (kind: 'release' | 'rollback') =>
      flow.open({ kind, service: 'checkout', environment: 'production', requester: 'U09BOB', requirement: { mode: 'any', roles: ['release-manager'], count: 1 }, ttlMs: 3_600_000, plan: releasePlan });
    const first = open('release');
    flow.attachMessage(first.id, 'C0CHECKOUT', '1700000000.000100');
    open('rollback');
    return file;
  }

  it('agrees with the tables the flows wrote: votes, a grant, a refusal with its reason, an expiry', async () => {
    const file = approvals();
    const store = openStore(file);
    const flow = new ApprovalFlow({ store: { transaction: store.transaction, audit: store.audit, approvals: new SqliteApprovalRepository(store.db) }, clock: { now: () => new Date() }, roles: { rolesOf: async (_u, among) => [...among] } });
    expect(await flow.vote(1, 'U01ALICE', 'approve')).toMatchObject({ ok: true, record: { state: 'granted' } });
    expect(await flow.vote(2, 'U01ALICE', 'reject', { reason: 'not during the sale' })).toMatchObject({ ok: true, record: { state: 'refused' } });
    const stale = flow.open({ kind: 'hotfix', service: 'checkout', environment: 'production', requester: 'U09BOB', requirement: { mode: 'each', roles: ['on-call'] }, ttlMs: -1, plan: { ...releasePlan, kind: 'hotfix', urgency: 'critical', reason: 'card payments failing', path: 'direct', steps: [100], pauseForApprovalAt: [] } });
    expect(flow.expireDue().map((r) => r.id)).toEqual([stale.id]);
    store.close();
    const result = await runCli(['audit', 'verify', '--state', '--db', file]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('state tables agree with the log: 3 approval requests, 0 releases');
  });

  it('names the request and field of a state flipped to granted, and a vote slipped in, behind the log\'s back', async () => {
    const file = approvals();
    execFileSync('sqlite3', [file, "UPDATE approval_requests SET state = 'granted' WHERE id = 2;"]);
    execFileSync('sqlite3', [file, `INSERT INTO approval_votes (request_id, voter, decision, role, at) VALUES (1, 'U07MALLORY', 'approve', 'release-manager', '${new Date().toISOString()}');`]);
    expect((await runCli(['audit', 'verify', '--db', file])).code).toBe(0);

    const result = await runCli(['audit', 'verify', '--state', '--db', file]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('state DISAGREES: approval request 2: state is "granted" in approval_requests, the log says "pending"');
    expect(result.stdout).toContain('state DISAGREES: approval request 1: vote of U07MALLORY is {"decision":"approve","role":"release-manager"} in approval_votes, the log says nothing');
  });

  it('names a card moved to another message', async () => {
    const file = approvals();
    execFileSync('sqlite3', [file, "UPDATE approval_requests SET message_ts = '1700000000.999999' WHERE id = 1;"]);
    const result = await runCli(['audit', 'verify', '--state', '--db', file]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('state DISAGREES: approval request 1: message_ts is "1700000000.999999" in approval_requests, the log says "1700000000.000100"');
  });
});

describe('audit verify --checkpoint-from-configmap', () => {
  let standin: KubeStandin;
  let kubeconfig: string;
  beforeAll(async () => {
    standin = await KubeStandin.start();
    kubeconfig = standin.writeKubeconfig();
  });
  afterAll(() => standin.stop());

  async function publish(file: string, namespace: string): Promise<void> {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const store = openStore(file, { readonly: true });
    const silent = { info: () => {}, warn: () => {}, error: () => {} } as never;
    await new AuditCheckpoints({ chain: store.audit, clock: { now: () => new Date() }, log: silent, remote: new ConfigMapCheckpoints(kc, { namespace }) }).publish();
    store.close();
  }

  it('reads the checkpoint Lifeguard published, from POD_NAMESPACE or --namespace, and finds the tail cut off', async () => {
    const { file } = noted(4);
    await publish(file, 'lifeguard');
    await publish(file, 'ops');
    const ok = await runCli(['audit', 'verify', '--checkpoint-from-configmap', '--db', file], { KUBECONFIG: kubeconfig });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/checkpoint: checkpoint at row 4 matches \(the log now ends at row 4\) \[ConfigMap lifeguard\/lifeguard-audit-checkpoint, taken \d{4}-/);

    tamper(file, 'DELETE FROM audit_log WHERE id > 2;');
    const cut = await runCli(['audit', 'verify', '--checkpoint-from-configmap', '--namespace', 'ops', '--db', file], { KUBECONFIG: kubeconfig, POD_NAMESPACE: 'elsewhere' });
    expect(cut.code).toBe(1);
    expect(cut.stdout).toContain('audit log TRUNCATED: missing tail: rows after 2 are gone (the checkpoint names row 4) [ConfigMap ops/lifeguard-audit-checkpoint');

    const missing = await runCli(['audit', 'verify', '--checkpoint-from-configmap', '--db', file], { KUBECONFIG: kubeconfig, POD_NAMESPACE: 'elsewhere' });
    expect(missing).toMatchObject({
      code: 2,
      stderr: 'lifeguard audit verify: ConfigMap elsewhere/lifeguard-audit-checkpoint not found: Lifeguard writes it when it runs in a cluster (POD_NAMESPACE set); name its namespace with --namespace\n',
    });

    const stray = await runCli(['audit', 'verify', '--namespace', 'ops', '--db', file]);
    expect(stray.code).toBe(2);
    expect(stray.stderr).toContain('--namespace goes with --checkpoint-from-configmap');
  });
});
