/**
 * Runs the API-server stand-in on its own, seeded with the example config's `checkout` service:
 *   npm run kube-standin -- --port 6443 [--ready-delay 2000] [--kubeconfig FILE] [--broken-image IMAGE ...]
 */
import { parseArgs } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { KubeStandin } from './server.js';
import { seedCheckout } from './seed.js';

const USAGE = 'usage: npm run kube-standin -- [--port N] [--ready-delay MS] [--kubeconfig FILE] [--broken-image IMAGE ...]';

function parse() {
  try {
    return parseArgs({
      options: {
        port: { type: 'string', default: '0' },
        'ready-delay': { type: 'string', default: '2000' },
        kubeconfig: { type: 'string' },
        'broken-image': { type: 'string', multiple: true, default: [] },
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

const standin = await KubeStandin.start({ port, readyDelayMs: 0 }).catch((error: NodeJS.ErrnoException) => {
  console.error(error.code === 'EADDRINUSE' ? `--port: ${port} is already in use on 127.0.0.1; pick another or 0 for any free port` : `cannot start: ${error.message}`);
  process.exit(1);
});
await seedCheckout(standin);
const dir = join(tmpdir(), 'lifeguard-kube-standin');
mkdirSync(dir, { recursive: true });
const kubeconfig = standin.writeKubeconfig('lifeguard-standin', values.kubeconfig ?? join(dir, `kubeconfig-${standin.url.split(':').pop()}`));
standin.setReadyDelay(readyDelayMs);
for (const image of values['broken-image']) standin.breakImage(image);
console.log(`kube-standin listening on ${standin.url}`);
console.log(`kubeconfig: ${kubeconfig}`);
console.log(`try: KUBECONFIG=${kubeconfig} kubectl -n shop rollout history deployment/checkout`);

const shutdown = () => {
  void standin.stop().then(() => process.exit(0));
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
