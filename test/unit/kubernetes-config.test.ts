import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { kubeConfigFor } from '../../src/adapters/kubernetes/kubeconfig.js';
import { kubernetesCluster } from '../../src/adapters/kubernetes/cluster.js';
import { serviceTarget } from '../../src/domain/cluster-state.js';
import { loadConfig } from '../../src/config/load.js';

const config = loadConfig('lifeguard.example.yaml', {});
let dir: string;
let previous: string | undefined;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lifeguard-kubeconfig-'));
  const file = join(dir, 'config');
  writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{ name: eu1, cluster: { server: "https://eu1.example:6443" } }, { name: us1, cluster: { server: "https://us1.example:6443" } }]',
      'users: [{ name: u, user: { token: t } }]',
      'contexts: [{ name: prod-eu1, context: { cluster: eu1, user: u } }, { name: lifeguard-standin, context: { cluster: us1, user: u } }]',
      'current-context: prod-eu1',
      '',
    ].join('\n'),
  );
  previous = process.env.KUBECONFIG;
  process.env.KUBECONFIG = file;
});
afterAll(() => {
  if (previous === undefined) delete process.env.KUBECONFIG;
  else process.env.KUBECONFIG = previous;
  rmSync(dir, { recursive: true, force: true });
});

describe('choosing a cluster per environment', () => {
  test('uses the context the cluster names, not the current one', () => {
    const kc = kubeConfigFor(config, 'prod', {});
    expect(kc.getCurrentContext()).toBe('lifeguard-standin');
    expect(kc.getCurrentCluster()?.server).toBe('https://us1.example:6443');
  });

  test('a context missing from the kubeconfig lists those that exist', () => {
    const other = { clusters: { prod: { context: 'prod-us9' } } };
    expect(() => kubeConfigFor(other, 'prod', { KUBECONFIG: process.env.KUBECONFIG })).toThrow(
      `clusters.prod.context: context "prod-us9" is not in the kubeconfig (KUBECONFIG=${process.env.KUBECONFIG}); it has prod-eu1, lifeguard-standin`,
    );
  });

  test('no context means in-cluster config, which needs to run in a cluster', () => {
    expect(() => kubeConfigFor({ clusters: { home: {} } }, 'home', {})).toThrow(
      'clusters.home names no context, so Lifeguard uses its in-cluster ServiceAccount, but it is not running in a cluster (KUBERNETES_SERVICE_HOST is not set): run it in the cluster or set clusters.home.context',
    );
  });

  test('an unknown environment is refused before any cluster is contacted', async () => {
    const cluster = kubernetesCluster(config, {
      kubeConfig: () => {
        throw new Error('must not be asked');
      },
    });
    const target = serviceTarget(config, 'checkout', 'production');
    await expect(cluster.traffic.read({ ...target, environment: 'qa' })).rejects.toThrow('unknown environment "qa": lifeguard.yaml defines staging, production');
    await expect(cluster.workloads.scaleCanary(target, -2)).rejects.toThrow('canary replicas must be a whole number of 0 or more, got -2');
  });

  test('serviceTarget names what exists when asked for something that does not', () => {
    expect(() => serviceTarget(config, 'payments', 'production')).toThrow('unknown service "payments": lifeguard.yaml defines checkout');
    expect(() => serviceTarget(config, 'checkout', 'qa')).toThrow('service "checkout" has no environment "qa": it is configured for staging, production');
  });
});
