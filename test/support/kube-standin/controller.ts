import { typeOfKind } from './resources.js';
import type { KubeObject, ObjectStore } from './store.js';

const DEPLOYMENTS = typeOfKind('Deployment');
const REPLICASETS = typeOfKind('ReplicaSet');
const PODS = typeOfKind('Pod');
const EVENTS = typeOfKind('Event');

const REVISION = 'deployment.kubernetes.io/revision';
const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
const DESIRED = 'deployment.kubernetes.io/desired-replicas';
const MAX = 'deployment.kubernetes.io/max-replicas';
const HASH = 'pod-template-hash';
/** Deployment annotations the controller does not copy to its ReplicaSets (as in k8s.io/kubernetes deployment util). */
const SKIPPED_ANNOTATIONS = new Set(['kubectl.kubernetes.io/last-applied-configuration', REVISION, REVISION_HISTORY, DESIRED, MAX, 'deprecated.deployment.rollback.to']);

export interface ControllerOptions {
  /** How long a new pod takes to become ready. */
  readyDelayMs: number;
  /** Delay before the controller reacts to a change (observedGeneration lags generation meanwhile). */
  syncDelayMs: number;
  /** Pods whose container runs one of these images start but never pass their readiness probe. */
  brokenImages: Set<string>;
  /** Pods whose container runs one of these images write this many bytes of log as they start (a debug dump). */
  noisyImages: Map<string, number>;
  clock: () => Date;
}

type Obj = KubeObject & { spec: Record<string, any>; status: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any

const revisionOf = (o: KubeObject) => Number(o.metadata.annotations?.[REVISION] ?? 0);
const time = (d: Date) => d.toISOString().replace(/\.\d+Z$/, 'Z');

/** Bytes a noisy pod writes per line: long enough that the last 100 lines of a 10 MiB dump are all of it. */
const NOISE_LINE_BYTES = 128 * 1024;

/** `bytes` of log in long lines (newlines included), numbered, the last one saying it is the last. */
function noise(now: string, bytes: number): string[] {
  const lines: string[] = [];
  for (let left = bytes, i = 0; left > 0; i++) {
    const width = Math.min(NOISE_LINE_BYTES, left) - 1;
    const last = left <= NOISE_LINE_BYTES;
    lines.push(`${now} DEBUG ${last ? 'last' : `dump ${i}`} payload=`.padEnd(width, 'x').slice(0, width));
    left -= width + 1;
  }
  return lines;
}

/** Templates compared so far: stored objects are never changed in place, so a template read twice is worked out once. */
const comparable = new WeakMap<object, string>();

function withoutHash(template: object): string {
  let text = comparable.get(template);
  if (text === undefined) {
    const copy = structuredClone(template) as { metadata?: { labels?: Record<string, string> } };
    delete copy.metadata?.labels?.[HASH];
    text = JSON.stringify(sortKeys(copy));
    comparable.set(template, text);
  }
  return text;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]));
  }
  return value;
}

/** FNV-1a over the template, encoded with the API server's "safe" alphabet, like ComputeHash. */
function templateHash(template: object): string {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(withoutHash(template))) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return [...String(hash)].map((c) => alphabet[c.charCodeAt(0) % alphabet.length]).join('');
}

const ownerRef = (owner: KubeObject) => ({ apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true });

/**
 * Plays kube-controller-manager's deployment and replicaset controllers and the kubelet, closely
 * enough that revisions, rollbacks, status and `kubectl rollout` behave as on a real cluster.
 */
export class DeploymentController {
  private queue = new Set<string>();
  private timers = new Set<NodeJS.Timeout>();
  private progressAt = new Map<string, number>();
  private deadlineTimers = new Map<string, NodeJS.Timeout>();
  private podCounter = 0;
  private stopped = false;
  readonly logs = new Map<string, string[]>();
  private readonly listener = (event: { object: KubeObject }) => this.onChange(event.object);

