import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { DIR, loadManifests, type Manifest } from './manifest-files.js';
import { describe, expect, test } from 'vitest';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';

/**
 * Every Kubernetes manifest in manifests/ validated offline against the Kubernetes API's own
 * OpenAPI schemas, as shipped by the kubernetes-models package.
 */

interface ModelClass {
  new (data: never): { validate(): void };
}

/** The kubernetes-models class of each kind we ship; a new kind must be added here to be validated. */
const MODELS: Record<string, ModelClass> = {
  'apps/v1/Deployment': Deployment,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'v1/Namespace': Namespace,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
};

async function validate(doc: Manifest['doc']): Promise<void> {
  const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
  if (!Model) throw new Error(`no schema model for ${doc.apiVersion} ${doc.kind}: add it to MODELS`);
  new Model(doc as never).validate();
}

describe('manifests/', () => {
  const manifests = loadManifests();

  test('holds the objects Lifeguard needs to run', () => {
    expect(manifests.map((m) => `${m.doc.kind}/${m.doc.metadata.name}`).sort()).toEqual([
      'ClusterRole/lifeguard-executor',
      'Deployment/lifeguard',
      'Namespace/lifeguard',
      'PersistentVolumeClaim/lifeguard-data',
      'Role/lifeguard-audit-checkpoint',
      'Role/lifeguard-leader-election',
      'RoleBinding/lifeguard-audit-checkpoint',
      'RoleBinding/lifeguard-executor',
      'RoleBinding/lifeguard-executor',
      'RoleBinding/lifeguard-leader-election',
      'Service/lifeguard',
      'ServiceAccount/lifeguard',
    ]);
  });

  test.each(loadManifests().map((m) => [`${m.file}: ${m.doc.kind}/${m.doc.metadata.namespace ?? ''}/${m.doc.metadata.name}`, m] as const))('%s is valid against the Kubernetes schema', async (_name, m) => {
    await expect(validate(m.doc)).resolves.toBeUndefined();
  });

  test('the validation does reject an invalid object', async () => {
    const deployment = manifests.find((m) => m.doc.kind === 'Deployment')!.doc as unknown as { spec: Record<string, unknown> };
    await expect(validate({ ...deployment, spec: { ...deployment.spec, replicas: 'one' } } as unknown as Manifest['doc'])).rejects.toThrow(/replicas/);
    await expect(validate({ ...deployment, spec: { ...deployment.spec, selector: undefined } } as unknown as Manifest['doc'])).rejects.toThrow(/selector/);
  });

  test('kustomization.yaml applies every manifest', () => {
    const kustomization = parseAllDocuments(readFileSync(join(DIR, 'kustomization.yaml'), 'utf8'))[0]!.toJS() as { resources: string[] };
    expect([...kustomization.resources].sort()).toEqual([...new Set(manifests.map((m) => m.file))].sort());
  });

  test('the Deployment runs one replica, probes /healthz and /readyz, and mounts the database volume', () => {
    const d = manifests.find((m) => m.doc.kind === 'Deployment')!.doc as unknown as {
      spec: { replicas: number; template: { spec: { serviceAccountName: string; containers: { livenessProbe: { httpGet: { path: string } }; readinessProbe: { httpGet: { path: string } }; volumeMounts: { name: string; mountPath: string }[]; env: { name: string; value?: string }[] }[]; volumes: { name: string; persistentVolumeClaim?: { claimName: string } }[] } } };
    };
    const container = d.spec.template.spec.containers[0]!;
    expect(d.spec.replicas).toBe(1);
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    expect(d.spec.template.spec.serviceAccountName).toBe('lifeguard');
    const db = container.env.find((e) => e.name === 'LIFEGUARD_DB')!.value!;
    const dataMount = container.volumeMounts.find((v) => db.startsWith(`${v.mountPath}/`))!;
    const pvc = manifests.find((m) => m.doc.kind === 'PersistentVolumeClaim')!.doc.metadata.name;
    expect(d.spec.template.spec.volumes.find((v) => v.name === dataMount.name)?.persistentVolumeClaim?.claimName).toBe(pvc);
  });

  test('the Deployment keys the audit chain from a Secret it does not ship, so applying the manifests never replaces the key', () => {
    const d = manifests.find((m) => m.doc.kind === 'Deployment')!.doc as unknown as {
      spec: { template: { spec: { containers: { env: { name: string; valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } } }[] }[] } } };
    };
    const key = d.spec.template.spec.containers[0]!.env.find((e) => e.name === 'LIFEGUARD_AUDIT_KEY');
    expect(key?.valueFrom?.secretKeyRef).toEqual({ name: 'lifeguard-audit-key', key: 'LIFEGUARD_AUDIT_KEY' });
    expect(manifests.filter((m) => m.doc.kind === 'Secret')).toEqual([]);
  });
});
