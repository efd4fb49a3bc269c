import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CHECKPOINT_CONFIGMAP, ConfigMapCheckpoints } from '../../../src/adapters/kubernetes/checkpoint-configmap.js';
import { openStore, type SqliteStore } from '../../../src/adapters/sqlite/store.js';
import { AuditCheckpoints, startAuditCheckpoints, type CheckpointDeps } from '../../../src/flows/audit-checkpoints.js';
import { createLogger } from '../../../src/log.js';
import { typeOfKind } from '../../support/kube-standin/resources.js';
import { KubeStandin } from '../../support/kube-standin/server.js';
import { useTempDirs } from '../../support/tmp.js';
import { kubectl } from './kubectl.js';

const tempDir = useTempDirs();
const CONFIGMAP = typeOfKind('ConfigMap');

/** The real logger writing JSON lines into an array, as `lifeguard start` writes them to stdout. */
function capturedLog() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { log: createLogger({ level: 'info', destination }), lines };
}

describe('audit checkpoints', () => {
  let standin: KubeStandin;
  let store: SqliteStore;
  let kubeconfig: string;
  const note = (text: string) => store.audit.append({ actor: 'cli:test', action: 'operator.note', subject: '-', detail: { text } });
  const remote = (namespace = 'lifeguard') => {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    return new ConfigMapCheckpoints(kc, { namespace });
  };
  const stored = () => standin.store.get(CONFIGMAP, 'lifeguard', CHECKPOINT_CONFIGMAP);

  beforeEach(async () => {
    standin = await KubeStandin.start();
    kubeconfig = standin.writeKubeconfig();
    store = openStore(join(tempDir(), 'lifeguard.db'));
  });
  afterEach(async () => {
    store.close();
    await standin.stop();
  });

  it('logs the head and writes it to the ConfigMap, creating it once and replacing it after', async () => {
    const { log, lines } = capturedLog();
    const publisher = new AuditCheckpoints({ chain: store.audit, clock: { now: () => new Date('2026-03-01T10:00:00Z') }, log, remote: remote() });
    expect(await publisher.publish()).toBeUndefined();
    expect(lines).toEqual([]);

    note('one');
    const first = note('two');
    await publisher.publish();
    expect(lines).toEqual([expect.objectContaining({ level: 30, msg: 'audit checkpoint', checkpoint: { id: 2, hash: first.hash, at: '2026-03-01T10:00:00.000Z' } })]);
    expect(stored()).toMatchObject({ metadata: { labels: { 'app.kubernetes.io/name': 'lifeguard' } }, data: { id: '2', hash: first.hash, at: '2026-03-01T10:00:00.000Z', expect: `2:${first.hash}` } });
    const version = stored()!.metadata.resourceVersion;

    const third = note('three');
    await publisher.publish();
    expect(stored()!.data).toMatchObject({ id: '3', hash: third.hash });
    expect(Number(stored()!.metadata.resourceVersion)).toBeGreaterThan(Number(version));
    expect(standin.requests.map((r) => `${r.verb} ${r.resource} ${r.status}`)).toEqual([
      'get configmaps 404',
      'create configmaps 201',
      'get configmaps 200',
      'update configmaps 200',
    ]);

    const shown = await kubectl(kubeconfig, ['-n', 'lifeguard', 'get', 'configmap', CHECKPOINT_CONFIGMAP, '-o', 'jsonpath={.data.expect}']);
    expect(shown).toMatchObject({ code: 0, stdout: `3:${third.hash}` });
  });

  it('keeps the ConfigMap as evidence and says so when the log no longer holds its checkpoint', async () => {
    const { log, lines } = capturedLog();
    const deps: CheckpointDeps = { chain: store.audit, clock: { now: () => new Date() }, log, remote: remote() };
    for (const text of ['one', 'two', 'three']) note(text);
    await new AuditCheckpoints(deps).publish();
    const evidence = stored()!;

    execFileSync('sqlite3', [store.file, 'DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE id > 1;']);
    note('a new second row');
    await new AuditCheckpoints(deps).publish();

    expect(stored()).toEqual(evidence);
    const alarm = lines.find((l) => l.level === 50)!;
    expect(alarm.msg).toBe(
      `audit log disagrees with ConfigMap lifeguard/${CHECKPOINT_CONFIGMAP}: missing tail: rows after 2 are gone (the checkpoint names row 3). Someone changed the database; that checkpoint is kept as evidence (delete it only once explained)`,
    );
    expect(alarm).toMatchObject({ checkpoint: { id: 3 }, head: { id: 2 }, problem: 'missing-tail' });
    expect(lines.filter((l) => l.msg === 'audit checkpoint').map((l) => (l.checkpoint as { id: number }).id)).toEqual([3, 2]);
  });

  it('notices in its own log when rows it checkpointed are rewritten, even outside a cluster', async () => {
    const { log, lines } = capturedLog();
    const publisher = new AuditCheckpoints({ chain: store.audit, clock: { now: () => new Date() }, log });
    note('one');
    await publisher.publish();
    execFileSync('sqlite3', [store.file, `DROP TRIGGER audit_log_no_update; UPDATE audit_log SET hash = '${'f'.repeat(64)}' WHERE id = 1;`]);
    await publisher.publish();
    expect(lines.find((l) => l.level === 50)).toMatchObject({ problem: 'rewritten', msg: expect.stringContaining('audit log disagrees with the last checkpoint this process published: row 1 was rewritten') });
  });

  it('still logs the checkpoint when the ConfigMap is refused, and reports a repeating failure once', async () => {
    await standin.stop();
    standin = await KubeStandin.start({ rbac: [] });
    kubeconfig = standin.writeKubeconfig();
    const { log, lines } = capturedLog();
    const publisher = new AuditCheckpoints({ chain: store.audit, clock: { now: () => new Date() }, log, remote: remote() });
    note('one');
    await publisher.publish();
    await publisher.publish();
    expect(lines.filter((l) => l.msg === 'audit checkpoint')).toHaveLength(2);
    const warnings = lines.filter((l) => l.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toBe(`cannot store the audit checkpoint in ConfigMap lifeguard/${CHECKPOINT_CONFIGMAP}; it is still logged`);
    expect(JSON.stringify(warnings[0]!.err)).toContain('may not get configmaps');
  });

  it('does not overwrite a checkpoint changed between its read and its write (409), and replaces it next time', async () => {
    const { log, lines } = capturedLog();
    const publisher = new AuditCheckpoints({ chain: store.audit, clock: { now: () => new Date() }, log, remote: remote() });
    note('one');
    await publisher.publish();
    standin.inject({ path: `/api/v1/namespaces/lifeguard/configmaps/${CHECKPOINT_CONFIGMAP}`, method: 'PUT', concurrentWrite: true, times: 1 });
    note('two');
    await publisher.publish();
    expect(stored()!.data).toMatchObject({ id: '1' });
    expect(lines.find((l) => l.level === 40)?.err).toMatchObject({ kind: 'conflict', status: 409 });
    await publisher.publish();
    expect(stored()!.data).toMatchObject({ id: '2' });
  });

  it('is refused by the stand-in as by an API server when its data is not a ConfigMap\'s', async () => {
    const post = (data: unknown) =>
      fetch(`${standin.url}/api/v1/namespaces/lifeguard/configmaps`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ metadata: { name: 'x' }, data }) });
    const badKey = await post({ 'bad key': '1' });
    expect(badKey.status).toBe(422);
    expect(await badKey.json()).toMatchObject({ kind: 'Status', reason: 'Invalid', message: expect.stringContaining('ConfigMap "x" is invalid: data[bad key]: Invalid value') });
    expect((await post({ id: 5 })).status).toBe(400);
  });

  it('publishes at start, on its schedule, and once more at stop', async () => {
    const { log, lines } = capturedLog();
    note('one');
    const schedule = startAuditCheckpoints({ chain: store.audit, clock: { now: () => new Date() }, log, remote: remote() }, '* * * * * *');
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    note('two');
    await schedule.stop();
    const ids = lines.filter((l) => l.msg === 'audit checkpoint').map((l) => (l.checkpoint as { id: number }).id);
    expect(ids.length).toBeGreaterThanOrEqual(3);
    expect(ids.at(-1)).toBe(2);
    expect(stored()!.data).toMatchObject({ id: '2' });
  });
});
