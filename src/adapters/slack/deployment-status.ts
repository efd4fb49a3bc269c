/**
 * What the Slack surface reads from the cluster to show a plan: the version running now and the revisions a
 * rollback could return to. The Kubernetes adapter implements it.
 */
export interface DeploymentSnapshot {
  /** Image tag of the stable Deployment, e.g. `1.4.2`. */
  version: string;
  image: string;
  revision: number;
  /** Earlier revisions, newest first, as the Deployment's ReplicaSets keep them. */
  history: { revision: number; image: string }[];
  /** Percent of traffic on the canary now; 0 when no canary runs. */
  canaryWeight: number;
}

export interface DeploymentStatus {
  describe(service: string, environment: string): Promise<DeploymentSnapshot>;
}
