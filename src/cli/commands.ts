import { kubernetesCluster } from '../adapters/kubernetes/cluster.js';
import { clusterTrafficShare } from '../flows/cluster-readers.js';
import { createAnalyzeCommand } from './analyze.js';
import { auditExport, auditNote, auditVerify } from './audit.js';
import type { CliCommand } from './command.js';
import { configCheck } from './config-check.js';
import { history } from './history.js';
import { start } from './start.js';

const analyze = createAnalyzeCommand({
  // One read by hand: give up within seconds when the cluster is away, rather than retry as the bot does.
  trafficShare: (service, environment, config) =>
    clusterTrafficShare(kubernetesCluster(config, { retry: { attempts: 2, requestTimeoutMs: 3_000 } }).traffic)(service, environment, config),
});

/** Every `lifeguard` sub-command, in the order `--help` lists them. */
export const COMMANDS: CliCommand[] = [start, configCheck, analyze, history, auditVerify, auditExport, auditNote];
