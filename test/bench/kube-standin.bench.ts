import { Agent, request } from 'node:http';
import { loadavg } from 'node:os';
import { seedServices } from '../support/kube-standin/fleet.js';
import { typeOfKind } from '../support/kube-standin/resources.js';
import { allSettled, serviceDeployment } from '../support/kube-standin/seed.js';
import { KubeStandin } from '../support/kube-standin/server.js';
import { median, repeat, type Bench } from './harness.js';

const OBJECTS = 5_000;
const NAMESPACES = 50;
/** Requests in flight at once, as a handful of informers and controllers keep a real API server busy. */
const IN_FLIGHT = 8;
const DEPLOYMENTS = typeOfKind('Deployment');

const namespaceOf = (i: number) => `bench-${String(i % NAMESPACES).padStart(2, '0')}`;

/**
 * The API-server stand-in with 5,000 Deployments (100 in each of 50 namespaces), its controller running:
 * creates, lists and watch events per second over loopback HTTP. The client runs in the same process, so
 * these are the stand-in and its client together on one core, a floor for the stand-in alone.
 */
export const bench: Bench = {
  name: 'kube stand-in',
  async run() {
    const creates: number[] = [];
    const lists: number[] = [];
    const listsAll: number[] = [];
    const watchRates: number[] = [];
    const requestsPerMinute: number[] = [];
    let listBytes = 0;
    for (let run = 0; run < 3; run++) {
      const standin = await KubeStandin.start({ readyDelayMs: 0, syncDelayMs: 0 });
      const http = client(standin.url);
      try {
        const before = standin.requestCounts().total;
        const t0 = performance.now();
        await inParallel(OBJECTS, async (i) => {
          const body = serviceDeployment(`app-${i}`, { namespace: namespaceOf(i), name: `app-${i}`, track: 'stable', image: 'registry.example.com/bench:1.0.0', replicas: 0 });
          await http.send('POST', `/apis/apps/v1/namespaces/${namespaceOf(i)}/deployments`, body, 201);
        });
        const createMs = performance.now() - t0;
        creates.push(OBJECTS / (createMs / 1000));
        requestsPerMinute.push(((standin.requestCounts().total - before) / createMs) * 60_000);
        await allSettled(standin, standin.store.peekAll(DEPLOYMENTS).map((d) => d.metadata), 60_000);

        lists.push(await rate(500, () => http.send('GET', `/apis/apps/v1/namespaces/${namespaceOf(7)}/deployments`, undefined, 200)));
        listsAll.push(await rate(20, async () => (listBytes = (await http.send('GET', '/apis/apps/v1/deployments', undefined, 200)).length)));
        watchRates.push(await watchEventsPerSecond(standin, http));
      } finally {
        http.close();
        await standin.stop();
      }
    }
    const seeds = await repeat(3, async () => {
      const standin = await KubeStandin.start({ readyDelayMs: 0, syncDelayMs: 0 });
      try {
        const t0 = performance.now();
        await seedServices(standin, 1_000);
        return (performance.now() - t0) / 1000;
      } finally {
        await standin.stop();
      }
    });
    return [
      {
        name: `creates/s, ${OBJECTS.toLocaleString('en-US')} Deployments, ${IN_FLIGHT} in flight`,
        unit: 'creates/s',
        median: median(creates),
        runs: creates.length,
        target: { op: '>=', value: 1_000 },
        note: `the controller makes each one's ReplicaSet meanwhile; ${Math.round(median(requestsPerMinute)).toLocaleString('en-US')} API requests per minute (requestCounts()); load average ${loadavg()[0]!.toFixed(1)} on a shared 2-core machine`,
      },
      { name: `lists/s of one namespace's 100 Deployments (of ${OBJECTS.toLocaleString('en-US')})`, unit: 'lists/s', median: median(lists), runs: lists.length, target: { op: '>=', value: 500 } },
      { name: `lists/s of all ${OBJECTS.toLocaleString('en-US')} Deployments`, unit: 'lists/s', median: median(listsAll), runs: listsAll.length, note: `${(listBytes / 2 ** 20).toFixed(1)} MiB each` },
      {
        name: 'watch events delivered/s (10 watches of every namespace, 50 of one each)',
        unit: 'events/s',
        median: median(watchRates),
        runs: watchRates.length,
        target: { op: '>=', value: 10_000 },
        note: `${OBJECTS.toLocaleString('en-US')} label changes, each sent to 11 watches`,
      },
      { name: 'seedServices(1000), as `npm run kube-standin -- --services 1000` seeds', unit: 's', median: median(seeds), runs: seeds.length, note: '2,000 Deployments rolled out with their ReplicaSets, pods and Events, 667 routes' },
    ];
  },
};

