import { createAnalyzeCommand } from './analyze.js';
import { auditExport, auditNote, auditVerify } from './audit.js';
import type { CliCommand } from './command.js';
import { configCheck } from './config-check.js';
import { demo } from './demo.js';
import { evidence } from './evidence.js';
import { history } from './history.js';
import { postmortem } from './postmortem.js';
import { rollback } from './rollback.js';
import { start } from './start.js';

const analyze = createAnalyzeCommand({
  trafficShare: async (service, environment, config) => (await import('./wiring.js')).trafficShare(service, environment, config),
});

/**
 * Every `lifeguard` sub-command, in the order `--help` lists them. Loading this table must stay cheap, because
 * `--help` and a break-glass `audit verify` start with it: a command module imports at its top only what
 * describes it, and what it needs to run (config loader, SQLite, Prometheus, Kubernetes) inside `run`.
 */
export const COMMANDS: CliCommand[] = [start, configCheck, analyze, rollback, history, evidence, postmortem, auditVerify, auditExport, auditNote, demo];
