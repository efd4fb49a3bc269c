import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { kubernetesCluster } from '../../../src/adapters/kubernetes/cluster.js';
import { serviceTarget } from '../../../src/domain/cluster-state.js';
import { KubeStandin } from '../../support/kube-standin/server.js';
import { seedCheckout } from '../../support/kube-standin/seed.js';
import { exampleConfig } from './fixture.js';

let eu: KubeStandin;
let us: KubeStandin;
let dir: string;
let previous: string | undefined;

beforeAll(async () => {
  [eu, us] = await Promise.all([KubeStandin.start({ readyDelayMs: 0 }), KubeStandin.start({ readyDelayMs: 0 })]);
  await Promise.all([seedCheckout(eu), seedCheckout(us)]);
  dir = mkdtempSync(join(tmpdir(), 'lifeguard-multi-'));
  const file = join(dir, 'kubeconfig');
  const cluster = (name: string, url: string) => `- name: ${name}\n  cluster: { server: "${url}", insecure-skip-tls-verify: true }`;
  const context = (name: string) => `- name: ${name}\n  context: { cluster: ${name}, user: u }`;
  writeFileSync(
    file,
    ['apiVersion: v1', 'kind: Config', 'clusters:', cluster('staging-eu', eu.url), cluster('prod-us', us.url), 'users:', '- name: u\n  user: { token: t }', 'contexts:', context('staging-eu'), context('prod-us'), 'current-context: staging-eu', ''].join('\n'),
  );
  previous = process.env.KUBECONFIG;
  process.env.KUBECONFIG = file;
});
afterAll(async () => {
  if (previous === undefined) delete process.env.KUBECONFIG;
  else process.env.KUBECONFIG = previous;
  await Promise.all([eu.stop(), us.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

test('each environment is changed on the cluster, and through the kubeconfig context, its config names', async () => {
  const config = {
    clusters: { eu: { context: 'staging-eu' }, us: { context: 'prod-us' } },
    environments: {
      staging: { ...exampleConfig.environments.staging!, cluster: 'eu' },
      production: { ...exampleConfig.environments.production!, cluster: 'us' },
    },
  };
  const cluster = kubernetesCluster(config, { retry: { baseDelayMs: 5 } });
  await cluster.workloads.scaleCanary(serviceTarget(exampleConfig, 'checkout', 'staging'), 1);
  await cluster.traffic.set(serviceTarget(exampleConfig, 'checkout', 'production'), 25);
  const writes = (s: KubeStandin) => s.requests.filter((r) => r.method === 'PATCH').map((r) => `${r.namespace}/${r.resource}/${r.name}`);
  expect(writes(eu)).toEqual(['shop-staging/deployments/scale/checkout-canary']);
  expect(writes(us)).toEqual(['shop/virtualservices/checkout']);
});
