import type { CliCommand } from './command.js';
import { configCheck } from './config-check.js';
import { analyze } from './analyze.js';

/** Every `lifeguard` sub-command, in the order `--help` lists them. */
export const COMMANDS: CliCommand[] = [configCheck, analyze];
