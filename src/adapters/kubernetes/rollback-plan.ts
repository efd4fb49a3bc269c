import type { V1Deployment, V1PodTemplateSpec, V1ReplicaSet } from '@kubernetes/client-node';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const CHANGE_CAUSE_ANNOTATION = 'kubernetes.io/change-cause';
const HASH_LABEL = 'pod-template-hash';

export const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history';

export const revisionOf = (o: { metadata?: { annotations?: Record<string, string> } }) => Number(o.metadata?.annotations?.[REVISION_ANNOTATION] ?? 0);

/** Revisions a ReplicaSet used to have before a rollback gave it a new one. */
const formerRevisions = (rs: V1ReplicaSet) => (rs.metadata?.annotations?.[REVISION_HISTORY_ANNOTATION] ?? '').split(',').filter(Boolean).map(Number);

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

export const sameTemplate = (a: V1PodTemplateSpec | undefined, b: V1PodTemplateSpec | undefined) => canonical(templateWithoutHash(a)) === canonical(templateWithoutHash(b));

export type RollbackPlan =
  | { kind: 'rollback'; from: number; to: number; replicaSet: V1ReplicaSet }
  | { kind: 'no-op'; revision: number; message: string }
  | { kind: 'unknown'; message: string };

/**
 * Chooses the ReplicaSet to roll back to with `kubectl rollout undo` semantics: the previous
 * revision by default, or `toRevision`; the current template already matching it is a no-op.
 */
export function planRollback(deployment: V1Deployment, replicaSets: V1ReplicaSet[], toRevision?: number): RollbackPlan {
  const name = `${deployment.metadata?.namespace}/${deployment.metadata?.name}`;
  const revisions = replicaSets.map(revisionOf).filter((r) => r > 0).sort((a, b) => a - b);
  const current = revisionOf(deployment);
  let target: V1ReplicaSet | undefined;
  if (toRevision === undefined || toRevision === 0) {
    const previous = revisions.filter((r) => r !== current).pop();
    if (previous === undefined) return { kind: 'unknown', message: `Deployment ${name} has no previous revision to roll back to (revisions: ${revisions.join(', ') || 'none'})` };
    target = replicaSets.find((rs) => revisionOf(rs) === previous);
  } else {
    // A rolled-back-to ReplicaSet takes the next revision number and remembers its old one, so a
    // repeated "roll back to 2" finds revision 2 under its new number and becomes a no-op.
    target = replicaSets.find((rs) => revisionOf(rs) === toRevision) ?? replicaSets.find((rs) => formerRevisions(rs).includes(toRevision));
    if (!target) {
      return { kind: 'unknown', message: `Deployment ${name} has no revision ${toRevision}; the revisions it has are ${revisions.join(', ') || 'none'} (current: ${current})` };
    }
  }
  const to = revisionOf(target!);
  if (sameTemplate(target!.spec?.template, deployment.spec?.template)) {
    const renumbered = toRevision && toRevision !== to ? `revision ${toRevision}, now revision ${to}` : `revision ${to}`;
    return { kind: 'no-op', revision: to, message: `Deployment ${name} already runs ${renumbered}'s template (current revision ${current}); nothing to roll back` };
  }
  return { kind: 'rollback', from: current, to, replicaSet: target! };
}
