import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { checkoutDeployment, CHECKOUT_IMAGE, settled } from '../../support/kube-standin/seed.js';
import { startFixture, type Fixture } from './fixture.js';
import { kubectl } from './kubectl.js';

let f: Fixture;
const k = (...args: string[]) => kubectl(f.kubeconfig, args);

beforeAll(async () => {
  f = await startFixture({ readyDelayMs: 20 });
});
afterAll(async () => {
  await f.standin.stop();
});

describe('the real kubectl against the stand-in', () => {
  test('get prints the server-side tables and honours -o jsonpath', async () => {
    const deployments = await k('-n', 'shop', 'get', 'deployments');
    expect(deployments.code).toBe(0);
    expect(deployments.stdout).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\ncheckout\s+3\/3\s+3\s+3\s+\d+s\ncheckout-canary\s+0\/0\s+0\s+0\s+\d+s\n$/);
    const image = await k('-n', 'shop', 'get', 'deploy', 'checkout', '-o', 'jsonpath={.spec.template.spec.containers[0].image}');
    expect(image.stdout).toBe(`${CHECKOUT_IMAGE}:1.4.2`);
    const vs = await k('-n', 'shop', 'get', 'virtualservices.networking.istio.io', 'checkout', '-o', 'jsonpath={.spec.http[0].route[*].weight}');
    expect(vs.stdout).toBe('100 0');
    const missing = await k('-n', 'shop', 'get', 'deploy', 'nope');
    expect(missing).toMatchObject({ code: 1, stderr: 'Error from server (NotFound): deployments.apps "nope" not found\n' });
  });

  test('patch in all three formats, and the error real clusters give for strategic merge on a custom resource', async () => {
    const strategic = await k('-n', 'shop-staging', 'patch', 'deploy', 'checkout-canary', '-p', `{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"${CHECKOUT_IMAGE}:1.5.0"}]}}}}`);
    expect(strategic).toMatchObject({ code: 0, stdout: 'deployment.apps/checkout-canary patched\n' });
    const containers = await k('-n', 'shop-staging', 'get', 'deploy', 'checkout-canary', '-o', 'jsonpath={.spec.template.spec.containers[*].image}');
    expect(containers.stdout).toBe(`${CHECKOUT_IMAGE}:1.5.0 registry.example.com/tools/statsd-exporter:0.26.0`);

    const merge = await k('-n', 'shop', 'patch', 'vs', 'checkout', '--type', 'merge', '-p', '{"metadata":{"labels":{"team":"payments"}}}');
    expect(merge).toMatchObject({ code: 0, stdout: 'virtualservice.networking.istio.io/checkout patched\n' });
    const json = await k('-n', 'shop', 'patch', 'vs', 'checkout', '--type', 'json', '-p', '[{"op":"replace","path":"/spec/http/0/route/0/weight","value":90},{"op":"replace","path":"/spec/http/0/route/1/weight","value":10}]');
    expect(json.code).toBe(0);
    expect(await f.cluster.traffic.read(f.production)).toEqual({ stable: 90, canary: 10, source: 'istio' });
    const unchanged = await k('-n', 'shop', 'patch', 'vs', 'checkout', '--type', 'merge', '-p', '{"metadata":{"labels":{"team":"payments"}}}');
    expect(unchanged.stdout).toBe('virtualservice.networking.istio.io/checkout patched (no change)\n');
    const strategicOnCrd = await k('-n', 'shop', 'patch', 'vs', 'checkout', '-p', '{"spec":{"hosts":["x"]}}');
    expect(strategicOnCrd.code).toBe(1);
    expect(strategicOnCrd.stderr).toContain('application/strategic-merge-patch+json is not supported by networking.istio.io/v1, Kind=VirtualService');
    const badTest = await k('-n', 'shop', 'patch', 'vs', 'checkout', '--type', 'json', '-p', '[{"op":"test","path":"/spec/hosts/0","value":"payments"}]');
    expect(badTest.code).toBe(1);
  });

  test('set image, rollout status, rollout history, rollout undo and undo --to-revision', async () => {
    const set = await k('-n', 'shop-staging', 'set', 'image', 'deployment/checkout', `app=${CHECKOUT_IMAGE}:1.5.0`);
    expect(set.stdout).toBe('deployment.apps/checkout image updated\n');
    const status = await k('-n', 'shop-staging', 'rollout', 'status', 'deployment/checkout', '--timeout=20s');
    expect(status.code).toBe(0);
    expect(status.stdout.trim().split('\n').at(-1)).toBe('deployment "checkout" successfully rolled out');

    const history = await k('-n', 'shop-staging', 'rollout', 'history', 'deployment/checkout');
    expect(history.stdout).toBe(['deployment.apps/checkout ', 'REVISION  CHANGE-CAUSE', '1         release 1.4.0', '2         release 1.4.1', '3         release 1.4.2', '4         release 1.4.2', '', ''].join('\n'));

    const undo = await k('-n', 'shop-staging', 'rollout', 'undo', 'deployment/checkout');
    expect(undo.stdout).toBe('deployment.apps/checkout rolled back\n');
    await settled(f.standin, 'shop-staging', 'checkout');
    const same = await k('-n', 'shop-staging', 'rollout', 'undo', 'deployment/checkout', '--to-revision=5');
    expect(same.stdout).toBe('deployment.apps/checkout skipped rollback (current template already matches revision 5)\n');
    const unknown = await k('-n', 'shop-staging', 'rollout', 'undo', 'deployment/checkout', '--to-revision=42');
    expect(unknown).toMatchObject({ code: 1, stderr: 'error: unable to find specified revision 42 in history\n' });
    const toFirst = await k('-n', 'shop-staging', 'rollout', 'undo', 'deployment/checkout', '--to-revision=1');
    expect(toFirst.code).toBe(0);
    await settled(f.standin, 'shop-staging', 'checkout');
    const state = await f.cluster.workloads.readState(f.staging);
    expect(state.history.map((r) => r.revision)).toEqual([6, 5, 4, 2]);
    expect(state.stable.image).toBe(`${CHECKOUT_IMAGE}:1.4.0`);
  });

  test('rollout status fails with the progress deadline when new pods never become ready', async () => {
    f.standin.apply(checkoutDeployment({ namespace: 'kubectl', name: 'checkout', track: 'stable', image: `${CHECKOUT_IMAGE}:1.4.2`, replicas: 2, progressDeadlineSeconds: 1 }));
    await settled(f.standin, 'kubectl', 'checkout');
    expect((await k('-n', 'kubectl', 'rollout', 'status', 'deployment/checkout', '--timeout=10s')).code).toBe(0);
    f.standin.breakImage(`${CHECKOUT_IMAGE}:2.0.0-broken`);
    await k('-n', 'kubectl', 'set', 'image', 'deployment/checkout', `app=${CHECKOUT_IMAGE}:2.0.0-broken`);
    const status = await k('-n', 'kubectl', 'rollout', 'status', 'deployment/checkout', '--timeout=15s');
    expect(status.code).toBe(1);
    expect(status.stderr).toBe('error: deployment "checkout" exceeded its progress deadline\n');
    const pods = await k('-n', 'kubectl', 'get', 'pods', '-l', 'app=checkout');
    expect(pods.stdout).toMatch(/checkout-\w+-\w+\s+1\/2\s+Running/);
    expect(pods.stdout).toMatch(/checkout-\w+-\w+\s+2\/2\s+Running/);
  });
});

