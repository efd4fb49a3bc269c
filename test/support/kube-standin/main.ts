/**
 * Runs the API-server stand-in on its own, seeded with the example config's `checkout` service, and with
 * `--services N` a fleet of N more (svc-0001…) and a lifeguard.yaml naming them all:
 *   npm run kube-standin -- --port 6443 [--ready-delay 2000] [--kubeconfig FILE] [--broken-image IMAGE ...] [--services N]
 */
import { parseArgs } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { seedServices, writeFleetConfig } from './fleet.js';
import { RESOURCE_TYPES } from './resources.js';
import { KubeStandin } from './server.js';
import { seedCheckout } from './seed.js';

const USAGE = 'usage: npm run kube-standin -- [--port N] [--ready-delay MS] [--kubeconfig FILE] [--broken-image IMAGE ...] [--services N]';

function parse() {
  try {
    return parseArgs({
      options: {
        port: { type: 'string', default: '0' },
        'ready-delay': { type: 'string', default: '2000' },
        kubeconfig: { type: 'string' },
        'broken-image': { type: 'string', multiple: true, default: [] },
        services: { type: 'string', default: '0' },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}
const { values } = parse();

if (values.help) {
  console.log(USAGE);
  console.log('  --broken-image: pods running IMAGE start but never become ready (a release that fails its rollout)');
  console.log('  --services: N more services, svc-0001…, 50 to a namespace (fleet-01…), and a lifeguard.yaml for them all');
  process.exit(0);
}

const port = Number(values.port);
const readyDelayMs = Number(values['ready-delay']);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port: not a port number: ${values.port}`);
  process.exit(2);
}
if (!Number.isFinite(readyDelayMs) || readyDelayMs < 0) {
  console.error(`--ready-delay: not a number of milliseconds: ${values['ready-delay']}`);
  process.exit(2);
}
const services = Number(values.services);
if (!Number.isInteger(services) || services < 0) {
  console.error(`--services: not a number of services: ${values.services}`);
  process.exit(2);
}

const standin = await KubeStandin.start({ port, readyDelayMs: 0 }).catch((error: NodeJS.ErrnoException) => {
  console.error(error.code === 'EADDRINUSE' ? `--port: ${port} is already in use on 127.0.0.1; pick another or 0 for any free port` : `cannot start: ${error.message}`);
  process.exit(1);
});
await seedCheckout(standin);
const fleet = services > 0 ? await seedServices(standin, services) : [];
const dir = join(tmpdir(), 'lifeguard-kube-standin');
mkdirSync(dir, { recursive: true });
const listening = standin.url.split(':').pop();
const kubeconfig = standin.writeKubeconfig('lifeguard-standin', values.kubeconfig ?? join(dir, `kubeconfig-${listening}`));
standin.setReadyDelay(readyDelayMs);
for (const image of values['broken-image']) standin.breakImage(image);
console.log(`kube-standin listening on ${standin.url}`);
console.log(`kubeconfig: ${kubeconfig}`);
if (fleet.length > 0) {
  const objects = RESOURCE_TYPES.map((t) => [t.kind, standin.store.peekAll(t).length] as const).filter(([, n]) => n > 0);
  console.log(`seeded ${fleet.length} services (${fleet[0]!.name} … ${fleet.at(-1)!.name}) in ${new Set(fleet.map((s) => s.namespace)).size} namespaces: ${objects.map(([kind, n]) => `${n} ${kind}`).join(', ')}`);
  console.log(`config: ${writeFleetConfig(join(dir, `lifeguard-${listening}.yaml`), fleet, { withCheckout: true })}`);
}
console.log(`try: KUBECONFIG=${kubeconfig} kubectl -n shop rollout history deployment/checkout`);

const shutdown = () => {
  void standin.stop().then(() => process.exit(0));
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
