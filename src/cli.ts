#!/usr/bin/env node
import { dispatch } from './cli/dispatch.js';
import { COMMANDS } from './cli/commands.js';

const io = {
  out: (text: string) => process.stdout.write(`${text}\n`),
  err: (text: string) => process.stderr.write(`${text}\n`),
  env: process.env,
  stdout: process.stdout,
};

dispatch(COMMANDS, process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`lifeguard: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
