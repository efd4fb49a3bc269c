import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeploymentController } from './controller.js';
import { defaultDeployment, validateConfigMap, validateDeployment } from './defaults.js';
import { jsonPatch, mergePatch, PatchError, strategicMergePatch } from './patch.js';
import { apiVersionOf, discoveryRoot, findType, groupList, qualifiedName, resourceList, typeOfKind, type ResourceType } from './resources.js';
import { RequestLog, type RequestCounts, type RequestRecord } from './request-log.js';
import { parseFieldSelector, parseLabelSelector, SelectorError } from './selectors.js';
import { ApiError, notFound, ObjectStore, type KubeObject } from './store.js';
import { toTable } from './tables.js';
import { WatchHub } from './watch.js';

export type { RequestCounts, RequestRecord } from './request-log.js';

/** One RBAC PolicyRule, as in a Role. */
export interface RbacRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
  /** Namespaces where the rule is bound (RoleBindings); everywhere when omitted. */
  namespaces?: string[];
}

/** A fault to inject on requests whose path matches. */
export interface Fault {
  path: string | RegExp;
  method?: string;
  /** Answer with this status (and a matching `Status` object) instead of serving the request. */
  status?: number;
  /** Delay before answering. */
  latencyMs?: number;
  /** Before serving a write, a competing writer modifies the object, so a resourceVersion precondition fails for real. */
  concurrentWrite?: boolean;
  /** How many matching requests it applies to; unlimited when omitted. */
  times?: number;
}

export interface StandinOptions {
  readyDelayMs?: number;
  syncDelayMs?: number;
  /** When given, every request is authorised against these rules, as the API server does for a ServiceAccount. */
  rbac?: RbacRule[];
  user?: string;
  port?: number;
  /** How many changes of each resource type a watch can resume from (default 10,000); older ones answer 410 Expired. */
  historyLimit?: number;
  /** How many requests `requests` keeps, the latest (default 10,000); requestCounts() counts them all. */
  requestLogLimit?: number;
  /** How often a watch with `allowWatchBookmarks` gets a BOOKMARK (default a minute, as the API server). */
  bookmarkIntervalMs?: number;
}

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Expired',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

interface Route {
  type: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function parseRoute(pathname: string): Route | 'discovery' | undefined {
  const parts = pathname.split('/').filter(Boolean);
  let group = '';
  let version: string | undefined;
  let rest: string[];
  if (parts[0] === 'api') {
    version = parts[1];
    rest = parts.slice(2);
  } else if (parts[0] === 'apis') {
    group = parts[1] ?? '';
    version = parts[2];
    rest = parts.slice(3);
  } else return undefined;
  if (!version) return 'discovery';
  if (rest.length === 0) return 'discovery';
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const type = findType(group, version, rest[0]!);
  if (!type) return undefined;
  return { type, namespace, name: rest[1], subresource: rest[2] };
}

/**
 * A Kubernetes API server for tests and demos: real REST paths, discovery, `Status` errors,
 * three patch formats, resourceVersion preconditions, watches, and a deployment controller.
 */
export class KubeStandin {
  readonly store: ObjectStore;
  readonly controller: DeploymentController;
  private readonly log: RequestLog;
  private readonly watches: WatchHub;
  private readonly faults: (Fault & { remaining: number })[] = [];
  private readonly brokenImages = new Set<string>();
  private readonly noisyImages = new Map<string, number>();
  private readonly server: Server;
  private tempDirs: string[] = [];
  url = '';

