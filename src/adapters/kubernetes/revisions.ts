import { createHash } from 'node:crypto';
import type { V1PodTemplateSpec, V1ReplicaSet } from '@kubernetes/client-node';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const CHANGE_CAUSE_ANNOTATION = 'kubernetes.io/change-cause';
export const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history';
const HASH_LABEL = 'pod-template-hash';

export const revisionOf = (o: { metadata?: { annotations?: Record<string, string> } }) => Number(o.metadata?.annotations?.[REVISION_ANNOTATION] ?? 0);

/** Revisions a ReplicaSet used to have before a rollback gave it a new one. */
export const formerRevisions = (rs: V1ReplicaSet) => (rs.metadata?.annotations?.[REVISION_HISTORY_ANNOTATION] ?? '').split(',').filter(Boolean).map(Number);

/** A pod template without the `pod-template-hash` label the controller adds to a ReplicaSet's copy. */
export function templateWithoutHash(template: V1PodTemplateSpec | undefined): V1PodTemplateSpec {
  const copy = structuredClone(template ?? {});
  if (copy.metadata?.labels) delete copy.metadata.labels[HASH_LABEL];
  return copy;
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined && x !== null).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
}

/**
 * Identifies a pod template as the deployment controller does when it decides whether a rollback changes
 * anything: equal templates, ignoring the hash label and empty fields, give equal fingerprints.
 */
export function templateFingerprint(template: V1PodTemplateSpec | undefined): string {
  if (!template) return fingerprint(template);
  // A watched copy is frozen and read every tick: its fingerprint is worked out once.
  let known = fingerprints.get(template);
  if (known === undefined) {
    known = fingerprint(template);
    if (Object.isFrozen(template)) fingerprints.set(template, known);
  }
  return known;
}

const fingerprints = new WeakMap<V1PodTemplateSpec, string>();
const fingerprint = (template: V1PodTemplateSpec | undefined) => createHash('sha256').update(canonical(templateWithoutHash(template))).digest('hex').slice(0, 16);
