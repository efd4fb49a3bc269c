import { describe, expect, test } from 'vitest';
import { jsonPatch, mergePatch, PatchError, strategicMergePatch } from '../support/kube-standin/patch.js';

/** The stand-in's patch formats must behave as the API server's, or the adapter tests prove nothing. */

const deployment = {
  metadata: { labels: { app: 'checkout' } },
  spec: {
    replicas: 3,
    template: {
      spec: {
        containers: [
          { name: 'app', image: 'checkout:1', env: [{ name: 'A', value: '1' }] },
          { name: 'sidecar', image: 'exporter:1' },
        ],
      },
    },
  },
};

describe('merge patch (RFC 7386)', () => {
  test('replaces lists whole and deletes keys set to null', () => {
    expect(mergePatch(deployment, { metadata: { labels: { app: null, team: 'shop' } }, spec: { template: { spec: { containers: [{ name: 'app', image: 'checkout:2' }] } } } })).toEqual({
      metadata: { labels: { team: 'shop' } },
      spec: { replicas: 3, template: { spec: { containers: [{ name: 'app', image: 'checkout:2' }] } } },
    });
  });
});

describe('strategic merge patch', () => {
  test('merges containers by name, leaving the others and unpatched fields alone', () => {
    const patched = strategicMergePatch(deployment, { spec: { template: { spec: { containers: [{ name: 'app', image: 'checkout:2' }] } } } }) as typeof deployment;
    expect(patched.spec.template.spec.containers).toEqual([
      { name: 'app', image: 'checkout:2', env: [{ name: 'A', value: '1' }] },
      { name: 'sidecar', image: 'exporter:1' },
    ]);
  });

  test('honours $patch: delete in a merged list and $patch: replace on a map', () => {
    const deleted = strategicMergePatch(deployment, { spec: { template: { spec: { containers: [{ name: 'sidecar', $patch: 'delete' }] } } } }) as typeof deployment;
    expect(deleted.spec.template.spec.containers.map((c) => c.name)).toEqual(['app']);
    expect(strategicMergePatch(deployment, { metadata: { labels: { $patch: 'replace', tier: 'web' } } })).toMatchObject({ metadata: { labels: { tier: 'web' } } });
  });
});

describe('JSON patch (RFC 6902)', () => {
  test('applies add, replace, remove, move, copy and test in order', () => {
    const result = jsonPatch(deployment, [
      { op: 'test', path: '/spec/replicas', value: 3 },
      { op: 'replace', path: '/spec/replicas', value: 5 },
      { op: 'add', path: '/metadata/labels/team', value: 'shop' },
      { op: 'remove', path: '/metadata/labels/app' },
      { op: 'add', path: '/spec/template/spec/containers/-', value: { name: 'proxy', image: 'envoy:1' } },
      { op: 'copy', from: '/metadata/labels/team', path: '/metadata/labels/owner' },
      { op: 'move', from: '/metadata/labels/owner', path: '/metadata/labels/steward' },
    ]) as typeof deployment & { metadata: { labels: Record<string, string> } };
    expect(result.spec.replicas).toBe(5);
    expect(result.metadata.labels).toEqual({ team: 'shop', steward: 'shop' });
    expect(result.spec.template.spec.containers.map((c) => c.name)).toEqual(['app', 'sidecar', 'proxy']);
    expect(deployment.spec.replicas).toBe(3);
  });

  test('a failed test or a missing path rejects the whole patch with 422', () => {
    const failed = () => jsonPatch(deployment, [{ op: 'replace', path: '/spec/replicas', value: 9 }, { op: 'test', path: '/spec/replicas', value: 3 }]);
    expect(failed).toThrow(new PatchError('json patch: testing value /spec/replicas failed', 422));
    expect(() => jsonPatch(deployment, [{ op: 'replace', path: '/spec/paused', value: true }])).toThrow('json patch: path "/spec/paused" does not exist');
  });
});
