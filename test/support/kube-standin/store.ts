import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { History } from './history.js';
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

/** One change, as every watch of its type sends it. */
export class WatchEvent {
  private text?: string;

  constructor(
    readonly type: 'ADDED' | 'MODIFIED' | 'DELETED',
    /** The object as stored: shared, so read it and never change it. */
    readonly object: KubeObject,
    readonly resourceVersion: number,
    readonly typeKey: string,
    private readonly toJson: (obj: KubeObject) => string,
  ) {}

  /** The event as a line of a watch stream, written once however many watches send it. */
  get line(): string {
    return (this.text ??= `{"type":"${this.type}","object":${this.toJson(this.object)}}\n`);
  }
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

/** The objects of one type in one namespace, with their names in key order for lists, worked out again only after a create or delete. */
interface Bucket {
  byName: Map<string, KubeObject>;
  sorted?: string[];
}

/** What the store keeps per resource type. */
interface TypeIndex {
  namespaces: Map<string, Bucket>;
  /** The objects each controller (by uid) owns, so a controller finds its ReplicaSets or pods without a scan. */
  owned: Map<string, Set<KubeObject>>;
  history: History;
}

const controllerUid = (o: KubeObject) => o.metadata.ownerReferences?.find((r) => r.controller)?.uid;
const byKey = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * In-memory etcd: objects by type, namespace and name, one resourceVersion counter for all, and per type the
 * recent changes so that a watch can resume from a resourceVersion. Stored objects are never changed in
 * place (a write stores a new object), so reads inside the stand-in share them and each one's JSON is
 * written once for every list and watch that sends it; get() and list() hand out copies.
 */
export class ObjectStore {
  private readonly types = new Map<string, TypeIndex>();
  private readonly json = new WeakMap<KubeObject, string>();
  private revision = 0;
  readonly changes = new EventEmitter();

  constructor(
    private readonly clock: () => Date = () => new Date(),
    /** How many changes of each type a watch can resume from, as the watch cache's capacity. */
    private readonly historyLimit = 10_000,
  ) {
    this.changes.setMaxListeners(0);
  }

  get currentRevision(): number {
    return this.revision;
  }

  private index(type: ResourceType): TypeIndex {
    const key = typeKey(type);
    let index = this.types.get(key);
    if (!index) this.types.set(key, (index = { namespaces: new Map(), owned: new Map(), history: new History(this.historyLimit) }));
    return index;
  }

  /** The stored object, shared: read it, never change it. */
  peek(type: ResourceType, namespace: string, name: string): KubeObject | undefined {
    return this.types.get(typeKey(type))?.namespaces.get(namespace)?.byName.get(name);
  }

  /** Stored objects of a type, in one namespace or all, in the API server's order (namespace, then name); shared. */
  peekAll(type: ResourceType, namespace?: string): KubeObject[] {
    const index = this.types.get(typeKey(type));
    if (!index) return [];
    const namespaces = namespace === undefined ? [...index.namespaces.keys()].sort(byKey) : [namespace];
    return namespaces.flatMap((ns) => {
      const bucket = index.namespaces.get(ns);
      if (!bucket) return [];
      bucket.sorted ??= [...bucket.byName.keys()].sort(byKey);
      return bucket.sorted.map((name) => bucket.byName.get(name)!);
    });
  }

  /** The stored objects of a type in a namespace whose controller is the object with this uid, by name; shared. */
  peekOwned(type: ResourceType, namespace: string, ownerUid: string): KubeObject[] {
    const owned = this.types.get(typeKey(type))?.owned.get(ownerUid) ?? [];
    return [...owned].filter((o) => o.metadata.namespace === namespace).sort((a, b) => byKey(a.metadata.name, b.metadata.name));
  }

  /** Namespaces where something of any type lives. */
  namespaces(): string[] {
    const names = new Set<string>();
    for (const index of this.types.values()) for (const [ns, bucket] of index.namespaces) if (bucket.byName.size > 0) names.add(ns);
    return [...names].sort(byKey);
  }

  /** An object's JSON: written once for a stored object. */
  toJson(obj: KubeObject): string {
    let text = this.json.get(obj);
    if (text === undefined) {
      text = JSON.stringify(obj);
      this.json.set(obj, text);
    }
    return text;
  }

  private readonly serialize = (obj: KubeObject) => this.toJson(obj);

  /** The kept changes of a type after `resourceVersion`; undefined when some are gone (410 Gone). */
  changesSince(type: ResourceType, resourceVersion: number): WatchEvent[] | undefined {
    return this.index(type).history.since(resourceVersion);
  }

  /** The resourceVersion a watch of this type may resume from at the earliest. */
  historyFloor(type: ResourceType): number {
    return this.index(type).history.floor;
  }

