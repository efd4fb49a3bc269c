import { createAnalyzeCommand } from './analyze.js';
import { auditExport, auditNote, auditVerify } from './audit.js';
import type { CliCommand } from './command.js';
import { configCheck } from './config-check.js';
import { history } from './history.js';
import { start } from './start.js';

const analyze = createAnalyzeCommand({
  // One read by hand: give up within seconds when the cluster is away, rather than retry as the bot does.
  trafficShare: async (service, environment, config) => {
    const [{ kubernetesCluster }, { clusterTrafficShare }] = await Promise.all([import('../adapters/kubernetes/cluster.js'), import('../flows/cluster-readers.js')]);
    return clusterTrafficShare(kubernetesCluster(config, { retry: { attempts: 2, requestTimeoutMs: 3_000 } }).traffic)(service, environment, config);
  },
});

/**
 * Every `lifeguard` sub-command, in the order `--help` lists them. Loading this table must stay cheap, because
 * `--help` and a break-glass `audit verify` start with it: a command module imports at its top only what
 * describes it, and what it needs to run (config loader, SQLite, Prometheus, Kubernetes) inside `run`.
 */
export const COMMANDS: CliCommand[] = [start, configCheck, analyze, history, auditVerify, auditExport, auditNote];
