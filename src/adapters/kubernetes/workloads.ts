import { PatchStrategy } from '@kubernetes/client-node';
import type { RollbackResult, RolloutProgress, RolloutResult, ServiceState, ServiceTarget, Track } from '../../domain/cluster-state.js';
import type { Evidence, TrafficRouter, Workloads } from '../../ports.js';
import type { ClusterApis } from './apis.js';
import type { Deployments } from './deployments.js';
import { ClusterError } from './errors.js';
import { gatherEvidence } from './evidence.js';
import { rollbackTarget } from '../../domain/rollback-target.js';
import { CHANGE_CAUSE_ANNOTATION, revisionOf, templateWithoutHash } from './revisions.js';
import { rolloutState } from './rollout-status.js';

/** `~1` escapes `/` in a JSON pointer. */
const pointerKey = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * JSON patch operations that give the Deployment the change-cause of the ReplicaSet it rolls back
 * to, as `kubectl rollout undo` does, so `kubectl rollout history` reads the same afterwards
 * whichever of the two rolled back.
 */
function changeCauseOps(annotations: Record<string, string> | undefined, causeThen: string | undefined): object[] {
  const path = `/metadata/annotations/${pointerKey(CHANGE_CAUSE_ANNOTATION)}`;
  if (causeThen === undefined) return annotations?.[CHANGE_CAUSE_ANNOTATION] === undefined ? [] : [{ op: 'remove', path }];
  if (!annotations) return [{ op: 'add', path: '/metadata/annotations', value: { [CHANGE_CAUSE_ANNOTATION]: causeThen } }];
  return [{ op: 'add', path, value: causeThen }];
}

/** The Workloads port on real clusters: a service's Deployments, written as an SRE would with kubectl. */
export class KubernetesWorkloads implements Workloads {
  constructor(
    private readonly apis: ClusterApis,
    private readonly deployments: Deployments,
    /** Fills in the traffic split of `readState`. */
    private readonly traffic: TrafficRouter,
  ) {}

  async readState(target: ServiceTarget): Promise<ServiceState> {
    const [[stable, canary], traffic] = await Promise.all([this.deployments.readBoth(target), this.traffic.read(target)]);
    const replicaSets = await this.deployments.replicaSets(target, stable);
    return {
      service: target.service,
      environment: target.environment,
      stable: this.deployments.state(target, 'stable', stable),
      canary: this.deployments.state(target, 'canary', canary),
      history: this.deployments.revisions(replicaSets),
      traffic,
    };
  }

  async scaleCanary(target: ServiceTarget, replicas: number): Promise<void> {
    if (!Number.isInteger(replicas) || replicas < 0) throw new ClusterError('config', `canary replicas must be a whole number of 0 or more, got ${replicas}`);
    await this.deployments.scale(target, 'canary', replicas);
  }

  /** Sets the configured container's image as `kubectl set image` does, refusing to add a container by mistake. */
  private async setImage(target: ServiceTarget, track: Track, image: string, changeCause: string | undefined): Promise<{ changed: boolean }> {
    if (!/^[^\s]+$/.test(image)) throw new ClusterError('config', `not an image reference: "${image}"`);
    const api = this.apis.for(target);
    const subject = this.deployments.subject(target, track);
    return api.retryOnConflict(subject, async () => {
      const d = await this.deployments.read(target, track, { fresh: true });
      const current = this.deployments.containerImage(target, track, d);
      const causeNow = d.metadata?.annotations?.[CHANGE_CAUSE_ANNOTATION];
      if (current === image && (changeCause === undefined || causeNow === changeCause)) return { changed: false };
      const body = {
        metadata: { resourceVersion: d.metadata?.resourceVersion, ...(changeCause ? { annotations: { [CHANGE_CAUSE_ANNOTATION]: changeCause } } : {}) },
        spec: { template: { spec: { containers: [{ name: target.settings.container, image }] } } },
      };
      const patched = await api.call('patchDeployment', subject, () =>
        api.apps.patchNamespacedDeployment({ name: subject.name, namespace: subject.namespace, body }, api.options(PatchStrategy.StrategicMergePatch)),
      );
      await this.deployments.observed(target, track, patched.metadata?.resourceVersion);
      return { changed: current !== image };
    });
  }

  setCanaryImage(target: ServiceTarget, image: string, opts: { changeCause?: string } = {}): Promise<{ changed: boolean }> {
    return this.setImage(target, 'canary', image, opts.changeCause);
  }

  setStableImage(target: ServiceTarget, image: string, opts: { changeCause?: string } = {}): Promise<{ changed: boolean }> {
    return this.setImage(target, 'stable', image, opts.changeCause);
  }

