import { EXIT, UsageError, type CliCommand, type CliIo } from './command.js';
import { dbPath, operatorActor } from './operator.js';
import { withStore } from './with-store.js';

/** How often the terminal's rollback is reconciled while it runs, as the bot's ticker does. */
const TICK_MS = 1000;

/** The longest reason kept, as in Slack's `/rollback`. */
const MAX_REASON = 500;

function revisionArg(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9][0-9]{0,8}$/.test(text.trim())) throw new UsageError(`--to: "${text}" is not a revision number (a positive whole number, as \`kubectl rollout history\` lists)`);
  return Number(text.trim());
}

function reasonArg(text: string | undefined): string {
  // Zero-width and other invisible characters do not make a reason.
  const reason = (text ?? '').replace(/[\u200B-\u200D\u2060\uFEFF]/g, '').trim();
  if (!reason) throw new UsageError('--reason is required: say why, it goes to the audit log and the incident post');
  if (reason.length > MAX_REASON) throw new UsageError(`--reason is ${reason.length} characters; keep it under ${MAX_REASON}`);
  return reason;
}

/** Asks on the terminal; no terminal means no confirmation, never a silent yes. */
async function confirmed(question: string, io: CliIo): Promise<boolean | undefined> {
  if (!process.stdin.isTTY) return undefined;
  const { createInterface } = await import('node:readline/promises');
  const terminal = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await terminal.question(`${question} [y/N] `)).trim());
  } finally {
    terminal.close();
    io.err('');
  }
}

export const rollback: CliCommand = {
  path: ['rollback'],
  usage: 'lifeguard rollback <service> --env <env> [--to <revision>] --reason <text> [--dry-run] [--yes] [--force] [--db F] [--config F]',
  summary:
    'Break-glass rollback, Slack or not: prints the plan (--dry-run stops there), asks to confirm (or --yes), then drains the canary, rolls the stable back as `kubectl rollout undo` does and verifies it, as an approved /rollback does. Refuses while a release or hotfix holds the service, unless --force (audited); follows a rollback already under way instead of starting another. Slack messages wait in the outbox for `lifeguard start`. Actor: LIFEGUARD_OPERATOR or the OS user. Exit 0 rolled back, 1 refused or failed, 2 usage.',
  options: {
    env: { type: 'string' },
    to: { type: 'string' },
    reason: { type: 'string' },
    'dry-run': { type: 'boolean' },
    yes: { type: 'boolean', short: 'y' },
    force: { type: 'boolean' },
    db: { type: 'string' },
  },
  positionals: [1, 1],
  async run(args, io) {
    const [service] = args.positionals as [string];
    const environment = args.values.env as string | undefined;
    if (!environment) throw new UsageError('--env is required');
    const toRevision = revisionArg(args.values.to as string | undefined);
    const reason = reasonArg(args.values.reason as string | undefined);
    const [{ configPath, loadConfig }, { serviceTarget }, { EnvError, readAuditKey }] = await Promise.all([
      import('../config/load.js'),
      import('../domain/cluster-state.js'),
      import('../config/audit-key.js'),
    ]);
    const config = loadConfig(configPath(args.values.config as string | undefined, io.env), io.env);
    try {
      serviceTarget(config, service, environment);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    let auditKey;
    try {
      auditKey = readAuditKey(io.env);
    } catch (error) {
      if (!(error instanceof EnvError)) throw error;
      io.err(`lifeguard rollback: ${error.message}`);
      return EXIT.usage;
    }
    const operator = operatorActor(io.env);
    const options = { service, environment, toRevision, reason, operator, dryRun: args.values['dry-run'] === true, yes: args.values.yes === true, force: args.values.force === true };
    return withStore(dbPath(args.values.db, io.env), options.dryRun, io, async (store) => (await import('./rollback-run.js')).runRollback(config, store, options, io, { confirm: confirmed, tickMs: TICK_MS }), {
      auditKey,
    });
  },
};
