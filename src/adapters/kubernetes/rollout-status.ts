import type { V1Deployment } from '@kubernetes/client-node';
import type { RolloutProgress } from '../../domain/cluster-state.js';

export type RolloutState = { state: 'progressing' | 'complete'; progress: RolloutProgress } | { state: 'failed'; reason: string; progress: RolloutProgress };

/** Judges a Deployment's rollout the way `kubectl rollout status` does, with the same messages. */
export function rolloutState(d: V1Deployment): RolloutState {
  const name = d.metadata?.name ?? '';
  const generation = d.metadata?.generation ?? 0;
  const status = d.status ?? {};
  const observedGeneration = status.observedGeneration ?? 0;
  const desired = d.spec?.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  const ready = status.readyReplicas ?? 0;
  const available = status.availableReplicas ?? 0;
  const total = status.replicas ?? 0;
  const base = { deployment: name, generation, observedGeneration, desired, updated, ready, available };
  if (observedGeneration < generation) {
    return { state: 'progressing', progress: { ...base, message: `Waiting for deployment spec update to be observed...` } };
  }
  const progressing = status.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    const detail = progressing.message ? `: ${progressing.message}` : '';
    return { state: 'failed', reason: 'ProgressDeadlineExceeded', progress: { ...base, message: `deployment "${name}" exceeded its progress deadline${detail}` } };
  }
  if (updated < desired) {
    return { state: 'progressing', progress: { ...base, message: `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${desired} new replicas have been updated...` } };
  }
  if (total > updated) {
    return { state: 'progressing', progress: { ...base, message: `Waiting for deployment "${name}" rollout to finish: ${total - updated} old replicas are pending termination...` } };
  }
  if (available < updated) {
    return { state: 'progressing', progress: { ...base, message: `Waiting for deployment "${name}" rollout to finish: ${available} of ${updated} updated replicas are available...` } };
  }
  return { state: 'complete', progress: { ...base, message: `deployment "${name}" successfully rolled out` } };
}
