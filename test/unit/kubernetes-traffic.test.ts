import { describe, expect, test } from 'vitest';
import { ISTIO } from '../../src/adapters/kubernetes/traffic/istio.js';
import { replicaSplit } from '../../src/domain/traffic-split.js';
import { readWeights, weightedRoutes, type RouteDoc } from '../../src/adapters/kubernetes/traffic/weighted-routes.js';
import { loadConfig } from '../../src/config/load.js';

const settings = loadConfig('lifeguard.example.yaml', {}).services.checkout!.environments.production!;

describe('replica-ratio traffic', () => {
  test('keeps the total and gives each side at least one pod while both serve', () => {
    expect(replicaSplit(3, 0, 5)).toEqual({ stable: 2, canary: 1 });
    expect(replicaSplit(4, 0, 50)).toEqual({ stable: 2, canary: 2 });
    expect(replicaSplit(9, 1, 25)).toEqual({ stable: 7, canary: 3 });
    expect(replicaSplit(2, 2, 0)).toEqual({ stable: 4, canary: 0 });
    expect(replicaSplit(3, 1, 100)).toEqual({ stable: 0, canary: 4 });
  });

  test('grows a single-pod service to two pods rather than leave one side empty', () => {
    expect(replicaSplit(1, 0, 5)).toEqual({ stable: 1, canary: 1 });
    expect(replicaSplit(0, 0, 0)).toEqual({ stable: 1, canary: 0 });
  });
});

describe('Istio routes', () => {
  const vs = (route: { destination: { host: string; subset?: string }; weight?: number }[]): RouteDoc => ({ metadata: { name: 'checkout', namespace: 'shop' }, spec: { http: [{ name: 'primary', route }] } });

  test('knows the canary by subset or by host named after the canary Deployment', () => {
    expect(readWeights(weightedRoutes(ISTIO, vs([{ destination: { host: 'checkout', subset: 'stable' }, weight: 80 }, { destination: { host: 'checkout', subset: 'canary' }, weight: 20 }]), settings, undefined))).toEqual({ stable: 80, canary: 20 });
    expect(readWeights(weightedRoutes(ISTIO, vs([{ destination: { host: 'checkout.shop.svc.cluster.local' }, weight: 90 }, { destination: { host: 'checkout-canary.shop.svc.cluster.local' }, weight: 10 }]), settings, undefined))).toEqual({ stable: 90, canary: 10 });
  });

  test('refuses a route without a canary destination, saying what to add', () => {
    expect(() => weightedRoutes(ISTIO, vs([{ destination: { host: 'checkout' } }]), settings, undefined)).toThrow(
      'VirtualService shop/checkout has no route with both a stable and a canary destination: add a destination with subset "canary" (or host "checkout-canary") with weight 0 next to the stable one',
    );
  });
});