  private constructor(private readonly opts: StandinOptions) {
    this.store = new ObjectStore(() => new Date(), opts.historyLimit);
    this.log = new RequestLog(opts.requestLogLimit ?? 10_000);
    this.watches = new WatchHub(this.store, { bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 60_000 });
    this.controller = new DeploymentController(this.store, {
      readyDelayMs: opts.readyDelayMs ?? 100,
      syncDelayMs: opts.syncDelayMs ?? 5,
      brokenImages: this.brokenImages,
      noisyImages: this.noisyImages,
      clock: () => new Date(),
    });
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => this.sendError(res, error));
    });
  }

  static async start(opts: StandinOptions = {}): Promise<KubeStandin> {
    const standin = new KubeStandin(opts);
    await new Promise<void>((resolve, reject) => {
      standin.server.once('error', reject);
      standin.server.listen(opts.port ?? 0, '127.0.0.1', () => {
        standin.server.off('error', reject);
        resolve();
      });
    });
    standin.url = `http://127.0.0.1:${(standin.server.address() as AddressInfo).port}`;
    return standin;
  }

  /** The latest requests answered, oldest first (see `requestLogLimit`); a test may empty it to see only what follows. */
  get requests(): RequestRecord[] {
    return this.log.recent;
  }

  /** Every request answered so far, counted by verb and by verb and resource. */
  requestCounts(): RequestCounts {
    return this.log.counts();
  }

  /** How many watches are open. */
  get openWatches(): number {
    return this.watches.open;
  }

  /**
   * Forgets the history of changes and ends every open watch with a 410 Expired ERROR event, as the API server
   * does when a watch falls behind what it keeps: an informer must list again, then watch from that list.
   */
  expireWatches() {
    this.watches.expire();
  }

  /** Ends every open watch cleanly, as the API server does when a watch's request timeout passes: the client watches again from where it stood. */
  endWatches() {
    this.watches.endAll();
  }

  /**
   * From now on every watch ends cleanly `ms` after it opens, as behind a proxy that cuts long requests; returns
   * a function that stops cutting them.
   */
  cutWatches(ms: number): () => void {
    this.watches.cutAfterMs = ms;
    return () => {
      this.watches.cutAfterMs = undefined;
    };
  }

  async stop(): Promise<void> {
    this.controller.stop();
    this.watches.closeAll();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const dir of this.tempDirs) rmSync(dir, { recursive: true, force: true });
  }

  /** Injects a fault; returns a function that removes it. */
  inject(fault: Fault): () => void {
    const entry = { ...fault, remaining: fault.times ?? Infinity };
    this.faults.push(entry);
    return () => {
      const i = this.faults.indexOf(entry);
      if (i >= 0) this.faults.splice(i, 1);
    };
  }

  /** How long new pods take to become ready from now on. */
  setReadyDelay(ms: number) {
    this.controller.setReadyDelay(ms);
  }

  /** Pods running this image start but never become ready (a bad release). */
  breakImage(image: string) {
    this.brokenImages.add(image);
  }

  /** Pods running this image write `bytes` of log (in long lines) as they start, e.g. 10 MiB of a debug dump. */
  noisyImage(image: string, bytes: number) {
    this.noisyImages.set(image, bytes);
  }

  /** Creates any object this stand-in serves, with the defaults the API server would add. */
  apply(obj: Record<string, unknown>): KubeObject {
    const input = structuredClone(obj) as unknown as KubeObject;
    const type = typeOfKind(input.kind);
    const namespace = input.metadata.namespace ?? 'default';
    if (type.kind === 'Deployment') {
      defaultDeployment(input);
      validateDeployment(input);
    }
    if (type.kind === 'ConfigMap') validateConfigMap(input);
    return this.store.create(type, namespace, input);
  }

  appendLogs(namespace: string, pod: string, container: string, lines: string[]) {
    const key = DeploymentController.logKey(namespace, pod, container);
    this.controller.logs.set(key, [...(this.controller.logs.get(key) ?? []), ...lines]);
  }

  /** Writes a kubeconfig with one context pointing here; removed on stop() unless a path is given. */
  writeKubeconfig(context = 'lifeguard-standin', path?: string): string {
    let file = path;
    if (!file) {
      const dir = mkdtempSync(join(tmpdir(), 'kube-standin-'));
      this.tempDirs.push(dir);
      file = join(dir, 'kubeconfig');
    }
    const yaml = [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `- name: ${context}`,
      '  cluster:',
      `    server: ${this.url}`,
      // client-node refuses plain HTTP unless TLS verification is off; kubectl does not mind either way.
      '    insecure-skip-tls-verify: true',
      'users:',
      `- name: ${context}`,
      '  user:',
      '    token: standin-token',
      'contexts:',
      `- name: ${context}`,
      '  context:',
      `    cluster: ${context}`,
      `    user: ${context}`,
      '    namespace: default',
      `current-context: ${context}`,
      '',
    ].join('\n');
    writeFileSync(file, yaml);
    return file;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://standin');
    const method = req.method ?? 'GET';
    const body = await readBody(req);
    const route = parseRoute(url.pathname);

    const fault = this.faults.find((f) => f.remaining > 0 && (!f.method || f.method === method) && (typeof f.path === 'string' ? url.pathname === f.path : f.path.test(url.pathname)));
    if (fault) {
      fault.remaining--;
      if (fault.latencyMs) await sleep(fault.latencyMs);
      if (res.destroyed) return;
      if (fault.status) {
        this.record(method, url, route, fault.status);
        return this.sendStatus(res, fault.status, REASONS[fault.status] ?? 'Unknown', `injected fault: ${fault.status} on ${method} ${url.pathname}`);
      }
      if (fault.concurrentWrite && route && route !== 'discovery' && route.name && route.namespace) this.competingWrite(route);
    }

    if (url.pathname === '/version') return this.sendJson(res, 200, { major: '1', minor: '32', gitVersion: 'v1.32.0-standin', platform: 'linux/amd64' });
    if (url.pathname === '/api') return this.sendJson(res, 200, discoveryRoot());
    if (url.pathname === '/apis') return this.sendJson(res, 200, groupList());
    if (route === 'discovery') {
      const parts = url.pathname.split('/').filter(Boolean);
      const list = parts[0] === 'api' ? resourceList('', parts[1] ?? '') : resourceList(parts[1] ?? '', parts[2] ?? '');
      if (list) return this.sendJson(res, 200, list);
    }
    const namespacePath = /^\/api\/v1\/namespaces(?:\/([^/]+))?$/.exec(url.pathname);
    if (namespacePath && method === 'GET') return this.namespaces(res, namespacePath[1]);
    if (!route || route === 'discovery') {
      return this.sendStatus(res, 404, 'NotFound', 'the server could not find the requested resource');
    }

    const verb = verbOf(method, route, url);
    const resource = route.subresource ? `${route.type.plural}/${route.subresource}` : route.type.plural;
    const status = this.authorize(verb, route, resource);
    if (status) {
      this.record(method, url, route, 403);
      return this.sendError(res, status);
    }
    try {
      await this.serve(req, res, url, method, route, body);
      this.record(method, url, route, res.statusCode);
    } catch (error) {
      this.record(method, url, route, error instanceof ApiError ? error.code : 500);
      throw error;
    }
  }

  /** Namespaces exist while something lives in them; kubectl looks one up to word a NotFound. */
  private namespaces(res: ServerResponse, name: string | undefined) {
    const names = this.store.namespaces();
    const asObject = (n: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: n }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } });
    if (!name) return this.sendJson(res, 200, { apiVersion: 'v1', kind: 'NamespaceList', metadata: { resourceVersion: String(this.store.currentRevision) }, items: names.map(asObject) });
    if (!names.includes(name)) return this.sendStatus(res, 404, 'NotFound', `namespaces "${name}" not found`, { name, kind: 'namespaces' });
    return this.sendJson(res, 200, asObject(name));
  }

  private record(method: string, url: URL, route: Route | 'discovery' | undefined, status: number) {
    if (!route || route === 'discovery') return;
    this.log.add({
      method,
      path: url.pathname,
      verb: verbOf(method, route, url),
      group: route.type.group,
      resource: route.subresource ? `${route.type.plural}/${route.subresource}` : route.type.plural,
      namespace: route.namespace,
      name: route.name,
      status,
      at: performance.now(),
    });
  }

  private authorize(verb: string, route: Route, resource: string): ApiError | undefined {
    if (!this.opts.rbac) return undefined;
    const group = route.type.group;
    const allowed = this.opts.rbac.some(
      (r) =>
        (r.apiGroups.includes(group) || r.apiGroups.includes('*')) &&
        (r.resources.includes(resource) || r.resources.includes('*')) &&
        (r.verbs.includes(verb) || r.verbs.includes('*')) &&
        (!r.resourceNames?.length || (route.name !== undefined && r.resourceNames.includes(route.name))) &&
        (!r.namespaces || (route.namespace !== undefined && r.namespaces.includes(route.namespace))),
    );
    if (allowed) return undefined;
    const user = this.opts.user ?? 'system:serviceaccount:lifeguard:lifeguard';
    const subject = route.name ? `${qualifiedName(route.type)} "${route.name}"` : qualifiedName(route.type);
    const where = route.namespace ? ` in the namespace "${route.namespace}"` : ' at the cluster scope';
    return new ApiError(403, 'Forbidden', `${subject} is forbidden: User "${user}" cannot ${verb} resource "${resource}" in API group "${group}"${where}`, {
      ...(route.name ? { name: route.name } : {}),
      group,
      kind: route.type.plural,
    });
  }

  private competingWrite(route: Route) {
    const current = this.store.peek(route.type, route.namespace!, route.name!);
    if (!current) return;
    const annotations = { ...current.metadata.annotations, 'standin.lifeguard.dev/competing-writes': String(Number(current.metadata.annotations?.['standin.lifeguard.dev/competing-writes'] ?? 0) + 1) };
    this.store.update(route.type, { ...current, metadata: { ...current.metadata, annotations, resourceVersion: '' } });
  }

  private async serve(req: IncomingMessage, res: ServerResponse, url: URL, method: string, route: Route, body: string): Promise<void> {
    const { type, namespace, name, subresource } = route;
    const wantsTable = (req.headers.accept ?? '').includes('as=Table');

    if (!name) {
      if (method === 'GET' && url.searchParams.get('watch') === 'true') {
        return this.watches.start(res, { type, namespace, matches: selectorOf(url), params: url.searchParams });
      }
      if (method === 'GET') {
        const items = this.store.peekAll(type, namespace).filter(selectorOf(url));
        // The revision the list reflects: a watch from it misses nothing.
        const rv = String(this.store.currentRevision);
        if (wantsTable) return this.sendJson(res, 200, toTable(type.kind, items, rv, new Date()));
        // The items go in as the JSON the store keeps for them, not serialized again for each list.
        const head = JSON.stringify({ kind: `${type.kind}List`, apiVersion: apiVersionOf(type), metadata: { resourceVersion: rv } }).slice(0, -1);
        return this.sendText(res, 200, `${head},"items":[${items.map((o) => this.store.toJson(o)).join(',')}]}`);
      }
      if (method === 'POST' && namespace) {
        const input = pruneNulls(parseJson(body)) as KubeObject;
        if (input.metadata?.namespace && input.metadata.namespace !== namespace) {
          throw new ApiError(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
        }
        if (type.kind === 'Deployment') validateDeployment(defaultDeployment(input));
        if (type.kind === 'ConfigMap') validateConfigMap(input);
        return this.sendStored(res, 201, this.store.create(type, namespace, input));
      }
      throw new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
    }
    if (!namespace) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');

    if (subresource === 'log') {
      if (type.kind !== 'Pod' || method !== 'GET') throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
      return this.podLog(res, url, namespace, name);
    }
    if (subresource === 'scale') return this.scale(res, method, req, body, route);
    if (subresource && subresource !== 'status') throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');

    const current = this.store.peek(type, namespace, name);
    if (method === 'GET') {
      if (!current) throw notFound(type, name);
      if (wantsTable) return this.sendJson(res, 200, toTable(type.kind, [current], current.metadata.resourceVersion, new Date()));
      return this.sendStored(res, 200, current);
    }
    if (method === 'DELETE') {
      this.store.delete(type, namespace, name);
      return this.sendJson(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, group: type.group, kind: type.plural, uid: current?.metadata.uid } });
    }
    if (!current) throw notFound(type, name);
    let next: KubeObject;
    if (method === 'PUT') {
      next = parseJson(body) as KubeObject;
      if (next.metadata?.name !== name) throw new ApiError(400, 'BadRequest', `the name of the object (${next.metadata?.name}) does not match the name on the URL (${name})`);
    } else if (method === 'PATCH') {
      next = applyPatch(type, structuredClone(current), req.headers['content-type'] ?? '', body);
    } else throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    next = pruneNulls(next) as KubeObject;
    next.metadata = { ...next.metadata, namespace, name };
    if (type.kind === 'Deployment' && subresource !== 'status') validateDeployment(defaultDeployment(next), current);
    if (type.kind === 'ConfigMap') validateConfigMap(next);
    const opts = subresource === 'status' ? { subresource: 'status' as const } : {};
    return this.sendStored(res, 200, this.store.update(type, next, opts));
  }

  private scale(res: ServerResponse, method: string, req: IncomingMessage, body: string, route: Route) {
    const { type, namespace, name } = route as Required<Route>;
    if (type.kind !== 'Deployment' && type.kind !== 'ReplicaSet') throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    const current = this.store.peek(type, namespace, name);
    if (!current) throw notFound(type, name);
    const asScale = (o: KubeObject) => ({
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: { name, namespace, uid: o.metadata.uid, resourceVersion: o.metadata.resourceVersion, creationTimestamp: o.metadata.creationTimestamp },
      spec: { replicas: o.spec?.replicas ?? 0 },
      status: { replicas: (o.status?.replicas as number | undefined) ?? 0, selector: Object.entries((o.spec?.selector as { matchLabels?: Record<string, string> } | undefined)?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',') },
    });
    if (method === 'GET') return this.sendJson(res, 200, asScale(current));
    let scale: { metadata?: { resourceVersion?: string }; spec?: { replicas?: unknown } };
    if (method === 'PUT') scale = parseJson(body) as typeof scale;
    else if (method === 'PATCH') scale = applyPatch(type, asScale(current) as unknown as KubeObject, req.headers['content-type'] ?? '', body, true) as typeof scale;
    else throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    const replicas = scale.spec?.replicas;
    if (!Number.isInteger(replicas) || (replicas as number) < 0) {
      throw new ApiError(422, 'Invalid', `Scale.autoscaling "${name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`);
    }
    const next = { ...current, metadata: { ...current.metadata, resourceVersion: scale.metadata?.resourceVersion ?? '' }, spec: { ...current.spec, replicas } };
    return this.sendJson(res, 200, asScale(this.store.update(type, next)));
  }

  private podLog(res: ServerResponse, url: URL, namespace: string, name: string) {
    const pod = this.store.peek(typeOfKind('Pod'), namespace, name);
    if (!pod) throw notFound(typeOfKind('Pod'), name);
    const containers = ((pod.spec?.containers ?? []) as { name: string }[]).map((c) => c.name);
    let container = url.searchParams.get('container');
    if (!container) {
      if (containers.length !== 1) throw new ApiError(400, 'BadRequest', `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`);
      container = containers[0]!;
    }
    if (!containers.includes(container)) throw new ApiError(400, 'BadRequest', `container ${container} is not valid for pod ${name}`);
    let lines = this.controller.logs.get(DeploymentController.logKey(namespace, name, container)) ?? [];
    const tail = url.searchParams.get('tailLines');
    if (tail !== null) lines = Number(tail) === 0 ? [] : lines.slice(-Number(tail));
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end(lines.map((l) => `${l}\n`).join(''));
  }

  private sendJson(res: ServerResponse, code: number, body: unknown) {
    this.sendText(res, code, JSON.stringify(body));
  }

  /** Sends a stored object by the JSON the store keeps for it. */
  private sendStored(res: ServerResponse, code: number, obj: KubeObject) {
    this.sendText(res, code, this.store.toJson(obj));
  }

  private sendText(res: ServerResponse, code: number, json: string) {
    if (res.headersSent) return;
    res.writeHead(code, { 'Content-Type': 'application/json' });
    res.end(json);
  }

  private sendStatus(res: ServerResponse, code: number, reason: string, message: string, details?: Record<string, unknown>) {
    this.sendJson(res, code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code });
  }

  private sendError(res: ServerResponse, error: unknown) {
    if (error instanceof ApiError) return this.sendStatus(res, error.code, error.reason, error.message, error.details);
    if (error instanceof PatchError) return this.sendStatus(res, error.status, REASONS[error.status] ?? 'Invalid', error.message);
    this.sendStatus(res, 500, 'InternalError', `Internal error occurred: ${(error as Error).message}`);
  }
}