/** Changes every Deployment's labels and times until every watch has had each change it selects. */
async function watchEventsPerSecond(standin: KubeStandin, http: ReturnType<typeof client>): Promise<number> {
  const from = standin.store.currentRevision;
  const everywhere = Array.from({ length: 10 }, () => http.watch(`/apis/apps/v1/deployments?watch=true&resourceVersion=${from}`));
  const perNamespace = Array.from({ length: NAMESPACES }, (_, i) => http.watch(`/apis/apps/v1/namespaces/${namespaceOf(i)}/deployments?watch=true&resourceVersion=${from}`));
  const watches = [...everywhere, ...perNamespace];
  await Promise.all(watches.map((w) => w.established));
  const t0 = performance.now();
  for (const d of standin.store.peekAll(DEPLOYMENTS)) {
    standin.store.update(DEPLOYMENTS, { ...d, metadata: { ...d.metadata, labels: { ...d.metadata.labels, touched: 'yes' } } });
  }
  const perWatch = OBJECTS / NAMESPACES;
  await Promise.all([...everywhere.map((w) => w.received(OBJECTS)), ...perNamespace.map((w) => w.received(perWatch))]);
  const seconds = (performance.now() - t0) / 1000;
  for (const w of watches) w.close();
  return watches.reduce((n, w) => n + w.count, 0) / seconds;
}

async function rate(times: number, fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await inParallel(times, fn);
  return times / ((performance.now() - t0) / 1000);
}

/** Calls fn(0) … fn(count - 1), IN_FLIGHT at a time. */
async function inParallel(count: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < count) await fn(next++);
    }),
  );
}

/** A bare HTTP client on kept-alive connections: the stand-in's cost, not a Kubernetes client's. */
function client(base: string) {
  const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
  return {
    send(method: string, path: string, body: unknown, expect: number): Promise<string> {
      return new Promise((resolve, reject) => {
        const req = request(`${base}${path}`, { method, agent, headers: { 'Content-Type': 'application/json' } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode === expect) resolve(text);
            else reject(new Error(`${method} ${path}: ${res.statusCode} ${text.slice(0, 200)}`));
          });
        });
        req.on('error', reject);
        req.end(body === undefined ? undefined : JSON.stringify(body));
      });
    },
    /** A watch that counts the events it gets (one per line). */
    watch(path: string) {
      let count = 0;
      let waiting: { n: number; resolve: () => void } | undefined;
      let established!: () => void;
      const req = request(`${base}${path}`, (res) => {
        established();
        res.on('data', (chunk: Buffer) => {
          for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) count++;
          if (waiting && count >= waiting.n) waiting.resolve();
        });
      });
      req.on('error', () => {});
      req.end();
      return {
        established: new Promise<void>((resolve) => (established = resolve)),
        get count() {
          return count;
        },
        received: (n: number) => (count >= n ? Promise.resolve() : new Promise<void>((resolve) => (waiting = { n, resolve }))),
        close: () => req.destroy(),
      };
    },
    close: () => agent.destroy(),
  };
}
