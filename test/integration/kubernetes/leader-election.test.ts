import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { LeaseLeaderElection } from '../../../src/adapters/kubernetes/leader-election.js';
import { typeOfKind } from '../../support/kube-standin/resources.js';
import { KubeStandin } from '../../support/kube-standin/server.js';

const TIMING = { leaseDurationMs: 1_000, renewDeadlineMs: 600, retryPeriodMs: 100 };
const LEASE_PATH = '/apis/coordination.k8s.io/v1/namespaces/lifeguard/leases/lifeguard-leader';
let standin: KubeStandin;
let kc: KubeConfig;
const electors: LeaseLeaderElection[] = [];

beforeEach(async () => {
  standin = await KubeStandin.start();
  kc = new KubeConfig();
  kc.loadFromFile(standin.writeKubeconfig());
});
afterEach(async () => {
  for (const e of electors.splice(0)) await e.stop();
  await standin.stop();
});

function elector(identity: string): LeaseLeaderElection {
  const e = new LeaseLeaderElection(kc, { namespace: 'lifeguard', name: 'lifeguard-leader', identity, ...TIMING });
  electors.push(e);
  return e;
}

async function until(what: string, check: () => boolean, timeoutMs = 5_000): Promise<number> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - started;
}

const lease = () => standin.store.get(typeOfKind('Lease'), 'lifeguard', 'lifeguard-leader')?.spec as { holderIdentity: string; leaseTransitions: number; renewTime: string } | undefined;

test('one of two replicas leads, and the other takes over once the holder stops renewing', async () => {
  const a = elector('lifeguard-a');
  const b = elector('lifeguard-b');
  const changes: string[] = [];
  a.onChange((leader) => changes.push(`a:${leader}`));
  b.onChange((leader) => changes.push(`b:${leader}`));
  a.start();
  await until('a to lead', () => a.isLeader());
  b.start();
  await new Promise((r) => setTimeout(r, 400));
  expect([a.isLeader(), b.isLeader()]).toEqual([true, false]);
  expect(lease()).toMatchObject({ holderIdentity: 'lifeguard-a', leaseTransitions: 0 });
  expect(lease()!.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

  // a hangs: it stops renewing without releasing, as a frozen process would.
  await a.stop();
  const handover = await until('b to take over', () => b.isLeader());
  expect(handover).toBeGreaterThan(TIMING.leaseDurationMs - 300);
  expect(lease()).toMatchObject({ holderIdentity: 'lifeguard-b', leaseTransitions: 1 });
  expect(changes).toEqual(['a:true', 'a:false', 'b:true']);
});

test('a leader that cannot renew gives up at its renew deadline and aborts its work at once', async () => {
  const a = elector('lifeguard-a');
  a.start();
  await until('a to lead', () => a.isLeader());
  const work = a.signal;
  expect(work.aborted).toBe(false);
  const remove = standin.inject({ path: LEASE_PATH, status: 503 });
  const lostAfter = await until('a to lose the lease', () => !a.isLeader());
  expect(lostAfter).toBeLessThan(TIMING.leaseDurationMs);
  expect(work.aborted).toBe(true);
  expect(String(work.reason)).toBe('lease lifeguard/lifeguard-leader not renewed within 600ms');
  remove();
  await until('a to lead again', () => a.isLeader());
  expect(a.signal.aborted).toBe(false);
});

test('a clean stop releases the lease so the next replica leads without waiting it out', async () => {
  const a = elector('lifeguard-a');
  const b = elector('lifeguard-b');
  a.start();
  await until('a to lead', () => a.isLeader());
  b.start();
  await a.stop({ release: true });
  const handover = await until('b to lead', () => b.isLeader());
  expect(handover).toBeLessThan(TIMING.leaseDurationMs);
});

test('a replica that is refused the Lease says why, once, and never leads', async () => {
  const a = elector('lifeguard-a');
  const problems: string[] = [];
  a.onProblem((error) => problems.push((error as Error).message));
  standin.inject({ path: /\/leases/, status: 403 });
  a.start();
  await new Promise((r) => setTimeout(r, 10 * TIMING.retryPeriodMs));
  expect(a.isLeader()).toBe(false);
  expect(problems).toHaveLength(1);
  expect(problems[0]).toMatch(/lease/i);
  expect(problems[0]).toMatch(/lifeguard/);
});
