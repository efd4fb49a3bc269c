import { AuditKeyRequired, type ChainCheck } from '../adapters/sqlite/audit-chain.js';
import { checkStateTables } from '../adapters/sqlite/state-check.js';
import type { SqliteStore } from '../adapters/sqlite/store.js';
import { EnvError, readAuditKey } from '../config/audit-key.js';
import { compareCheckpoint, describeFinding, expectForm, parseExpect, type Checkpoint } from '../domain/checkpoint.js';
import { EXIT, UsageError, type CliIo, type ParsedArgs } from './command.js';
import { dbPath } from './operator.js';
import { withStore } from './with-store.js';

/** Namespace of the checkpoint ConfigMap when neither --namespace nor POD_NAMESPACE names one: the manifests' own. */
export const DEFAULT_NAMESPACE = 'lifeguard';

/** A checkpoint to hold the log to, and where it came from. */
interface Expected {
  checkpoint: Pick<Checkpoint, 'id' | 'hash'>;
  source: string;
}

/** Something kept the check from running at all: one line, exit 2. */
class CannotCheck extends Error {}

function parseExpects(values: unknown): Expected[] {
  const texts = Array.isArray(values) ? (values as string[]) : typeof values === 'string' ? [values] : [];
  return texts.map((text) => {
    const checkpoint = parseExpect(text);
    if (!checkpoint) throw new UsageError(`--expect: "${text}" is not <id>:<hash> (a row id, a colon and its hash as audit export or a checkpoint gives it)`);
    return { checkpoint, source: `--expect ${expectForm(checkpoint)}` };
  });
}

/** Reads the checkpoint ConfigMap through KUBECONFIG (or in-cluster config); client-node is loaded only here. */
async function configMapCheckpoint(namespace: string, env: NodeJS.ProcessEnv): Promise<Expected> {
  const [{ ConfigMapCheckpoints }, { homeKubeConfig }, { ClusterError }] = await Promise.all([
    import('../adapters/kubernetes/checkpoint-configmap.js'),
    import('../adapters/kubernetes/kubeconfig.js'),
    import('../adapters/kubernetes/errors.js'),
  ]);
  let kubeConfig;
  try {
    kubeConfig = homeKubeConfig(env);
  } catch (error) {
    throw new CannotCheck(`cannot read the kubeconfig (KUBECONFIG=${env.KUBECONFIG ?? '~/.kube/config'}): ${(error as Error).message}`);
  }
  const store = new ConfigMapCheckpoints(kubeConfig, { namespace });
  let stored;
  try {
    stored = await store.read();
  } catch (error) {
    if (error instanceof ClusterError && error.kind === 'forbidden') {
      throw new CannotCheck(`the user of kubeconfig context "${kubeConfig.getCurrentContext()}" may not get ${store.where}: ask for read access to it`);
    }
    throw new CannotCheck((error as Error).message);
  }
  if (!stored) {
    throw new CannotCheck(`${store.where} not found: Lifeguard writes it when it runs in a cluster (POD_NAMESPACE set); name its namespace with --namespace`);
  }
  return { checkpoint: stored.checkpoint, source: `${store.where}, taken ${stored.checkpoint.at}` };
}

function chainLines(check: ChainCheck, file: string): string[] {
  if (!check.ok) return [`audit log BROKEN at id ${check.brokenId}: ${check.reason} (${file})`];
  const intact = `audit log intact: ${check.rows} row${check.rows === 1 ? '' : 's'} verified (${file})`;
  if (check.rows === 0) return [intact];
  if (check.keyedFrom === undefined) {
    return [intact, 'not keyed: plain SHA-256, which anyone able to write the database can recompute; set LIFEGUARD_AUDIT_KEY to key new rows, and keep checkpoints'];
  }
  if (check.keyedFrom === 1) return [intact, 'keyed: every row is HMAC-SHA256 with LIFEGUARD_AUDIT_KEY'];
  return [intact, `keyed: HMAC-SHA256 with LIFEGUARD_AUDIT_KEY from row ${check.keyedFrom}; rows 1-${check.keyedFrom - 1} predate the key (plain SHA-256)`];
}

function checkpointLine(expected: Expected, store: SqliteStore): { ok: boolean; line: string } {
  const finding = compareCheckpoint(expected.checkpoint, store.audit.head()?.id ?? 0, (id) => store.audit.hashAt(id));
  const label = finding.ok ? 'checkpoint' : finding.problem === 'rewritten' ? 'audit log REWRITTEN' : 'audit log TRUNCATED';
  return { ok: finding.ok, line: `${label}: ${describeFinding(finding)} [${expected.source}]` };
}

function stateLines(store: SqliteStore): { ok: boolean; lines: string[] } {
  const state = checkStateTables(store.db);
  if (state.disagreements.length === 0) {
    return { ok: true, lines: [`state tables agree with the log: ${state.requests} approval request${state.requests === 1 ? '' : 's'}, ${state.releases} release${state.releases === 1 ? '' : 's'}`] };
  }
  return { ok: false, lines: state.disagreements.map((d) => `state DISAGREES: ${d.message}`) };
}

/** `lifeguard audit verify`: the chain, then each checkpoint, then (with --state) the state tables. */
export async function runAuditVerify(args: ParsedArgs, io: CliIo): Promise<number> {
  const expected = parseExpects(args.values.expect);
  const fromConfigMap = args.values['checkpoint-from-configmap'] === true;
  const namespaceFlag = args.values.namespace as string | undefined;
  if (namespaceFlag !== undefined && !fromConfigMap) throw new UsageError('--namespace goes with --checkpoint-from-configmap');
  if (namespaceFlag !== undefined && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespaceFlag)) throw new UsageError(`--namespace: "${namespaceFlag}" is not a namespace name`);
  try {
    const auditKey = readAuditKey(io.env);
    if (fromConfigMap) expected.push(await configMapCheckpoint(namespaceFlag ?? (io.env.POD_NAMESPACE || DEFAULT_NAMESPACE), io.env));
    const file = dbPath(args.values.db, io.env);
    return await withStore(
      file,
      true,
      io,
      async (store) => {
        const chain = await store.audit.verifyOnEveryCore(file);
        const checkpoints = expected.map((e) => checkpointLine(e, store));
        const state = args.values.state ? stateLines(store) : { ok: true, lines: [] };
        for (const line of [...chainLines(chain, file), ...checkpoints.map((c) => c.line), ...state.lines]) io.out(line);
        return chain.ok && checkpoints.every((c) => c.ok) && state.ok ? EXIT.ok : EXIT.failed;
      },
      { auditKey },
    );
  } catch (error) {
    if (!(error instanceof CannotCheck || error instanceof AuditKeyRequired || error instanceof EnvError)) throw error;
    io.err(`lifeguard audit verify: ${error.message}`);
    return EXIT.usage;
  }
}
