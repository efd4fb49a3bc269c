import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { apiVersionOf, qualifiedName, type ResourceType } from './resources.js';

export interface ObjectMeta {
  name: string;
  namespace: string;
  uid: string;
  resourceVersion: string;
  generation?: number;
  creationTimestamp: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }[];
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [key: string]: unknown;
}

/** What a client sends to create an object: the server fills in uid, resourceVersion and the rest. */
export interface ObjectInput {
  apiVersion?: string;
  kind?: string;
  metadata: Partial<ObjectMeta>;
  [key: string]: unknown;
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubeObject;
  resourceVersion: number;
  typeKey: string;
}

/** An error the API server answers with a `Status` object. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export const typeKey = (t: ResourceType) => `${t.group}/${t.plural}`;

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * In-memory etcd: objects by type, namespace and name, one resourceVersion counter for all,
 * and a history of changes so that a watch can start from any resourceVersion.
 */
export class ObjectStore {
  private objects = new Map<string, KubeObject>();
  private revision = 0;
  readonly history: WatchEvent[] = [];
  readonly changes = new EventEmitter();

  constructor(private readonly clock: () => Date = () => new Date()) {
    this.changes.setMaxListeners(0);
  }

  get currentRevision(): number {
    return this.revision;
  }

  private key(type: ResourceType, namespace: string, name: string) {
    return `${typeKey(type)}/${namespace}/${name}`;
  }

  get(type: ResourceType, namespace: string, name: string): KubeObject | undefined {
    const obj = this.objects.get(this.key(type, namespace, name));
    return obj && structuredClone(obj);
  }

  mustGet(type: ResourceType, namespace: string, name: string): KubeObject {
    const obj = this.get(type, namespace, name);
    if (!obj) throw notFound(type, name);
    return obj;
  }

  list(type: ResourceType, namespace?: string): KubeObject[] {
    const prefix = namespace === undefined ? `${typeKey(type)}/` : `${typeKey(type)}/${namespace}/`;
    return [...this.objects.entries()]
      .filter(([k]) => k.startsWith(prefix))
      .map(([, v]) => structuredClone(v))
      .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  }

  create(type: ResourceType, namespace: string, input: ObjectInput): KubeObject {
    const name = input.metadata?.name;
    if (!name) throw new ApiError(422, 'Invalid', `${type.kind} "" is invalid: metadata.name: Required value: name is required`);
    if (this.objects.has(this.key(type, namespace, name))) {
      throw new ApiError(409, 'AlreadyExists', `${qualifiedName(type)} "${name}" already exists`, { name, group: type.group, kind: type.plural });
    }
    const obj: KubeObject = {
      ...structuredClone(input),
      apiVersion: apiVersionOf(type),
      kind: type.kind,
      metadata: {
        ...structuredClone(input.metadata),
        name,
        namespace,
        uid: randomUUID(),
        resourceVersion: '',
        creationTimestamp: this.clock().toISOString().replace(/\.\d+Z$/, 'Z'),
        ...(type.generation ? { generation: 1 } : {}),
      },
    };
    return this.commit(type, obj, 'ADDED');
  }

  /**
   * Replaces an object as PUT and PATCH do: a resourceVersion in the new object is a precondition,
   * a changed spec bumps generation, and with a status subresource the stored status is kept.
   */
  update(type: ResourceType, next: KubeObject, opts: { subresource?: 'status' } = {}): KubeObject {
    const { namespace, name } = next.metadata;
    const current = this.mustGet(type, namespace, name);
    if (next.metadata.resourceVersion && next.metadata.resourceVersion !== current.metadata.resourceVersion) {
      throw conflict(type, name);
    }
    let merged: KubeObject;
    if (opts.subresource === 'status') {
      merged = { ...current, status: structuredClone(next.status) };
    } else {
      merged = {
        ...structuredClone(next),
        apiVersion: current.apiVersion,
        kind: current.kind,
        metadata: {
          ...structuredClone(next.metadata),
          uid: current.metadata.uid,
          creationTimestamp: current.metadata.creationTimestamp,
          resourceVersion: current.metadata.resourceVersion,
          ...(type.generation ? { generation: current.metadata.generation } : {}),
        },
      };
      if (type.statusSubresource) {
        if (current.status === undefined) delete merged.status;
        else merged.status = current.status;
      }
      if (type.generation && !sameJson(withoutMeta(merged), withoutMeta(current))) {
        merged.metadata.generation = (current.metadata.generation ?? 0) + 1;
      }
    }
    if (sameJson(merged, current)) return current;
    return this.commit(type, merged, 'MODIFIED');
  }

  delete(type: ResourceType, namespace: string, name: string): KubeObject {
    const current = this.mustGet(type, namespace, name);
    this.objects.delete(this.key(type, namespace, name));
    this.revision++;
    current.metadata.resourceVersion = String(this.revision);
    this.record(type, current, 'DELETED');
    return current;
  }

  private commit(type: ResourceType, obj: KubeObject, kind: 'ADDED' | 'MODIFIED'): KubeObject {
    this.revision++;
    obj.metadata.resourceVersion = String(this.revision);
    this.objects.set(this.key(type, obj.metadata.namespace, obj.metadata.name), structuredClone(obj));
    this.record(type, obj, kind);
    return structuredClone(obj);
  }

  private record(type: ResourceType, obj: KubeObject, kind: WatchEvent['type']) {
    const event: WatchEvent = { type: kind, object: structuredClone(obj), resourceVersion: this.revision, typeKey: typeKey(type) };
    this.history.push(event);
    if (this.history.length > 5000) this.history.splice(0, 1000);
    this.changes.emit('change', event, type);
  }
}

/** What counts for generation: everything but metadata and status (annotations and labels do not either). */
function withoutMeta(obj: KubeObject): unknown {
  const { metadata: _m, status: _s, ...rest } = obj;
  return rest;
}

export function notFound(type: ResourceType, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${qualifiedName(type)} "${name}" not found`, { name, group: type.group, kind: type.plural });
}

export function conflict(type: ResourceType, name: string): ApiError {
  return new ApiError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualifiedName(type)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, group: type.group, kind: type.plural },
  );
}