  constructor(
    private readonly store: ObjectStore,
    private readonly opts: ControllerOptions,
  ) {
    store.changes.on('change', this.listener);
  }

  setReadyDelay(ms: number) {
    this.opts.readyDelayMs = ms;
  }

  stop() {
    this.stopped = true;
    this.store.changes.off('change', this.listener);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** Key of a pod container's log. */
  static logKey(namespace: string, pod: string, container: string) {
    return `${namespace}/${pod}/${container}`;
  }

  private later(ms: number, fn: () => void): NodeJS.Timeout | undefined {
    if (this.stopped) return undefined;
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.stopped) fn();
    }, ms);
    this.timers.add(t);
    return t;
  }

  private onChange(obj: KubeObject) {
    if (obj.kind === 'Deployment') this.enqueue(obj.metadata.namespace, obj.metadata.name);
    if (obj.kind === 'ReplicaSet' || obj.kind === 'Pod') {
      const owner = obj.metadata.ownerReferences?.find((r) => r.controller);
      if (!owner) return;
      if (owner.kind === 'Deployment') this.enqueue(obj.metadata.namespace, owner.name);
      if (owner.kind === 'ReplicaSet') {
        const rs = this.store.peek(REPLICASETS, obj.metadata.namespace, owner.name);
        const dep = rs?.metadata.ownerReferences?.find((r) => r.controller && r.kind === 'Deployment');
        if (dep) this.enqueue(obj.metadata.namespace, dep.name);
      }
    }
  }

  enqueue(namespace: string, name: string) {
    const key = `${namespace}/${name}`;
    if (this.queue.has(key)) return;
    this.queue.add(key);
    this.later(this.opts.syncDelayMs, () => {
      this.queue.delete(key);
      this.sync(namespace, name);
    });
  }

  private event(involved: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string, component: string) {
    const now = time(this.opts.clock());
    const name = `${involved.metadata.name}.${(Date.now() * 1000 + this.podCounter++).toString(16)}`;
    this.store.create(EVENTS, involved.metadata.namespace, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace: involved.metadata.namespace },
      involvedObject: { kind: involved.kind, namespace: involved.metadata.namespace, name: involved.metadata.name, uid: involved.metadata.uid, apiVersion: involved.apiVersion, resourceVersion: involved.metadata.resourceVersion },
      reason,
      message,
      type,
      source: { component },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      reportingComponent: component,
    });
  }

  private sync(namespace: string, name: string) {
    const deployment = this.store.peek(DEPLOYMENTS, namespace, name) as Obj | undefined;
    if (!deployment) return;
    const owned = this.store.peekOwned(REPLICASETS, namespace, deployment.metadata.uid) as Obj[];
    if (deployment.spec.paused) return;
    const template = deployment.spec.template;
    let newRS = owned.find((rs) => withoutHash(rs.spec.template) === withoutHash(template));
    const olds = owned.filter((rs) => rs !== newRS);
    const maxOld = Math.max(0, ...olds.map(revisionOf));
    const desired: number = deployment.spec.replicas ?? 1;
    let templateChanged = false;

    if (!newRS) {
      const hash = templateHash(template);
      const rsTemplate = structuredClone(template);
      rsTemplate.metadata = { ...rsTemplate.metadata, labels: { ...rsTemplate.metadata?.labels, [HASH]: hash } };
      newRS = this.store.create(REPLICASETS, namespace, {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: `${name}-${hash}`,
          namespace,
          labels: { ...template.metadata?.labels, [HASH]: hash },
          annotations: { ...this.copiedAnnotations(deployment), [REVISION]: String(maxOld + 1), [DESIRED]: String(desired), [MAX]: String(desired + Math.ceil(desired / 4)) },
          ownerReferences: [ownerRef(deployment)],
        },
        spec: {
          replicas: 0,
          minReadySeconds: deployment.spec.minReadySeconds ?? 0,
          selector: { matchLabels: { ...deployment.spec.selector?.matchLabels, [HASH]: hash }, ...(deployment.spec.selector?.matchExpressions ? { matchExpressions: deployment.spec.selector.matchExpressions } : {}) },
          template: rsTemplate,
        },
      }) as Obj;
      templateChanged = true;
    } else {
      const annotations = { ...newRS.metadata.annotations, ...this.copiedAnnotations(deployment) };
      if (revisionOf(newRS) <= maxOld) {
        const previous = annotations[REVISION];
        annotations[REVISION_HISTORY] = [annotations[REVISION_HISTORY], previous].filter(Boolean).join(',');
        annotations[REVISION] = String(maxOld + 1);
        templateChanged = true;
      }
      if (JSON.stringify(annotations) !== JSON.stringify(newRS.metadata.annotations)) {
        newRS = this.store.update(REPLICASETS, { ...newRS, metadata: { ...newRS.metadata, annotations } }) as Obj;
      }
    }

    const revision = newRS.metadata.annotations![REVISION]!;
    if (deployment.metadata.annotations?.[REVISION] !== revision) {
      this.store.update(DEPLOYMENTS, { ...deployment, metadata: { ...deployment.metadata, annotations: { ...deployment.metadata.annotations, [REVISION]: revision }, resourceVersion: '' } });
    }

    this.scale(deployment, newRS, desired);
    const newAvailable: number = newRS.status?.availableReplicas ?? 0;
    let oldBudget = Math.max(0, desired - newAvailable);
    for (const old of olds.sort((a, b) => revisionOf(b) - revisionOf(a))) {
      const current: number = old.spec.replicas ?? 0;
      const target = Math.min(current, oldBudget);
      oldBudget -= target;
      this.scale(deployment, old, target);
    }
    this.pruneHistory(deployment, olds);
    for (const rs of this.store.peekOwned(REPLICASETS, namespace, deployment.metadata.uid) as Obj[]) this.syncPods(rs);
    this.updateStatus(namespace, name, templateChanged);
  }

  private copiedAnnotations(deployment: KubeObject): Record<string, string> {
    return Object.fromEntries(Object.entries(deployment.metadata.annotations ?? {}).filter(([k]) => !SKIPPED_ANNOTATIONS.has(k)));
  }

  private scale(deployment: KubeObject, rs: Obj, replicas: number) {
    const current: number = rs.spec.replicas ?? 0;
    if (current === replicas) return;
    const fresh = this.store.peek(REPLICASETS, rs.metadata.namespace, rs.metadata.name) as Obj;
    this.store.update(REPLICASETS, { ...fresh, spec: { ...fresh.spec, replicas }, metadata: { ...fresh.metadata, annotations: { ...fresh.metadata.annotations, [DESIRED]: String(deployment.spec?.replicas ?? 1) } } });
    const direction = replicas > current ? 'up' : 'down';
    this.event(deployment, 'Normal', 'ScalingReplicaSet', `Scaled ${direction} replica set ${rs.metadata.name} from ${current} to ${replicas}`, 'deployment-controller');
  }

  private pruneHistory(deployment: Obj, olds: Obj[]) {
    const limit: number = deployment.spec.revisionHistoryLimit ?? 10;
    const idle = olds
      .map((rs) => this.store.peek(REPLICASETS, rs.metadata.namespace, rs.metadata.name) as Obj | undefined)
      .filter((rs): rs is Obj => !!rs && (rs.spec.replicas ?? 0) === 0 && (rs.status?.replicas ?? 0) === 0)
      .sort((a, b) => revisionOf(a) - revisionOf(b));
    for (const rs of idle.slice(0, Math.max(0, idle.length - limit))) this.store.delete(REPLICASETS, rs.metadata.namespace, rs.metadata.name);
  }

  private syncPods(rs: Obj) {
    const namespace = rs.metadata.namespace;
    const pods = this.store.peekOwned(PODS, namespace, rs.metadata.uid) as Obj[];
    const want: number = rs.spec.replicas ?? 0;
    for (let i = pods.length; i < want; i++) this.createPod(rs);
    for (const pod of pods.slice(want)) {
      this.store.delete(PODS, namespace, pod.metadata.name);
      this.event(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`, 'replicaset-controller');
    }
    const live = this.store.peekOwned(PODS, namespace, rs.metadata.uid) as Obj[];
    const ready = live.filter((p) => p.status?.conditions?.some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True')).length;
    const status = { replicas: live.length, fullyLabeledReplicas: live.length, readyReplicas: ready, availableReplicas: ready, observedGeneration: rs.metadata.generation };
    const fresh = this.store.peek(REPLICASETS, namespace, rs.metadata.name)!;
    this.store.update(REPLICASETS, { ...fresh, status }, { subresource: 'status' });
  }

  private createPod(rs: Obj) {
    const namespace = rs.metadata.namespace;
    const suffix = (++this.podCounter * 7919 + 10007).toString(36).slice(-5).padStart(5, 'x');
    const name = `${rs.metadata.name}-${suffix}`;
    const containers: { name: string; image: string }[] = rs.spec.template.spec?.containers ?? [];
    const broken = containers.some((c) => this.opts.brokenImages.has(c.image));
    const now = time(this.opts.clock());
    const pod = this.store.create(PODS, namespace, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace, labels: rs.spec.template.metadata?.labels ?? {}, annotations: rs.spec.template.metadata?.annotations, ownerReferences: [ownerRef(rs)] },
      spec: { ...structuredClone(rs.spec.template.spec), nodeName: 'standin-node' },
      status: {
        phase: 'Pending',
        conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: now }],
        containerStatuses: containers.map((c) => ({ name: c.name, image: c.image, ready: false, restartCount: 0, started: false, state: { waiting: { reason: 'ContainerCreating' } } })),
      },
    });
    this.event(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${name}`, 'replicaset-controller');
    this.event(pod, 'Normal', 'Scheduled', `Successfully assigned ${namespace}/${name} to standin-node`, 'default-scheduler');
    for (const c of containers) {
      this.event(pod, 'Normal', 'Pulled', `Container image "${c.image}" already present on machine`, 'kubelet');
      this.event(pod, 'Normal', 'Started', `Started container ${c.name}`, 'kubelet');
      this.logs.set(DeploymentController.logKey(namespace, name, c.name), [
        `${now} INFO starting ${c.name} image=${c.image}`,
        `${now} INFO listening on :8080`,
        ...(this.opts.brokenImages.has(c.image) ? [`${now} ERROR dependency check failed: upstream unavailable`, `${now} WARN readiness /readyz answering 503`] : []),
        ...noise(now, this.opts.noisyImages.get(c.image) ?? 0),
      ]);
    }
    this.later(this.opts.readyDelayMs, () => this.startPod(namespace, name, !broken));
  }

  private startPod(namespace: string, name: string, ready: boolean) {
    const pod = this.store.peek(PODS, namespace, name) as Obj | undefined;
    if (!pod) return;
    const now = time(this.opts.clock());
    const status = {
      ...pod.status,
      phase: 'Running',
      startTime: now,
      podIP: `10.0.0.${(this.podCounter % 250) + 2}`,
      conditions: [
        { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
        { type: 'Initialized', status: 'True', lastTransitionTime: now },
        { type: 'ContainersReady', status: ready ? 'True' : 'False', lastTransitionTime: now },
        { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now, ...(ready ? {} : { reason: 'ContainersNotReady', message: 'containers with unready status' }) },
      ],
      containerStatuses: (pod.status.containerStatuses as { name: string; image: string }[]).map((c) => ({ ...c, ready: !this.opts.brokenImages.has(c.image), started: true, state: { running: { startedAt: now } } })),
    };
    this.store.update(PODS, { ...pod, status }, { subresource: 'status' });
    if (!ready) this.event(pod, 'Warning', 'Unhealthy', 'Readiness probe failed: HTTP probe failed with statuscode: 503', 'kubelet');
  }

  private updateStatus(namespace: string, name: string, templateChanged: boolean) {
    const deployment = this.store.peek(DEPLOYMENTS, namespace, name) as Obj;
    const owned = this.store.peekOwned(REPLICASETS, namespace, deployment.metadata.uid) as Obj[];
    const newRS = owned.find((rs) => withoutHash(rs.spec.template) === withoutHash(deployment.spec.template));
    const desired: number = deployment.spec.replicas ?? 1;
    const sum = (f: (rs: Obj) => number) => owned.reduce((n, rs) => n + f(rs), 0);
    const replicas = sum((rs) => rs.status?.replicas ?? 0);
    const updated: number = newRS?.status?.replicas ?? 0;
    const ready = sum((rs) => rs.status?.readyReplicas ?? 0);
    const available = sum((rs) => rs.status?.availableReplicas ?? 0);
    const nowMs = this.opts.clock().getTime();
    const now = time(new Date(nowMs));
    const previous = (deployment.status ?? {}) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const key = deployment.metadata.uid;
    const progressed = templateChanged || previous.updatedReplicas !== updated || previous.readyReplicas !== ready || previous.availableReplicas !== available || previous.replicas !== replicas;
    if (progressed || !this.progressAt.has(key)) this.progressAt.set(key, nowMs);
    const complete = updated === desired && available === desired && replicas === desired;
    const deadlineMs = (deployment.spec.progressDeadlineSeconds ?? 600) * 1000;
    const rsName = newRS?.metadata.name ?? '';
    const oldConditions: { type: string; status: string; reason: string; lastTransitionTime: string; lastUpdateTime: string }[] = previous.conditions ?? [];
    const condition = (type: string, status: string, reason: string, message: string, touch: boolean) => {
      const old = oldConditions.find((c) => c.type === type);
      const same = old && old.status === status && old.reason === reason;
      return {
        type,
        status,
        lastUpdateTime: same && !touch ? old.lastUpdateTime : now,
        lastTransitionTime: old && old.status === status ? old.lastTransitionTime : now,
        reason,
        message,
      };
    };
    const maxUnavailable = Math.floor(desired / 4);
    const availableCondition =
      available >= desired - maxUnavailable
        ? condition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.', false)
        : condition('Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.', false);
    let progressing;
    if (complete) progressing = condition('Progressing', 'True', 'NewReplicaSetAvailable', `ReplicaSet "${rsName}" has successfully progressed.`, false);
    else if (nowMs - this.progressAt.get(key)! > deadlineMs) progressing = condition('Progressing', 'False', 'ProgressDeadlineExceeded', `ReplicaSet "${rsName}" has timed out progressing.`, false);
    else if (templateChanged && updated === 0) progressing = condition('Progressing', 'True', 'NewReplicaSetCreated', `Created new replica set "${rsName}"`, true);
    else progressing = condition('Progressing', 'True', 'ReplicaSetUpdated', `ReplicaSet "${rsName}" is progressing.`, progressed);
    const status = {
      observedGeneration: deployment.metadata.generation,
      replicas,
      updatedReplicas: updated,
      readyReplicas: ready,
      availableReplicas: available,
      ...(desired - available > 0 ? { unavailableReplicas: desired - available } : {}),
      conditions: [availableCondition, progressing],
    };
    this.store.update(DEPLOYMENTS, { ...deployment, status }, { subresource: 'status' });
    const pending = this.deadlineTimers.get(key);
    if (pending) {
      clearTimeout(pending);
      this.timers.delete(pending);
    }
    this.deadlineTimers.delete(key);
    if (!complete && progressing.reason !== 'ProgressDeadlineExceeded') {
      const timer = this.later(Math.max(10, this.progressAt.get(key)! + deadlineMs - nowMs + 5), () => this.enqueue(namespace, name));
      if (timer) this.deadlineTimers.set(key, timer);
    }
  }
}