function verbOf(method: string, route: Route, url: URL): string {
  switch (method) {
    case 'GET':
      if (route.name) return 'get';
      return url.searchParams.get('watch') === 'true' ? 'watch' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return route.name ? 'delete' : 'deletecollection';
    default:
      return method.toLowerCase();
  }
}

/** The request's label and field selectors as one predicate; 400 Bad Request when they do not parse. */
function selectorOf(url: URL): (obj: KubeObject) => boolean {
  try {
    const labels = parseLabelSelector(url.searchParams.get('labelSelector'));
    const fields = parseFieldSelector(url.searchParams.get('fieldSelector'));
    return (o) => labels(o.metadata.labels ?? {}) && fields(o);
  } catch (error) {
    if (error instanceof SelectorError) throw new ApiError(400, 'BadRequest', error.message);
    throw error;
  }
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch (error) {
    throw new ApiError(400, 'BadRequest', `the body of the request could not be decoded: ${(error as Error).message}`);
  }
}

function applyPatch(type: ResourceType, current: KubeObject, contentType: string, body: string, builtInSubresource = false): KubeObject {
  const patch = parseJson(body);
  const media = contentType.split(';')[0]!.trim();
  if (media === 'application/merge-patch+json') return mergePatch(current, patch) as KubeObject;
  if (media === 'application/json-patch+json') return jsonPatch(current, patch) as KubeObject;
  if (media === 'application/strategic-merge-patch+json' && (type.builtIn || builtInSubresource)) return strategicMergePatch(current, patch) as KubeObject;
  const accepted = ['application/json-patch+json', 'application/merge-patch+json', ...(type.builtIn ? ['application/strategic-merge-patch+json'] : [])];
  throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`);
}

/** Decoding into Go structs turns `null` into an omitted zero value (`creationTimestamp: null` from kubectl). */
function pruneNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(pruneNulls);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, pruneNulls(v)]));
  }
  return value;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
