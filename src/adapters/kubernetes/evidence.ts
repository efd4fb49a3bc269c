import type { V1Deployment } from '@kubernetes/client-node';
import type { ClusterEvent, Evidence, PodLog, ServiceTarget } from '../../domain/cluster-state.js';
import type { ClusterApis } from './apis.js';
import type { Deployments } from './deployments.js';
import { timestamp } from './deployments.js';
import { selectorString } from './direct-reads.js';

/** Evidence keeps the latest events only: a busy namespace holds thousands. */
const MAX_EVENTS = 200;

/** Canary pod logs (last `logLines` per container), Events of both Deployments and their pods, and the Deployments as they are. */
export async function gatherEvidence(apis: ClusterApis, deployments: Deployments, target: ServiceTarget, opts: { logLines?: number } = {}): Promise<Evidence> {
  const api = apis.for(target);
  const namespace = target.settings.namespace;
  const tailLines = opts.logLines ?? 100;
  const [stable, canary] = await deployments.readBoth(target);
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
