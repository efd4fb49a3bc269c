import { PatchStrategy, type KubeConfig, type V1Deployment, type V1ReplicaSet } from '@kubernetes/client-node';
import type { Config } from '../../config/schema.js';
import type {
  ClusterEvent,
  DeploymentState,
  Evidence,
  PodLog,
  Revision,
  RollbackResult,
  RolloutProgress,
  RolloutResult,
  ServiceState,
  ServiceTarget,
  Track,
  TrafficWeights,
} from '../../domain/cluster-state.js';
import type { Cluster } from '../../ports.js';
import { DEFAULT_RETRY, KubeApi, type RetryPolicy } from './api.js';
import { ClusterError, type Subject } from './errors.js';
import { kubeConfigFor } from './kubeconfig.js';
import { CHANGE_CAUSE_ANNOTATION, planRollback, revisionOf, templateWithoutHash } from './rollback-plan.js';
import { rolloutState } from './rollout-status.js';
import { readWeights, replicaSplit, weightPatch, weightedRoutes, type RouteDoc } from './traffic-routes.js';

export interface KubernetesClusterOptions {
  retry?: Partial<RetryPolicy>;
  /** How a cluster of lifeguard.yaml becomes a KubeConfig; the default reads KUBECONFIG or the in-cluster account. */
  kubeConfig?: (clusterName: string) => KubeConfig;
}

