import { PatchStrategy, type V1Deployment, type V1ReplicaSet, type V1Scale } from '@kubernetes/client-node';
import type { DeploymentState, Revision, ServiceTarget, Track } from '../../domain/cluster-state.js';
import type { ClusterApis } from './apis.js';
import { ClusterError, type Subject } from './errors.js';
import { CHANGE_CAUSE_ANNOTATION, formerRevisions, revisionOf, templateFingerprint } from './revisions.js';
import type { ReadOptions } from './object-reads.js';
import { DEPLOYMENTS, REPLICA_SETS } from './watched-resources.js';

export const timestamp = (value: unknown) => (value instanceof Date ? value.toISOString() : value ? String(value) : '');

/** Reads and scales a service's stable and canary Deployments; shared by the workloads and the replica-ratio router. */
export class Deployments {
  constructor(private readonly apis: ClusterApis) {}

  subject(target: ServiceTarget, track: Track): Subject & { name: string } {
    const { namespace } = target.settings;
    return { kind: 'Deployment', namespace, name: target.settings[track], configPath: `services.${target.service}.environments.${target.environment}.${track}` };
  }

  /** The Deployment as the API server's JSON, which keeps fields newer than client-node's typed models. */
  read(target: ServiceTarget, track: Track, opts: ReadOptions = {}): Promise<V1Deployment> {
    return this.apis.readsFor(target).get<V1Deployment>(DEPLOYMENTS, this.subject(target, track), opts);
  }

  /** Waits until reads show the write that left the Deployment at `resourceVersion`. */
  observed(target: ServiceTarget, track: Track, resourceVersion: string | undefined): Promise<void> {
    return this.apis.readsFor(target).observed(DEPLOYMENTS, target.settings.namespace, target.settings[track], resourceVersion);
  }

  readBoth(target: ServiceTarget, opts: ReadOptions = {}): Promise<[V1Deployment, V1Deployment]> {
    return Promise.all([this.read(target, 'stable', opts), this.read(target, 'canary', opts)]);
  }

  /** The ReplicaSets the Deployment controls: its revisions. */
  async replicaSets(target: ServiceTarget, deployment: V1Deployment, opts: ReadOptions = {}): Promise<V1ReplicaSet[]> {
    return this.apis.readsFor(target).list<V1ReplicaSet>(
      REPLICA_SETS,
      target.settings.namespace,
      { labels: deployment.spec?.selector?.matchLabels, controllerUid: deployment.metadata?.uid ?? '' },
      opts,
    );
  }

  async scale(target: ServiceTarget, track: Track, replicas: number): Promise<void> {
    const api = this.apis.for(target);
    const subject = this.subject(target, track);
    const scale: V1Scale = await api.call('patchDeploymentScale', subject, () =>
      api.apps.patchNamespacedDeploymentScale({ name: subject.name, namespace: subject.namespace, body: { spec: { replicas } } }, api.options(PatchStrategy.MergePatch)),
    );
    await this.observed(target, track, scale.metadata?.resourceVersion);
  }

  /** The image of the container lifeguard.yaml names; a Deployment without that container is a config mistake. */
  containerImage(target: ServiceTarget, track: Track, d: V1Deployment): string {
    const containers = d.spec?.template?.spec?.containers ?? [];
    const container = containers.find((c) => c.name === target.settings.container);
    if (!container?.image) {
      throw new ClusterError(
        'config',
        `Deployment ${target.settings.namespace}/${target.settings[track]} has no container "${target.settings.container}" (it has ${containers.map((c) => c.name).join(', ') || 'none'}): check services.${target.service}.environments.${target.environment}.container in lifeguard.yaml`,
      );
    }
    return container.image;
  }

  state(target: ServiceTarget, track: Track, d: V1Deployment): DeploymentState {
    const status = d.status ?? {};
    return {
      namespace: target.settings.namespace,
      name: target.settings[track],
      image: this.containerImage(target, track, d),
      images: Object.fromEntries((d.spec?.template?.spec?.containers ?? []).map((c) => [c.name, c.image ?? ''])),
      replicas: { desired: d.spec?.replicas ?? 1, current: status.replicas ?? 0, updated: status.updatedReplicas ?? 0, ready: status.readyReplicas ?? 0, available: status.availableReplicas ?? 0 },
      revision: revisionOf(d),
      generation: d.metadata?.generation ?? 0,
      observedGeneration: status.observedGeneration ?? 0,
      paused: d.spec?.paused ?? false,
      conditions: (status.conditions ?? []).map((c) => ({
        type: c.type,
        status: c.status as 'True' | 'False' | 'Unknown',
        ...(c.reason ? { reason: c.reason } : {}),
        ...(c.message ? { message: c.message } : {}),
        ...(c.lastUpdateTime ? { lastUpdateTime: timestamp(c.lastUpdateTime) } : {}),
      })),
      template: templateFingerprint(d.spec?.template),
    };
  }

  /** `kubectl rollout history`: the Deployment's ReplicaSets as revisions, newest first. */
  revisions(replicaSets: V1ReplicaSet[]): Revision[] {
    return replicaSets
      .map((rs) => ({
        revision: revisionOf(rs),
        replicaSet: rs.metadata?.name ?? '',
        images: Object.fromEntries((rs.spec?.template?.spec?.containers ?? []).map((c) => [c.name, c.image ?? ''])),
        createdAt: timestamp(rs.metadata?.creationTimestamp),
        ...(rs.metadata?.annotations?.[CHANGE_CAUSE_ANNOTATION] ? { changeCause: rs.metadata.annotations[CHANGE_CAUSE_ANNOTATION] } : {}),
        replicas: rs.status?.replicas ?? 0,
        formerRevisions: formerRevisions(rs),
        template: templateFingerprint(rs.spec?.template),
      }))
      .filter((r) => r.revision > 0)
      .sort((a, b) => b.revision - a.revision);
  }
}
