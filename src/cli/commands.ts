import { auditExport, auditNote, auditVerify } from './audit.js';
import type { CliCommand } from './command.js';
import { configCheck } from './config-check.js';
import { history } from './history.js';

/** Every `lifeguard` sub-command, in the order `--help` lists them. */
export const COMMANDS: CliCommand[] = [configCheck, history, auditVerify, auditExport, auditNote];
