import type { KubeObject } from './store.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- reading free-form status fields */

function age(created: string, now: Date): string {
  const s = Math.max(0, Math.floor((now.getTime() - Date.parse(created)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

type Column = [name: string, value: (o: any) => string | number];

const COLUMNS: Record<string, Column[]> = {
  Deployment: [
    ['Ready', (o) => `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 0}`],
    ['Up-to-date', (o) => o.status?.updatedReplicas ?? 0],
    ['Available', (o) => o.status?.availableReplicas ?? 0],
  ],
  ReplicaSet: [
    ['Desired', (o) => o.spec?.replicas ?? 0],
    ['Current', (o) => o.status?.replicas ?? 0],
    ['Ready', (o) => o.status?.readyReplicas ?? 0],
  ],
  Pod: [
    ['Ready', (o) => `${(o.status?.containerStatuses ?? []).filter((c: any) => c.ready).length}/${(o.spec?.containers ?? []).length}`],
    ['Status', (o) => o.status?.phase ?? 'Unknown'],
    ['Restarts', (o) => (o.status?.containerStatuses ?? []).reduce((n: number, c: any) => n + (c.restartCount ?? 0), 0)],
  ],
  Lease: [['Holder', (o) => o.spec?.holderIdentity ?? '']],
  ConfigMap: [['Data', (o) => Object.keys(o.data ?? {}).length + Object.keys(o.binaryData ?? {}).length]],
  Event: [
    ['Type', (o) => o.type ?? ''],
    ['Reason', (o) => o.reason ?? ''],
    ['Object', (o) => `${String(o.involvedObject?.kind ?? '').toLowerCase()}/${o.involvedObject?.name ?? ''}`],
    ['Message', (o) => o.message ?? ''],
  ],
};

/** The server-side printing `kubectl get` asks for with `Accept: application/json;as=Table;g=meta.k8s.io;v=v1`. */
export function toTable(kind: string, items: KubeObject[], resourceVersion: string, now: Date): unknown {
  const columns: Column[] = [['Name', (o) => o.metadata.name], ...(COLUMNS[kind] ?? []), ['Age', (o) => age(o.metadata.creationTimestamp, now)]];
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion },
    columnDefinitions: columns.map(([name], i) => ({ name, type: typeof columns[i]![1] === 'number' ? 'integer' : 'string', format: name === 'Name' ? 'name' : '', description: name, priority: 0 })),
    rows: items.map((o) => ({
      cells: columns.map(([, value]) => value(o)),
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
    })),
  };
}
