import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type SqliteStore } from '../../../src/adapters/sqlite/store.js';
import { SqliteOperationRepository } from '../../../src/adapters/sqlite/operations.js';
import { SqliteOutbox } from '../../../src/adapters/sqlite/outbox.js';
import { newOperation, type Operation } from '../../../src/domain/operation.js';
import { incident, incidentSlot } from '../../../src/flows/operation-notices.js';
import { runCli } from '../../support/cli.js';
import { PEOPLE, responses, startHarness, type Harness } from '../../support/slack-standin/harness.js';

/*
 * The incident post's Acknowledge and Start post-mortem buttons and `/rollback postmortem <id>`, through the real
 * Bolt app: a manual rollback of checkout that has ended (seeded as the engine would have left it, its incident
 * post delivered by the outbox) is acknowledged, its draft started from the post, asked for again by command.
 */

const ended = '2026-05-04T09:10:30.000Z';

function manualRollback(): Operation {
  const op = newOperation(
    {
      id: 0,
      requestId: null,
      kind: 'rollback',
      strategy: 'canary',
      service: 'checkout',
      environment: 'production',
      from: { version: '1.4.2', image: 'registry/checkout:1.4.2', revision: 5 },
      to: { version: '1.4.1', image: 'registry/checkout:1.4.1', revision: 4 },
      steps: [],
      pauseForApprovalAt: [],
      requestedBy: PEOPLE.requester,
      approvedBy: [],
      card: null,
    },
    new Date('2026-05-04T09:10:00.000Z'),
  );
  return {
    ...op,
    state: 'rolled-back',
    phase: 'done',
    outcome: 'rolled back, verified',
    finishedAt: ended,
    rollback: {
      trigger: 'manual',
      by: PEOPLE.requester,
      why: 'checkout errors after the config change',
      afterPromotion: true,
      stepReached: 0,
      weightReached: 0,
      failing: [],
      breachStartedAt: null,
      decidedAt: '2026-05-04T09:10:00.000Z',
      drainedAt: '2026-05-04T09:10:01.000Z',
      restoredAt: '2026-05-04T09:10:15.000Z',
      verifiedAt: ended,
    },
  };
}

