#!/usr/bin/env node
import { loadFrontBundle } from './cli/front-bundle.js';

const io = {
  out: (text: string) => process.stdout.write(`${text}\n`),
  err: (text: string) => process.stderr.write(`${text}\n`),
  env: process.env,
  stdout: process.stdout,
};

// Built, the front runs from its bundle and V8's code cache (cli/front-bundle.ts), which starts `config check` in a third
// of the time (issue #8); run from source (tsx), it is imported as modules.
const front = loadFrontBundle()?.front ?? (await import('./cli/front.js'));

front.dispatch(front.COMMANDS, process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`lifeguard: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