const APPS = { group: 'apps', version: 'v1' };
const ISTIO = { group: 'networking.istio.io', version: 'v1', plural: 'virtualservices' };
const GATEWAY = { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes' };
/** Evidence keeps the latest events only: a busy namespace holds thousands. */
const MAX_EVENTS = 200;

/** `~1` escapes `/` in a JSON pointer. */
const pointerKey = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');
const selectorString = (labels: Record<string, string> | undefined) =>
  Object.entries(labels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
const timestamp = (value: unknown) => (value instanceof Date ? value.toISOString() : value ? String(value) : '');

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

/** The Cluster port on real clusters through @kubernetes/client-node; one client per cluster of lifeguard.yaml. */
export class KubernetesCluster implements Cluster {
  private readonly apis = new Map<string, KubeApi>();
  private readonly retry: RetryPolicy;

  constructor(
    private readonly config: Pick<Config, 'clusters' | 'environments'>,
    private readonly opts: KubernetesClusterOptions = {},
  ) {
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
  }

  /** The API of the cluster the target's environment runs on. */
  private api(target: ServiceTarget): KubeApi {
    const environment = this.config.environments[target.environment];
    if (!environment) {
      throw new ClusterError('config', `unknown environment "${target.environment}": lifeguard.yaml defines ${Object.keys(this.config.environments).join(', ')}`);
    }
    const name = environment.cluster;
    let api = this.apis.get(name);
    if (!api) {
      const kc = this.opts.kubeConfig ? this.opts.kubeConfig(name) : kubeConfigFor(this.config, name);
      api = new KubeApi(name, kc, this.retry);
      this.apis.set(name, api);
    }
    return api;
  }

  private subject(target: ServiceTarget, track: Track): Subject {
    const { namespace } = target.settings;
    return { kind: 'Deployment', namespace, name: target.settings[track], configPath: `services.${target.service}.environments.${target.environment}.${track}` };
  }

  /*
   * Deployments and ReplicaSets are read as the API server's JSON (through the custom-objects client,
   * same path, same RBAC) rather than client-node's typed models, which drop fields they do not know:
   * a rollback must copy a pod template exactly, including fields newer than this library.
   */
  private async readDeployment(target: ServiceTarget, track: Track): Promise<V1Deployment> {
    const api = this.api(target);
    const subject = this.subject(target, track);
    const raw = await api.call('readDeployment', subject, () => api.custom.getNamespacedCustomObject({ ...APPS, plural: 'deployments', namespace: subject.namespace, name: subject.name! }, api.options()));
    return raw as V1Deployment;
  }

  private async listReplicaSets(target: ServiceTarget, deployment: V1Deployment): Promise<V1ReplicaSet[]> {
    const api = this.api(target);
    const namespace = target.settings.namespace;
    const list = (await api.call('listReplicaSets', { kind: 'ReplicaSet', namespace }, () =>
      api.custom.listNamespacedCustomObject({ ...APPS, plural: 'replicasets', namespace, labelSelector: selectorString(deployment.spec?.selector?.matchLabels) }, api.options()),
    )) as { items: V1ReplicaSet[] };
    const uid = deployment.metadata?.uid;
    return list.items.filter((rs) => rs.metadata?.ownerReferences?.some((ref) => ref.controller && ref.uid === uid));
  }

  private containerImage(target: ServiceTarget, track: Track, d: V1Deployment): string {
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

  private deploymentState(target: ServiceTarget, track: Track, d: V1Deployment): DeploymentState {
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
    };
  }

  async readState(target: ServiceTarget): Promise<ServiceState> {
    const [stable, canary] = await Promise.all([this.readDeployment(target, 'stable'), this.readDeployment(target, 'canary')]);
    const [replicaSets, traffic] = await Promise.all([this.listReplicaSets(target, stable), this.readTrafficWeightsFrom(target, stable, canary)]);
    const history: Revision[] = replicaSets
      .map((rs) => ({
        revision: revisionOf(rs),
        replicaSet: rs.metadata?.name ?? '',
        images: Object.fromEntries((rs.spec?.template?.spec?.containers ?? []).map((c) => [c.name, c.image ?? ''])),
        createdAt: timestamp(rs.metadata?.creationTimestamp),
        ...(rs.metadata?.annotations?.[CHANGE_CAUSE_ANNOTATION] ? { changeCause: rs.metadata.annotations[CHANGE_CAUSE_ANNOTATION] } : {}),
        replicas: rs.status?.replicas ?? 0,
      }))
      .filter((r) => r.revision > 0)
      .sort((a, b) => b.revision - a.revision);
    return {
      service: target.service,
      environment: target.environment,
      stable: this.deploymentState(target, 'stable', stable),
      canary: this.deploymentState(target, 'canary', canary),
      history,
      traffic,
    };
  }

  async readTrafficWeights(target: ServiceTarget): Promise<TrafficWeights> {
    if ('replicas' in target.settings.traffic) {
      const [stable, canary] = await Promise.all([this.readDeployment(target, 'stable'), this.readDeployment(target, 'canary')]);
      return this.readTrafficWeightsFrom(target, stable, canary);
    }
    return this.readTrafficWeightsFrom(target);
  }

  private async readTrafficWeightsFrom(target: ServiceTarget, stable?: V1Deployment, canary?: V1Deployment): Promise<TrafficWeights> {
    const traffic = target.settings.traffic;
    if ('replicas' in traffic) {
      const s = stable?.spec?.replicas ?? 0;
      const c = canary?.spec?.replicas ?? 0;
      const canaryPercent = s + c === 0 ? 0 : Math.round((c * 100) / (s + c));
      return { stable: 100 - canaryPercent, canary: canaryPercent, source: 'replicas' };
    }
    const { doc, kind, routeName } = await this.readRoute(target);
    return { ...readWeights(weightedRoutes(kind, doc, target.settings, routeName)), source: kind };
  }

  private routeRef(target: ServiceTarget) {
    const traffic = target.settings.traffic;
    const namespace = target.settings.namespace;
    const base = `services.${target.service}.environments.${target.environment}.traffic`;
    if ('istio' in traffic) {
      return { kind: 'istio' as const, api: ISTIO, name: traffic.istio.virtualService, routeName: traffic.istio.route, subject: { kind: 'VirtualService', namespace, name: traffic.istio.virtualService, configPath: `${base}.istio.virtualService` } };
    }
    if ('gatewayApi' in traffic) {
      return { kind: 'gatewayApi' as const, api: GATEWAY, name: traffic.gatewayApi.httpRoute, routeName: undefined, subject: { kind: 'HTTPRoute', namespace, name: traffic.gatewayApi.httpRoute, configPath: `${base}.gatewayApi.httpRoute` } };
    }
    throw new ClusterError('config', `${base} routes by replica ratio; there is no route object to read`);
  }

  private async readRoute(target: ServiceTarget) {
    const api = this.api(target);
    const ref = this.routeRef(target);
    const op = ref.kind === 'istio' ? 'readVirtualService' : 'readHttpRoute';
    const doc = (await api.call(op, ref.subject, () => api.custom.getNamespacedCustomObject({ ...ref.api, namespace: target.settings.namespace, name: ref.name }, api.options()))) as RouteDoc;
    return { doc, ...ref };
  }

  async setTrafficWeights(target: ServiceTarget, canaryPercent: number): Promise<TrafficWeights> {
    if (!Number.isInteger(canaryPercent) || canaryPercent < 0 || canaryPercent > 100) {
      throw new ClusterError('config', `canary traffic weight must be a whole percentage from 0 to 100, got ${canaryPercent}`);
    }
    const api = this.api(target);
    if ('replicas' in target.settings.traffic) return this.setReplicaRatio(target, canaryPercent);
    const ref = this.routeRef(target);
    return api.retryOnConflict(ref.subject, async () => {
      const { doc, kind, routeName } = await this.readRoute(target);
      const routes = weightedRoutes(kind, doc, target.settings, routeName);
      const current = readWeights(routes);
      if (current.canary === canaryPercent && routes.every((r) => readWeights([r]).canary === canaryPercent)) return { ...current, source: kind };
      const body = weightPatch(routes, canaryPercent, doc.metadata?.resourceVersion ?? '');
      const op = kind === 'istio' ? 'patchVirtualService' : 'patchHttpRoute';
      const patched = (await api.call(op, ref.subject, () =>
        api.custom.patchNamespacedCustomObject({ ...ref.api, namespace: target.settings.namespace, name: ref.name, body }, api.options(PatchStrategy.JsonPatch)),
      )) as RouteDoc;
      return { ...readWeights(weightedRoutes(kind, patched, target.settings, routeName)), source: kind };
    });
  }

  private async setReplicaRatio(target: ServiceTarget, canaryPercent: number): Promise<TrafficWeights> {
    const [stable, canary] = await Promise.all([this.readDeployment(target, 'stable'), this.readDeployment(target, 'canary')]);
    const split = replicaSplit(stable.spec?.replicas ?? 0, canary.spec?.replicas ?? 0, canaryPercent);
    // Grow one side before shrinking the other so that capacity never dips during the shift.
    const order: Track[] = split.canary > (canary.spec?.replicas ?? 0) ? ['canary', 'stable'] : ['stable', 'canary'];
    for (const track of order) await this.scale(target, track, split[track]);
    const canaryShare = Math.round((split.canary * 100) / (split.stable + split.canary));
    return { stable: 100 - canaryShare, canary: canaryShare, source: 'replicas' };
  }

  private async scale(target: ServiceTarget, track: Track, replicas: number): Promise<void> {
    const api = this.api(target);
    const subject = this.subject(target, track);
    await api.call('patchDeploymentScale', subject, () =>
      api.apps.patchNamespacedDeploymentScale({ name: subject.name!, namespace: subject.namespace, body: { spec: { replicas } } }, api.options(PatchStrategy.MergePatch)),
    );
  }

  async scaleCanary(target: ServiceTarget, replicas: number): Promise<void> {
    if (!Number.isInteger(replicas) || replicas < 0) throw new ClusterError('config', `canary replicas must be a whole number of 0 or more, got ${replicas}`);
    await this.scale(target, 'canary', replicas);
  }

  /** Sets the configured container's image as `kubectl set image` does, refusing to add a container by mistake. */
  private async setImage(target: ServiceTarget, track: Track, image: string, changeCause: string | undefined): Promise<{ changed: boolean }> {
    if (!/^[^\s]+$/.test(image)) throw new ClusterError('config', `not an image reference: "${image}"`);
    const api = this.api(target);
    const subject = this.subject(target, track);
    return api.retryOnConflict(subject, async () => {
      const d = await this.readDeployment(target, track);
      const current = this.containerImage(target, track, d);
      const causeNow = d.metadata?.annotations?.[CHANGE_CAUSE_ANNOTATION];
      if (current === image && (changeCause === undefined || causeNow === changeCause)) return { changed: false };
      const body = {
        metadata: { resourceVersion: d.metadata?.resourceVersion, ...(changeCause ? { annotations: { [CHANGE_CAUSE_ANNOTATION]: changeCause } } : {}) },
        spec: { template: { spec: { containers: [{ name: target.settings.container, image }] } } },
      };
      await api.call('patchDeployment', subject, () =>
        api.apps.patchNamespacedDeployment({ name: subject.name!, namespace: subject.namespace, body }, api.options(PatchStrategy.StrategicMergePatch)),
      );
      return { changed: current !== image };
    });
  }

  setCanaryImage(target: ServiceTarget, image: string, opts: { changeCause?: string } = {}): Promise<{ changed: boolean }> {
    return this.setImage(target, 'canary', image, opts.changeCause);
  }

  async promote(target: ServiceTarget, opts: { changeCause?: string } = {}): Promise<{ image: string; changed: boolean }> {
    const canary = await this.readDeployment(target, 'canary');
    const image = this.containerImage(target, 'canary', canary);
    const { changed } = await this.setImage(target, 'stable', image, opts.changeCause);
    return { image, changed };
  }

  async rollback(target: ServiceTarget, opts: { toRevision?: number } = {}): Promise<RollbackResult> {
    const api = this.api(target);
    const subject = this.subject(target, 'stable');
    const deploymentName = `${subject.namespace}/${subject.name}`;
    return api.retryOnConflict(subject, async () => {
      const d = await this.readDeployment(target, 'stable');
      if (d.spec?.paused) {
        throw new ClusterError('state', `Deployment ${deploymentName} is paused; resume it first (kubectl -n ${subject.namespace} rollout resume deployment/${subject.name}) and roll back again`);
      }
      const plan = planRollback(d, await this.listReplicaSets(target, d), opts.toRevision);
      if (plan.kind === 'unknown') throw new ClusterError('state', plan.message);
      if (plan.kind === 'no-op') return { outcome: 'no-op', deployment: deploymentName, revision: plan.revision, message: plan.message };
      const template = templateWithoutHash(plan.replicaSet.spec?.template);
      const causeOps = changeCauseOps(d.metadata?.annotations, plan.replicaSet.metadata?.annotations?.[CHANGE_CAUSE_ANNOTATION]);
      const body = [{ op: 'replace', path: '/metadata/resourceVersion', value: d.metadata?.resourceVersion }, { op: 'replace', path: '/spec/template', value: template }, ...causeOps];
      await api.call('patchDeployment', subject, () => api.apps.patchNamespacedDeployment({ name: subject.name!, namespace: subject.namespace, body }, api.options(PatchStrategy.JsonPatch)));
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
      const state = rolloutState(await this.readDeployment(target, track));
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

  async gatherEvidence(target: ServiceTarget, opts: { logLines?: number } = {}): Promise<Evidence> {
    const api = this.api(target);
    const namespace = target.settings.namespace;
    const tailLines = opts.logLines ?? 100;
    const [stable, canary] = await Promise.all([this.readDeployment(target, 'stable'), this.readDeployment(target, 'canary')]);
    const listPods = (d: V1Deployment) =>
      api.call('listPods', { kind: 'Pod', namespace }, () => api.core.listNamespacedPod({ namespace, labelSelector: selectorString(d.spec?.selector?.matchLabels) }, api.options()));
    const [stablePods, canaryPods, events] = await Promise.all([
      listPods(stable),
      listPods(canary),
      api.call('listEvents', { kind: 'Event', namespace }, () => api.core.listNamespacedEvent({ namespace }, api.options())),
    ]);

    const logs: PodLog[] = [];
    for (const pod of canaryPods.items) {
      const podName = pod.metadata?.name ?? '';
      for (const container of pod.spec?.containers ?? []) {
        try {
          const text = await api.call('readPodLog', { kind: 'Pod', namespace, name: podName }, () =>
            api.core.readNamespacedPodLog({ name: podName, namespace, container: container.name, tailLines }, api.options()),
          );
          logs.push({ pod: podName, container: container.name, lines: text.split('\n').filter((l) => l.length > 0) });
        } catch (error) {
          // One unreadable log (pod gone, container not started) must not cost us the rest of the evidence.
          logs.push({ pod: podName, container: container.name, lines: [], error: (error as Error).message });
        }
      }
    }

    const involved = new Set([stable, canary, ...stablePods.items, ...canaryPods.items].map((o) => o.metadata?.uid).filter(Boolean));
    const deploymentNames = new Set([target.settings.stable, target.settings.canary]);
    const clusterEvents: ClusterEvent[] = events.items
      .filter((e) => involved.has(e.involvedObject.uid) || (e.involvedObject.kind === 'Deployment' && deploymentNames.has(e.involvedObject.name ?? '')))
      .map((e) => ({
        at: timestamp(e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp),
        type: e.type ?? '',
        reason: e.reason ?? '',
        message: e.message ?? '',
        object: `${e.involvedObject.kind}/${e.involvedObject.name}`,
        count: e.count ?? 1,
      }))
      .sort((a, b) => a.at.localeCompare(b.at))
      .slice(-MAX_EVENTS);

    return { collectedAt: new Date().toISOString(), deployments: { stable, canary }, logs, events: clusterEvents };
  }
}