describe('the incident post follow-ups, through Slack', () => {
  let h: Harness;
  let seeded: SqliteStore;
  let op: Operation;
  let post: { channel: string; ts: string };

  beforeAll(async () => {
    h = await startHarness();
    // What the engine and the outbox would have written for a manual rollback that ended: the operation, its
    // audit rows, and its incident post (delivered by Lifeguard's own sender, which reads the outbox).
    seeded = openStore(h.db);
    op = seeded.transaction(() => {
      const stored = new SqliteOperationRepository(seeded.db, () => new Date()).insert(manualRollback());
      const subject = 'checkout/production';
      for (const action of ['operation.started', 'rollback.manual', 'rollback.drained', 'rollback.restored', 'rollback.verified', 'operation.finished']) {
        seeded.audit.append({ actor: action === 'rollback.manual' ? PEOPLE.requester : 'lifeguard', action, subject, detail: { operation: stored.id, why: 'checkout errors after the config change', verdict: 'inconclusive' } });
      }
      new SqliteOutbox(seeded.db).enqueue(
        { key: `operation:${stored.id}:v1:0`, slot: incidentSlot(stored.id), channel: '#incidents', message: { kind: 'incident', incident: incident(stored) } },
        new Date(),
      );
      return stored;
    });
    const posted = await h.standin.waitFor(() => h.standin.okCalls('chat.postMessage').find((c) => c.args.channel === '#incidents'), 10_000);
    post = { channel: String(posted.response.channel), ts: String(posted.response.ts) };
  }, 30_000);

  afterAll(async () => {
    seeded?.close();
    await h?.close();
  });

  const postNow = () => JSON.stringify(h.standin.messages.get(post.channel)!.get(post.ts)!.blocks);
  const told = async (responseUrl: string) => String((await h.standin.waitFor(() => responses(h.standin, responseUrl).at(-1)))?.text);

  it('offers Acknowledge and Start post-mortem on the post of a manual rollback that has ended', () => {
    expect(postNow()).toContain('incident.acknowledge');
    expect(postNow()).toContain('incident.postmortem');
    expect(postNow()).toContain('Mitigated');
  });

  it('refuses someone who may not approve rollbacks there, and audits it', async () => {
    const click = await h.click({ user: PEOPLE.nobody, actionId: 'incident.acknowledge', value: String(op.id), channel: post.channel, messageTs: post.ts });
    expect(await told(click.responseUrl)).toContain('Not acknowledged: only release-manager or on-call may acknowledge incidents in production');
    expect(h.audit().some((r) => r.action === 'incident.denied' && r.actor === PEOPLE.nobody)).toBe(true);
  });

  it('Acknowledge records who and when, shows it on the post updated in place, and a second click says who did', async () => {
    const click = await h.click({ user: PEOPLE.oscar, actionId: 'incident.acknowledge', value: String(op.id), channel: post.channel, messageTs: post.ts });
    expect(await told(click.responseUrl)).toContain('Acknowledged');
    await h.standin.waitFor(() => postNow().includes(`<@${PEOPLE.oscar}>`) && !postNow().includes('incident.acknowledge'), 10_000);
    expect(h.audit().filter((r) => r.action === 'incident.acknowledged').map((r) => r.actor)).toEqual([PEOPLE.oscar]);
    const again = await h.click({ user: PEOPLE.frank, actionId: 'incident.acknowledge', value: String(op.id), channel: post.channel, messageTs: post.ts });
    expect(await told(again.responseUrl)).toContain(`Already acknowledged by <@${PEOPLE.oscar}>`);
  });

  it('a click from another message counts for nothing', async () => {
    const click = await h.click({ user: PEOPLE.oscar, actionId: 'incident.postmortem', value: String(op.id), channel: 'C0CHECKOUT', messageTs: '1700000000.000001' });
    expect(await told(click.responseUrl)).toContain('this button belongs to another incident post');
  });

  it('Start post-mortem attaches the Markdown draft to the post thread as a file (external upload), and the post is resolved', async () => {
    const click = await h.click({ user: PEOPLE.frank, actionId: 'incident.postmortem', value: String(op.id), channel: post.channel, messageTs: post.ts });
    expect(await told(click.responseUrl)).toContain(`The post-mortem draft of rollback #${op.id} is written`);
    const file = await h.standin.waitFor(() => h.standin.files[0], 10_000);
    expect(file).toMatchObject({ channel: post.channel, threadTs: post.ts, name: `postmortem-${op.id}-checkout-production.md` });
    expect(file.content).toContain('# Post-mortem (draft): Rollback of checkout in production to 1.4.1');
    expect(file.content).toContain('| Draft requested by | U05FRANK |');
    expect(file.content).toContain('Prometheus could not be asked');
    // Slack's three steps, in order, the bytes on the stand-in's own upload URL.
    const methods = h.standin.calls.map((c) => c.method).filter((m) => m.startsWith('files.') || m === 'upload');
    expect(methods).toEqual(['files.getUploadURLExternal', 'upload', 'files.completeUploadExternal']);
    expect(h.standin.okCalls('files.completeUploadExternal')[0]!.args).toMatchObject({ channel_id: post.channel, thread_ts: post.ts });
    // In the thread: a message carrying the file.
    const shared = h.standin.messages.get(post.channel)!.get(file.ts)! as { thread_ts?: string; files?: { id: string }[] };
    expect(shared).toMatchObject({ thread_ts: post.ts, files: [{ id: file.id }] });
    await h.standin.waitFor(() => postNow().includes('Resolved') && !postNow().includes('incident.postmortem'), 10_000);
    expect(h.audit().filter((r) => r.action === 'postmortem.drafted').map((r) => r.actor)).toEqual([PEOPLE.frank]);
  });

  it('/rollback postmortem <id> acknowledges first, then says where the existing draft is; an unknown id or a bad one is told', async () => {
    const asked = await h.command('/rollback', `postmortem ${op.id}`, PEOPLE.oscar);
    expect(asked.status).toBe(200);
    expect(asked.body).toContain('Drafting the post-mortem');
    const reply = await h.standin.waitFor(() => responses(h.standin, asked.responseUrl).find((r) => String(r.text).includes('already')));
    expect(String(reply.text)).toContain(`Rollback #${op.id} has a post-mortem draft already`);
    expect(String(reply.text)).toContain(`https://slack.com/archives/${post.channel}/p${post.ts.replace('.', '')}`);
    expect(h.standin.files).toHaveLength(1);

    const unknown = await h.command('/rollback', 'postmortem 999', PEOPLE.oscar);
    expect(String((await h.standin.waitFor(() => responses(h.standin, unknown.responseUrl).find((r) => String(r.text).includes('No post-mortem'))))?.text)).toContain('there is no operation #999');
    const bad = await h.command('/rollback', 'postmortem 0x1', PEOPLE.oscar);
    expect(bad.body).toContain('must be a release number');
  });

  it('lifeguard postmortem <id> prints the stored draft; an unknown or bad id exits 2 with one line', async () => {
    const printed = await runCli(['postmortem', String(op.id), '--db', h.db]);
    expect(printed.code).toBe(0);
    expect(printed.stdout).toBe(`${h.standin.files[0]!.content.trimEnd()}\n`);
    const unknown = await runCli(['postmortem', '999', '--db', h.db]);
    expect(unknown).toMatchObject({ code: 2, stdout: '' });
    expect(unknown.stderr.trim().split('\n')).toEqual([expect.stringContaining('there is no operation 999')]);
    const bad = await runCli(['postmortem', 'abc', '--db', h.db]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toEqual([expect.stringContaining('"abc" is not an operation id')]);
  }, 30_000);
});
