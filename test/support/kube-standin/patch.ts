/**
 * The three patch formats the API server accepts. Strategic merge knows the merge keys of the
 * built-in lists this stand-in serves (containers by name, ports by containerPort, ...), as the
 * real server learns them from the Go struct tags.
 */

export class PatchError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

type Json = unknown;
type JsonObject = Record<string, Json>;

const isObject = (v: Json): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** RFC 7386. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/** Field name → merge key, as in the `patchMergeKey` tags of k8s.io/api. */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  ports: 'containerPort',
  imagePullSecrets: 'name',
  conditions: 'type',
  ownerReferences: 'uid',
  hostAliases: 'ip',
  topologySpreadConstraints: 'topologyKey',
};

/** Strategic merge patch for built-in kinds, including the `$patch` and `$retainKeys` directives we meet in practice. */
export function strategicMergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  if (patch.$patch === 'replace') {
    const { $patch: _, ...rest } = patch;
    return structuredClone(rest);
  }
  if (patch.$patch === 'delete') return undefined;
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$retainKeys' || key === '$patch') continue;
    if (key.startsWith('$setElementOrder/') || key.startsWith('$deleteFromPrimitiveList/')) continue;
    if (value === null) {
      delete result[key];
      continue;
    }
    const mergeKey = MERGE_KEYS[key];
    if (Array.isArray(value) && mergeKey) {
      result[key] = mergeList(Array.isArray(result[key]) ? (result[key] as Json[]) : [], value, mergeKey);
    } else if (isObject(value)) {
      const merged = strategicMergePatch(result[key], value);
      if (merged === undefined) delete result[key];
      else result[key] = merged;
    } else {
      result[key] = structuredClone(value);
    }
  }
  return result;
}

function mergeList(current: Json[], patch: Json[], mergeKey: string): Json[] {
  if (patch.some((item) => isObject(item) && item.$patch === 'replace')) {
    return patch.filter((item) => !(isObject(item) && item.$patch === 'replace')).map((item) => structuredClone(item));
  }
  const result = current.map((item) => structuredClone(item));
  for (const item of patch) {
    if (!isObject(item) || !(mergeKey in item)) {
      throw new PatchError(`strategic merge patch: every element of a list merged by "${mergeKey}" needs that key`, 422);
    }
    const index = result.findIndex((existing) => isObject(existing) && existing[mergeKey] === item[mergeKey]);
    if (item.$patch === 'delete') {
      if (index >= 0) result.splice(index, 1);
    } else if (index >= 0) {
      result[index] = strategicMergePatch(result[index], item);
    } else {
      const { $patch: _, ...rest } = item;
      result.push(structuredClone(rest));
    }
  }
  return result;
}

interface JsonPatchOp {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  from?: string;
  value?: Json;
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchError(`json patch: path "${pointer}" must start with "/"`, 422);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function resolveParent(doc: Json, tokens: string[], pointer: string): { parent: JsonObject | Json[]; key: string } {
  let node = doc;
  for (const token of tokens.slice(0, -1)) {
    if (Array.isArray(node)) node = node[Number(token)];
    else if (isObject(node)) node = node[token];
    else node = undefined;
    if (node === undefined) throw new PatchError(`json patch: path "${pointer}" does not exist`, 422);
  }
  if (!Array.isArray(node) && !isObject(node)) throw new PatchError(`json patch: path "${pointer}" does not exist`, 422);
  return { parent: node, key: tokens[tokens.length - 1]! };
}

function getAt(doc: Json, pointer: string): Json {
  let node = doc;
  for (const token of parsePointer(pointer)) {
    if (Array.isArray(node)) node = node[Number(token)];
    else if (isObject(node)) node = node[token];
    else node = undefined;
    if (node === undefined) throw new PatchError(`json patch: path "${pointer}" does not exist`, 422);
  }
  return node;
}

function arrayIndex(parent: Json[], key: string, pointer: string, forInsert: boolean): number {
  if (forInsert && key === '-') return parent.length;
  const index = Number(key);
  const max = forInsert ? parent.length : parent.length - 1;
  if (!/^\d+$/.test(key) || index > max) throw new PatchError(`json patch: index ${key} out of range in "${pointer}"`, 422);
  return index;
}

function add(doc: Json, pointer: string, value: Json): Json {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return structuredClone(value);
  const { parent, key } = resolveParent(doc, tokens, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, pointer, true), 0, structuredClone(value));
  else parent[key] = structuredClone(value);
  return doc;
}

function remove(doc: Json, pointer: string): Json {
  const tokens = parsePointer(pointer);
  const { parent, key } = resolveParent(doc, tokens, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, pointer, false), 1);
  else {
    if (!(key in parent)) throw new PatchError(`json patch: unable to remove nonexistent key "${key}" at "${pointer}"`, 422);
    delete parent[key];
  }
  return doc;
}

/** RFC 6902. */
export function jsonPatch(target: Json, ops: Json): Json {
  if (!Array.isArray(ops)) throw new PatchError('json patch: the body must be an array of operations', 400);
  let doc = structuredClone(target);
  for (const raw of ops as JsonPatchOp[]) {
    switch (raw.op) {
      case 'add':
        doc = add(doc, raw.path, raw.value);
        break;
      case 'remove':
        doc = remove(doc, raw.path);
        break;
      case 'replace':
        getAt(doc, raw.path);
        doc = add(remove(doc, raw.path), raw.path, raw.value);
        break;
      case 'move': {
        const value = getAt(doc, raw.from ?? '');
        doc = add(remove(doc, raw.from ?? ''), raw.path, value);
        break;
      }
      case 'copy':
        doc = add(doc, raw.path, getAt(doc, raw.from ?? ''));
        break;
      case 'test':
        if (JSON.stringify(getAt(doc, raw.path)) !== JSON.stringify(raw.value)) {
          throw new PatchError(`json patch: testing value ${raw.path} failed`, 422);
        }
        break;
      default:
        throw new PatchError(`json patch: unknown operation ${JSON.stringify((raw as { op?: unknown }).op)}`, 400);
    }
  }
  return doc;
}
