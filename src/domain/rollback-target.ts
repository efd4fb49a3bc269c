import * as z from 'zod';
import type { ServiceState } from './cluster-state.js';

export const rollbackTargetSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('rollback'), from: z.number().int(), to: z.number().int(), image: z.string(), fromImage: z.string() }),
  z.object({ kind: z.literal('no-op'), revision: z.number().int(), message: z.string() }),
  z.object({ kind: z.literal('unknown'), message: z.string() }),
]);
export type RollbackTarget = z.infer<typeof rollbackTargetSchema>;

/**
 * Where `kubectl rollout undo [--to-revision]` would take the stable Deployment: the previous revision by
 * default, or `toRevision`; a target whose template already runs is a no-op. The rollback card and the
 * Kubernetes rollback itself both ask this one function over their read of the cluster, so what a card promises
 * is what happens.
 */
export function rollbackTarget(state: Pick<ServiceState, 'stable' | 'history'>, container: string, toRevision?: number): RollbackTarget {
  const name = `${state.stable.namespace}/${state.stable.name}`;
  const current = state.stable.revision;
  const revisions = state.history.map((r) => r.revision).sort((a, b) => a - b);
  let target;
  if (toRevision === undefined || toRevision === 0) {
    const previous = revisions.filter((r) => r !== current).pop();
    if (previous === undefined) return { kind: 'unknown', message: `Deployment ${name} has no previous revision to roll back to (revisions: ${revisions.join(', ') || 'none'})` };
    target = state.history.find((r) => r.revision === previous)!;
  } else {
    // A rolled-back-to ReplicaSet takes the next revision number and remembers its old one, so a
    // repeated "roll back to 2" finds revision 2 under its new number and becomes a no-op.
    target = state.history.find((r) => r.revision === toRevision) ?? state.history.find((r) => r.formerRevisions.includes(toRevision));
    if (!target) {
      return { kind: 'unknown', message: `Deployment ${name} has no revision ${toRevision}; the revisions it has are ${revisions.join(', ') || 'none'} (current: ${current})` };
    }
  }
  if (target.template === state.stable.template) {
    const renumbered = toRevision && toRevision !== target.revision ? `revision ${toRevision}, now revision ${target.revision}` : `revision ${target.revision}`;
    return { kind: 'no-op', revision: target.revision, message: `Deployment ${name} already runs ${renumbered}'s template (current revision ${current}); nothing to roll back` };
  }
  return { kind: 'rollback', from: current, to: target.revision, image: target.images[container] ?? Object.values(target.images)[0] ?? '', fromImage: state.stable.image };
}
