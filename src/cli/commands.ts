import { analyze } from './analyze.js';
import { auditExport, auditNote, auditVerify } from './audit.js';
import type { CliCommand } from './command.js';
import { configCheck } from './config-check.js';
import { history } from './history.js';
import { start } from './start.js';

/** Every `lifeguard` sub-command, in the order `--help` lists them. */
export const COMMANDS: CliCommand[] = [start, configCheck, analyze, history, auditVerify, auditExport, auditNote];