  async promote(target: ServiceTarget, opts: { changeCause?: string } = {}): Promise<{ image: string; changed: boolean }> {
    const canary = await this.deployments.read(target, 'canary', { fresh: true });
    const image = this.deployments.containerImage(target, 'canary', canary);
    const { changed } = await this.setImage(target, 'stable', image, opts.changeCause);
    return { image, changed };
  }

  async rollback(target: ServiceTarget, opts: { toRevision?: number } = {}): Promise<RollbackResult> {
    const api = this.apis.for(target);
    const subject = this.deployments.subject(target, 'stable');
    const deploymentName = `${subject.namespace}/${subject.name}`;
    return api.retryOnConflict(subject, async () => {
      const d = await this.deployments.read(target, 'stable', { fresh: true });
      if (d.spec?.paused) {
        throw new ClusterError('state', `Deployment ${deploymentName} is paused; resume it first (kubectl -n ${subject.namespace} rollout resume deployment/${subject.name}) and roll back again`);
      }
      const replicaSets = await this.deployments.replicaSets(target, d, { fresh: true });
      const plan = rollbackTarget({ stable: this.deployments.state(target, 'stable', d), history: this.deployments.revisions(replicaSets) }, target.settings.container, opts.toRevision);
      if (plan.kind === 'unknown') throw new ClusterError('state', plan.message);
      if (plan.kind === 'no-op') return { outcome: 'no-op', deployment: deploymentName, revision: plan.revision, message: plan.message };
      const replicaSet = replicaSets.find((rs) => revisionOf(rs) === plan.to)!;
      const template = templateWithoutHash(replicaSet.spec?.template);
      const causeOps = changeCauseOps(d.metadata?.annotations, replicaSet.metadata?.annotations?.[CHANGE_CAUSE_ANNOTATION]);
      const body = [{ op: 'replace', path: '/metadata/resourceVersion', value: d.metadata?.resourceVersion }, { op: 'replace', path: '/spec/template', value: template }, ...causeOps];
      const patched = await api.call('patchDeployment', subject, () => api.apps.patchNamespacedDeployment({ name: subject.name, namespace: subject.namespace, body }, api.options(PatchStrategy.JsonPatch)));
      await this.deployments.observed(target, 'stable', patched.metadata?.resourceVersion);
      const image = template.spec?.containers?.find((c) => c.name === target.settings.container)?.image ?? '';
      return {
        outcome: 'rolled-back',
        deployment: deploymentName,
        fromRevision: plan.from,
        toRevision: plan.to,
        image,
        message: `Deployment ${deploymentName} rolled back from revision ${plan.from} to revision ${plan.to}'s template (${image}); the controller records it as the next revision`,
      };
    });
  }

  async waitForRollout(
    target: ServiceTarget,
    track: Track,
    opts: { timeoutMs: number; pollMs?: number; onProgress?: (progress: RolloutProgress) => void; signal?: AbortSignal },
  ): Promise<RolloutResult> {
    const deadline = Date.now() + opts.timeoutMs;
    const pollMs = opts.pollMs ?? 1_000;
    let lastMessage = '';
    let last: RolloutProgress | undefined;
    for (;;) {
      if (opts.signal?.aborted) return { outcome: 'aborted', message: `stopped waiting for ${target.settings[track]}: ${String(opts.signal.reason ?? 'aborted')}`, progress: last ?? this.noProgress(target, track) };
      const state = rolloutState(await this.deployments.read(target, track));
      last = state.progress;
      if (state.progress.message !== lastMessage) {
        lastMessage = state.progress.message;
        opts.onProgress?.(state.progress);
      }
      if (state.state === 'complete') return { outcome: 'complete', message: state.progress.message, progress: state.progress };
      if (state.state === 'failed') return { outcome: 'failed', reason: state.reason, message: state.progress.message, progress: state.progress };
      if (Date.now() >= deadline) {
        return { outcome: 'timeout', message: `Deployment ${target.settings.namespace}/${target.settings[track]} did not finish rolling out within ${opts.timeoutMs}ms; last status: ${state.progress.message}`, progress: state.progress };
      }
      await this.pause(Math.min(pollMs, Math.max(0, deadline - Date.now())), opts.signal);
    }
  }

  private noProgress(target: ServiceTarget, track: Track): RolloutProgress {
    return { deployment: target.settings[track], generation: 0, observedGeneration: 0, desired: 0, updated: 0, ready: 0, available: 0, message: 'not read yet' };
  }

  private pause(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  gatherEvidence(target: ServiceTarget, opts: { logLines?: number } = {}): Promise<Evidence> {
    return gatherEvidence(this.apis, this.deployments, target, opts);
  }
}