  /** Forgets every change so far, as an etcd compaction: a watch can then resume only from the current revision. */
  compact() {
    for (const index of this.types.values()) index.history.compact(this.revision);
  }

  get(type: ResourceType, namespace: string, name: string): KubeObject | undefined {
    const obj = this.peek(type, namespace, name);
    return obj && structuredClone(obj);
  }

  mustGet(type: ResourceType, namespace: string, name: string): KubeObject {
    const obj = this.get(type, namespace, name);
    if (!obj) throw notFound(type, name);
    return obj;
  }

  list(type: ResourceType, namespace?: string): KubeObject[] {
    return this.peekAll(type, namespace).map((o) => structuredClone(o));
  }

  /** Stores a new object; returns it as stored (shared: read it, never change it). */
  create(type: ResourceType, namespace: string, input: ObjectInput): KubeObject {
    const name = input.metadata?.name;
    if (!name) throw new ApiError(422, 'Invalid', `${type.kind} "" is invalid: metadata.name: Required value: name is required`);
    if (this.peek(type, namespace, name)) {
      throw new ApiError(409, 'AlreadyExists', `${qualifiedName(type)} "${name}" already exists`, { name, group: type.group, kind: type.plural });
    }
    const copy = structuredClone(input);
    const obj: KubeObject = {
      ...copy,
      apiVersion: apiVersionOf(type),
      kind: type.kind,
      metadata: {
        ...copy.metadata,
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
   * Returns the object as stored (shared: read it, never change it).
   */
  update(type: ResourceType, next: KubeObject, opts: { subresource?: 'status' } = {}): KubeObject {
    const { namespace, name } = next.metadata;
    const current = this.peek(type, namespace, name);
    if (!current) throw notFound(type, name);
    if (next.metadata.resourceVersion && next.metadata.resourceVersion !== current.metadata.resourceVersion) {
      throw conflict(type, name);
    }
    let merged: KubeObject;
    if (opts.subresource === 'status') {
      merged = { ...current, metadata: { ...current.metadata }, status: structuredClone(next.status) };
    } else {
      const copy = structuredClone(next);
      merged = {
        ...copy,
        apiVersion: current.apiVersion,
        kind: current.kind,
        metadata: {
          ...copy.metadata,
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
      if (type.generation && JSON.stringify(withoutMeta(merged)) !== JSON.stringify(withoutMeta(current))) {
        merged.metadata.generation = (current.metadata.generation ?? 0) + 1;
      }
    }
    if (JSON.stringify(merged) === this.toJson(current)) return current;
    return this.commit(type, merged, 'MODIFIED');
  }

  /** Removes an object; returns it as last stored, at the resourceVersion of its deletion. */
  delete(type: ResourceType, namespace: string, name: string): KubeObject {
    const current = this.peek(type, namespace, name);
    if (!current) throw notFound(type, name);
    const index = this.index(type);
    const bucket = index.namespaces.get(namespace)!;
    bucket.byName.delete(name);
    bucket.sorted = undefined;
    if (bucket.byName.size === 0) index.namespaces.delete(namespace);
    this.unindexOwner(index, current);
    this.revision++;
    const deleted = { ...current, metadata: { ...current.metadata, resourceVersion: String(this.revision) } };
    this.record(type, index, deleted, 'DELETED');
    return deleted;
  }

  private commit(type: ResourceType, obj: KubeObject, kind: 'ADDED' | 'MODIFIED'): KubeObject {
    this.revision++;
    obj.metadata.resourceVersion = String(this.revision);
    const index = this.index(type);
    const { namespace, name } = obj.metadata;
    let bucket = index.namespaces.get(namespace);
    if (!bucket) index.namespaces.set(namespace, (bucket = { byName: new Map() }));
    const previous = bucket.byName.get(name);
    if (!previous) bucket.sorted = undefined;
    else this.unindexOwner(index, previous);
    bucket.byName.set(name, obj);
    const owner = controllerUid(obj);
    if (owner) {
      let owned = index.owned.get(owner);
      if (!owned) index.owned.set(owner, (owned = new Set()));
      owned.add(obj);
    }
    this.record(type, index, obj, kind);
    return obj;
  }

  private unindexOwner(index: TypeIndex, obj: KubeObject) {
    const owner = controllerUid(obj);
    const owned = owner && index.owned.get(owner);
    if (!owned) return;
    owned.delete(obj);
    if (owned.size === 0) index.owned.delete(owner);
  }

  private record(type: ResourceType, index: TypeIndex, obj: KubeObject, kind: WatchEvent['type']) {
    const event = new WatchEvent(kind, obj, this.revision, typeKey(type), this.serialize);
    index.history.push(event);
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
