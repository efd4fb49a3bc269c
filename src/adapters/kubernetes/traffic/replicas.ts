import type { V1Deployment } from '@kubernetes/client-node';
import type { ServiceTarget, Track, TrafficWeights } from '../../../domain/cluster-state.js';
import type { TrafficRouter } from '../../../ports.js';
import type { Deployments } from '../deployments.js';
import { replicaSplit } from '../../../domain/traffic-split.js';


const wanted = (d: V1Deployment) => d.spec?.replicas ?? 0;

function share(stable: number, canary: number): TrafficWeights {
  const canaryPercent = stable + canary === 0 ? 0 : Math.round((canary * 100) / (stable + canary));
  return { stable: 100 - canaryPercent, canary: canaryPercent, source: 'replicas' };
}

/** Without a mesh, the share of traffic is the share of pods behind the Service: weights are replica counts. */
export class ReplicaRatioRouter implements TrafficRouter {
  constructor(private readonly deployments: Deployments) {}

  async read(target: ServiceTarget): Promise<TrafficWeights> {
    const [stable, canary] = await this.deployments.readBoth(target);
    return share(wanted(stable), wanted(canary));
  }

  async set(target: ServiceTarget, canaryPercent: number): Promise<TrafficWeights> {
    const [stable, canary] = await this.deployments.readBoth(target, { fresh: true });
    const split = replicaSplit(wanted(stable), wanted(canary), canaryPercent);
    // Grow one side before shrinking the other so that capacity never dips during the shift.
    const order: Track[] = split.canary > wanted(canary) ? ['canary', 'stable'] : ['stable', 'canary'];
    for (const track of order) await this.deployments.scale(target, track, split[track]);
    return share(split.stable, split.canary);
  }

  /** The split `set` would make is in place and every pod of it is ready: only then does the share serve traffic. */
  async verify(target: ServiceTarget, canaryPercent: number): Promise<boolean> {
    const [stable, canary] = await this.deployments.readBoth(target);
    const split = replicaSplit(wanted(stable), wanted(canary), canaryPercent);
    const settled = (d: V1Deployment, replicas: number) =>
      wanted(d) === replicas && (d.status?.readyReplicas ?? 0) === replicas && (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
    return settled(stable, split.stable) && settled(canary, split.canary);
  }
}
