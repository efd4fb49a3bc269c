#!/usr/bin/env node
import { loadFrontBundle } from './cli/front-bundle.js';

// A reader that went away (`lifeguard audit verify | head -1`) gets no more lines, as with any Unix tool, instead of the
// process dying on EPIPE with a stack trace; the command still runs to its end and exits with its own status.
// Any other write error (a full disk behind `>`) fails the command, since its output is incomplete, and is said on
// standard error when that is not what failed. Node reports it after the write returned, often after the command
// has ended with its status, so both orders are covered here and below.
const gone = { stdout: false, stderr: false };
/** What failed the output, which a command writing with backpressure (stream-out.ts) throws again: said once. */
let outputError: Error | undefined;
for (const name of ['stdout', 'stderr'] as const) {
  process[name].on('error', (error: NodeJS.ErrnoException) => {
    gone[name] = true;
    if (error.code === 'EPIPE') return;
    if (!outputError && name === 'stdout') io.err(`lifeguard: could not write the output: ${error.message}`);
    outputError ??= error;
    if (!process.exitCode) process.exitCode = 1;
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
    process.exitCode = outputError && code === 0 ? 1 : code;
  },
  (error: unknown) => {
    if (error !== outputError) io.err(`lifeguard: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
