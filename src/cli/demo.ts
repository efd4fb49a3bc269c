import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT, type CliCommand } from './command.js';

/** The playground lives with the stand-ins it runs, in the source tree: found from here, built or not. */
function playground(): { root: string; main: string } | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 4; up++) {
    const main = join(dir, 'test', 'support', 'demo', 'main.ts');
    if (existsSync(main) && existsSync(join(dir, 'node_modules', 'tsx'))) return { root: dir, main };
    dir = dirname(dir);
  }
  return undefined;
}

export const demo: CliCommand = {
  path: ['demo'],
  usage: 'lifeguard demo [--once | --script]',
  summary:
    'The playground: Lifeguard against local stand-ins of Kubernetes and Slack, live traffic and a real Prometheus, driven from the workspace page it prints the address of (as `npm run demo`). --once plays the scripted release in the terminal and exits; --script plays it, then keeps the page. Needs the source tree with its dev tools (`npm ci`).',
  options: { once: { type: 'boolean' }, script: { type: 'boolean' } },
  positionals: [0, 0],
  async run(args, io) {
    const found = playground();
    if (!found) {
      io.err('lifeguard demo: the playground ships with the source, not with the package: in a clone of Lifeguard run `npm ci`, then `lifeguard demo` (or `npm run demo`)');
      return EXIT.failed;
    }
    const flags = [...(args.values.once ? ['--once'] : []), ...(args.values.script ? ['--script'] : [])];
    // Its own process group: a Ctrl-C reaches it once, forwarded from here, whether it came from a terminal or a
    // `kill`. The demo stops what it started on the first and gives up cleaning on a second.
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, ['--import', 'tsx', found.main, ...flags], { cwd: found.root, stdio: 'inherit', detached: true });
    const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    for (const signal of signals) process.on(signal, forward);
    try {
      return await new Promise<number>((resolve, reject) => {
        child.once('error', reject);
        child.once('exit', (code, signal) => resolve(code ?? (signal ? EXIT.failed : EXIT.ok)));
      });
    } finally {
      for (const signal of signals) process.removeListener(signal, forward);
    }
  },
};
