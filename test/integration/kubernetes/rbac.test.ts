import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, test } from 'vitest';
import { CHECKPOINT_CONFIGMAP, ConfigMapCheckpoints } from '../../../src/adapters/kubernetes/checkpoint-configmap.js';
import { LeaseLeaderElection } from '../../../src/adapters/kubernetes/leader-election.js';
import { OPERATIONS, isCheckpointOperation, isLeaseOperation, type OperationName } from '../../../src/adapters/kubernetes/operations.js';
import { AuditCheckpoints } from '../../../src/flows/audit-checkpoints.js';
import type { RbacRule } from '../../support/kube-standin/server.js';
import { checkoutHttpRoute, CHECKOUT_IMAGE } from '../../support/kube-standin/seed.js';
import { kubernetesCluster } from '../../../src/adapters/kubernetes/cluster.js';
import { exampleConfig, kubeConfigOf, startFixture } from './fixture.js';
import { loadManifests } from './manifest-files.js';

/** Keeps manifests/rbac.yaml and the API calls the code makes (operations.ts) in step, both ways. */

type Rule = { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] };
const manifests = loadManifests();
const find = (kind: string, name: string) => manifests.find((m) => m.doc.kind === kind && m.doc.metadata.name === name)?.doc;
const executor = (find('ClusterRole', 'lifeguard-executor')?.rules ?? []) as Rule[];
const leader = (find('Role', 'lifeguard-leader-election')?.rules ?? []) as Rule[];
const checkpoint = (find('Role', 'lifeguard-audit-checkpoint')?.rules ?? []) as Rule[];
const grants = (rules: Rule[]) => new Set(rules.flatMap((r) => r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${v} ${g}/${res}`))))).values();
const needs = (names: OperationName[]) => names.map((n) => `${OPERATIONS[n].verb} ${OPERATIONS[n].group}/${OPERATIONS[n].resource}`);
const all = Object.keys(OPERATIONS) as OperationName[];

describe('manifests/rbac.yaml', () => {
  test('the executor ClusterRole grants exactly what the release operations call', () => {
    expect([...grants(executor)].sort()).toEqual(needs(all.filter((n) => !isLeaseOperation(n) && !isCheckpointOperation(n))).sort());
  });

  test('the leader-election Role grants exactly the Lease calls, get and update only on Lifeguard\'s Lease', () => {
    expect([...grants(leader)].sort()).toEqual(needs(all.filter(isLeaseOperation)).sort());
    for (const rule of leader) {
      if (rule.verbs.some((v) => v === 'get' || v === 'update')) expect(rule.resourceNames).toEqual(['lifeguard-leader']);
    }
  });

  test('the audit-checkpoint Role grants exactly the ConfigMap calls, get and update only on the checkpoint ConfigMap', () => {
    expect([...grants(checkpoint)].sort()).toEqual(needs(all.filter(isCheckpointOperation)).sort());
    for (const rule of checkpoint) {
      if (rule.verbs.some((v) => v === 'get' || v === 'update')) expect(rule.resourceNames).toEqual([CHECKPOINT_CONFIGMAP]);
    }
    const binding = find('RoleBinding', 'lifeguard-audit-checkpoint') as { metadata: { namespace: string }; roleRef: { kind: string; name: string }; subjects: { name: string; namespace: string }[] } | undefined;
    expect(binding).toMatchObject({ metadata: { namespace: 'lifeguard' }, roleRef: { kind: 'Role', name: 'lifeguard-audit-checkpoint' }, subjects: [{ name: 'lifeguard', namespace: 'lifeguard' }] });
  });

  test('grants no secrets, no delete and no wildcards', () => {
    for (const rule of [...executor, ...leader, ...checkpoint]) {
      expect(rule.resources.some((r) => r.startsWith('secrets') || r.includes('*'))).toBe(false);
      expect(rule.verbs.some((v) => v === 'delete' || v === 'deletecollection' || v === '*')).toBe(false);
      expect(rule.apiGroups).not.toContain('*');
    }
  });

  test('binds the executor in every namespace the example config releases into', () => {
    const bound = manifests
      .filter((m) => m.doc.kind === 'RoleBinding' && (m.doc.roleRef as { name: string }).name === 'lifeguard-executor')
      .filter((m) => (m.doc.subjects as { kind: string; name: string; namespace: string }[]).some((s) => s.kind === 'ServiceAccount' && s.name === 'lifeguard' && s.namespace === 'lifeguard'))
      .map((m) => m.doc.metadata.namespace);
    const used = Object.values(exampleConfig.services).flatMap((s) => Object.values(s.environments).map((e) => e.namespace));
    expect([...new Set(bound)].sort()).toEqual([...new Set(used)].sort());
  });

  test('every operation succeeds against an API server enforcing these rules, and every grant is used', async () => {
    const boundIn = manifests.filter((m) => m.doc.kind === 'RoleBinding' && (m.doc.roleRef as { name: string }).name === 'lifeguard-executor').map((m) => m.doc.metadata.namespace!);
    const rbac: RbacRule[] = [...executor.map((r) => ({ ...r, namespaces: boundIn })), ...[...leader, ...checkpoint].map((r) => ({ ...r, namespaces: ['lifeguard'] }))];
    const f = await startFixture({ rbac });
    try {
      f.standin.apply(checkoutHttpRoute('shop'));
      const gateway = { ...f.production, settings: { ...f.production.settings, traffic: { gatewayApi: { httpRoute: 'checkout' } } } };
      await f.cluster.workloads.readState(f.production);
      await f.cluster.workloads.readState(f.staging);
      await f.cluster.workloads.setCanaryImage(f.production, `${CHECKOUT_IMAGE}:1.5.0`);
      await f.cluster.workloads.scaleCanary(f.production, 1);
      await f.cluster.traffic.set(f.production, 5);
      await f.cluster.traffic.set(gateway, 5);
      await f.cluster.traffic.set(f.staging, 50);
      await f.cluster.workloads.waitForRollout(f.production, 'canary', { timeoutMs: 5_000, pollMs: 20 });
      await f.cluster.workloads.gatherEvidence(f.production, { logLines: 10 });
      await f.cluster.workloads.promote(f.production);
      await f.cluster.workloads.rollback(f.production);

      // `lifeguard start` reads from watched copies instead: list and watch once, then no request per read.
      const watched = kubernetesCluster(exampleConfig, { reads: 'watch', kubeConfig: () => kubeConfigOf(f.kubeconfig) });
      await watched.workloads.readState(f.production);
      await watched.traffic.read(gateway);
      await watched.stop?.();

      const kc = new KubeConfig();
      kc.loadFromFile(f.kubeconfig);
      const election = new LeaseLeaderElection(kc, { namespace: 'lifeguard', name: 'lifeguard-leader', identity: 'lifeguard-0', leaseDurationMs: 1_000, renewDeadlineMs: 600, retryPeriodMs: 50 });
      election.start();
      for (let i = 0; i < 100 && !election.isLeader(); i++) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 150));
      expect(election.isLeader()).toBe(true);
      await election.stop({ release: true });

      const head = { id: 1, hash: 'a'.repeat(64) };
      const warnings: unknown[] = [];
      const publisher = new AuditCheckpoints({
        chain: { head: () => head, hashAt: (id) => (id === head.id ? head.hash : undefined) },
        clock: { now: () => new Date() },
        log: { info: () => {}, warn: (...args: unknown[]) => warnings.push(args), error: (...args: unknown[]) => warnings.push(args) } as never,
        remote: new ConfigMapCheckpoints(kc, { namespace: 'lifeguard' }),
      });
      await publisher.publish();
      await publisher.publish();
      expect(warnings).toEqual([]);

      expect(f.standin.requests.filter((r) => r.status === 403)).toEqual([]);
      const used = new Set(f.standin.requests.map((r) => `${r.verb} ${r.group}/${r.resource}`));
      expect([...used].sort()).toEqual(needs(all).sort());
    } finally {
      await f.standin.stop();
    }
  });
});
