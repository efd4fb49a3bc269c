#!/usr/bin/env node
import { loadFrontBundle } from './cli/front-bundle.js';

// A reader that went away (`lifeguard audit verify | head -1`) gets no more lines, as with any Unix tool, instead of the
// process dying on EPIPE with a stack trace; the command still runs to its end and exits with its own status.
// Any other write error (a full disk behind `>`) is said once and fails the command, since its output is incomplete.
const gone = { stdout: false, stderr: false };
let outputFailed = false;
for (const name of ['stdout', 'stderr'] as const) {
  process[name].on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') {
      gone[name] = true;
      return;
    }
    if (!outputFailed && name === 'stdout') process.stderr.write(`lifeguard: could not write the output: ${error.message}\n`);
    outputFailed = true;
    gone[name] = true;
  });
}

const io = {
  out: (text: string) => gone.stdout || process.stdout.write(`${text}\n`),
  err: (text: string) => gone.stderr || process.stderr.write(`${text}\n`),
  env: process.env,
  stdout: process.stdout,
};

// Built, the front runs from its bundle and V8's code cache (cli/front-bundle.ts), which starts `config check` in a third
// of the time (issue #8); run from source (tsx), it is imported as modules.
const front = loadFrontBundle()?.front ?? (await import('./cli/front.js'));

front.dispatch(front.COMMANDS, process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = outputFailed && code === 0 ? 1 : code;
  },
  (error: unknown) => {
    process.stderr.write(`lifeguard: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