describe('npm run kube-standin', () => {
  test('runs on its own, seeded with the example service, and prints its URL and a kubeconfig kubectl can use', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/kube-standin/main.ts', '--port', '0', '--ready-delay', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const lines = createInterface({ input: child.stdout! });
      let url = '';
      let kubeconfig = '';
      for await (const line of lines) {
        url ||= /^kube-standin listening on (http:\/\/\S+)$/.exec(line)?.[1] ?? '';
        kubeconfig ||= /^kubeconfig: (\S+)$/.exec(line)?.[1] ?? '';
        if (url && kubeconfig) break;
      }
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const context = await kubectl(kubeconfig, ['config', 'current-context']);
      expect(context.stdout).toBe('lifeguard-standin\n');
      for (const namespace of ['shop', 'shop-staging']) {
        const names = await kubectl(kubeconfig, ['-n', namespace, 'get', 'deploy', '-o', 'jsonpath={.items[*].metadata.name}']);
        expect(names.stdout).toBe('checkout checkout-canary');
      }
      const vs = await kubectl(kubeconfig, ['-n', 'shop', 'get', 'vs', '-o', 'name']);
      expect(vs.stdout).toBe('virtualservice.networking.istio.io/checkout\n');
    } finally {
      child.kill('SIGTERM');
    }
  });
});
