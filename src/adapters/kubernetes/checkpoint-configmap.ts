import type { KubeConfig, V1ConfigMap } from '@kubernetes/client-node';
import * as z from 'zod';
import { expectForm, ROW_HASH, type Checkpoint } from '../../domain/checkpoint.js';
import type { CheckpointStore, StoredCheckpoint } from '../../ports.js';
import { DEFAULT_RETRY, KubeApi, type RetryPolicy } from './api.js';
import { ClusterError, describe, type Subject } from './errors.js';

export const CHECKPOINT_CONFIGMAP = 'lifeguard-audit-checkpoint';

/** The ConfigMap's data is whatever someone with access wrote there: read it as untrusted. */
const checkpointSchema = z.object({
  id: z.number().int().positive(),
  hash: z.string().regex(ROW_HASH, 'must be 64 hex digits, optionally prefixed with hmac-sha256:'),
  at: z.string(),
}) satisfies z.ZodType<Checkpoint>;

/** A checkpoint call gives up within seconds: the next tick tries again, and shutdown must not wait long. */
const CHECKPOINT_RETRY: Partial<RetryPolicy> = { attempts: 2, requestTimeoutMs: 3_000 };

/**
 * The latest audit checkpoint in a ConfigMap of Lifeguard's own namespace: `data.id`, `data.hash`, `data.at`,
 * and `data.expect` (`<id>:<hash>`, as `lifeguard audit verify --expect` takes it).
 */
export class ConfigMapCheckpoints implements CheckpointStore {
  readonly where: string;
  private readonly api: KubeApi;
  private readonly subject: Subject;

  constructor(
    kubeConfig: KubeConfig,
    private readonly opts: { namespace: string; name?: string; retry?: Partial<RetryPolicy> },
  ) {
    this.subject = { kind: 'ConfigMap', namespace: opts.namespace, name: opts.name ?? CHECKPOINT_CONFIGMAP };
    this.where = describe(this.subject);
    this.api = new KubeApi(kubeConfig.getCurrentContext() || 'in-cluster', kubeConfig, { ...DEFAULT_RETRY, ...CHECKPOINT_RETRY, ...opts.retry });
  }

  private get name(): string {
    return this.subject.name!;
  }

  async read(): Promise<StoredCheckpoint | undefined> {
    let configMap: V1ConfigMap;
    try {
      configMap = await this.api.call('readCheckpointConfigMap', this.subject, () =>
        this.api.core.readNamespacedConfigMap({ name: this.name, namespace: this.opts.namespace }, this.api.options()),
      );
    } catch (error) {
      if (error instanceof ClusterError && error.kind === 'not-found') return undefined;
      throw error;
    }
    const data = configMap.data ?? {};
    const parsed = checkpointSchema.safeParse({ id: /^[1-9][0-9]*$/.test(data.id ?? '') ? Number(data.id) : data.id, hash: data.hash, at: data.at });
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new ClusterError('invalid', `${this.where} holds no valid checkpoint (data.${issue.path.join('.')}: ${issue.message}): restore it, or delete it to start over`);
    }
    return { checkpoint: parsed.data, revision: configMap.metadata?.resourceVersion ?? '' };
  }

  async write(checkpoint: Checkpoint, previous: StoredCheckpoint | undefined): Promise<void> {
    const body: V1ConfigMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: this.name,
        namespace: this.opts.namespace,
        labels: { 'app.kubernetes.io/name': 'lifeguard' },
        // The precondition: a checkpoint changed since it was read (and checked) is not overwritten.
        ...(previous ? { resourceVersion: previous.revision } : {}),
      },
      data: { id: String(checkpoint.id), hash: checkpoint.hash, at: checkpoint.at, expect: expectForm(checkpoint) },
    };
    if (previous) {
      await this.api.call('updateCheckpointConfigMap', this.subject, () =>
        this.api.core.replaceNamespacedConfigMap({ name: this.name, namespace: this.opts.namespace, body }, this.api.options()),
      );
    } else {
      await this.api.call('createCheckpointConfigMap', this.subject, () => this.api.core.createNamespacedConfigMap({ namespace: this.opts.namespace, body }, this.api.options()));
    }
  }
}
