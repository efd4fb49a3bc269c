import { EXIT, UsageError, type CliCommand } from './command.js';
import { dbPath, operatorActor } from './operator.js';
import { parseTimeArg } from './time-arg.js';
import { withStore } from './with-store.js';

const dbOption = { db: { type: 'string' } } as const;

export const auditVerify: CliCommand = {
  path: ['audit', 'verify'],
  usage: 'lifeguard audit verify [--db F] [--expect <id>:<hash>]... [--checkpoint-from-configmap [--namespace NS]] [--state]',
  summary:
    'Recompute the (keyed) audit log hash chain; --expect and --checkpoint-from-configmap (ConfigMap lifeguard-audit-checkpoint in --namespace, else POD_NAMESPACE, else lifeguard) check it still holds a checkpoint; --state checks the approval and release tables against the log. Exit 0 intact; 1 broken, truncated, rewritten or disagreeing; 2 cannot check (e.g. keyed and LIFEGUARD_AUDIT_KEY unset).',
  options: { ...dbOption, expect: { type: 'string', multiple: true }, 'checkpoint-from-configmap': { type: 'boolean' }, namespace: { type: 'string' }, state: { type: 'boolean' } },
  positionals: [0, 0],
  // Loaded when run, so that `--help` and the other commands do not pay for zod and the checks they never use.
  run: async (args, io) => (await import('./audit-verify.js')).runAuditVerify(args, io),
};

export const auditExport: CliCommand = {
  path: ['audit', 'export'],
  usage: 'lifeguard audit export [--db F] [--since <time>] [--format jsonl|csv]',
  summary: 'Write the audit log to stdout as JSON lines (default) or CSV; --since takes RFC 3339, unix seconds or a duration ago (24h).',
  options: { ...dbOption, since: { type: 'string' }, format: { type: 'string' } },
  positionals: [0, 0],
  async run(args, io) {
    const format = (args.values.format as string | undefined) ?? 'jsonl';
    if (format !== 'jsonl' && format !== 'csv') throw new UsageError(`--format: "${format}" is not one of jsonl, csv`);
    const since = typeof args.values.since === 'string' ? parseTimeArg(args.values.since, '--since').toISOString() : undefined;
    // Loaded when run, like verify: the streaming writer is no cost to the other commands.
    return (await import('./audit-export.js')).runAuditExport(args, io, format, since);
  },
};

export const auditNote: CliCommand = {
  path: ['audit', 'note'],
  usage: 'lifeguard audit note <text> [--subject <service/env>] [--db F]',
  summary: 'Append an operator note to the audit log (e.g. a change made by hand while Slack was down); actor from LIFEGUARD_OPERATOR or the OS user.',
  options: { ...dbOption, subject: { type: 'string' } },
  positionals: [1, 1],
  async run(args, io) {
    const text = args.positionals[0]!.trim();
    if (!text) throw new UsageError('the note is empty');
    const subject = (args.values.subject as string | undefined) ?? '-';
    if (subject !== '-' && !/^[a-z0-9-]+\/[a-z0-9-]+$/.test(subject)) {
      throw new UsageError(`--subject: "${subject}" is not of the form <service>/<environment>`);
    }
    const { EnvError, readAuditKey } = await import('../config/audit-key.js');
    let auditKey;
    try {
      auditKey = readAuditKey(io.env);
    } catch (error) {
      if (!(error instanceof EnvError)) throw error;
      io.err(`lifeguard audit note: ${error.message}`);
      return EXIT.usage;
    }
    return withStore(
      dbPath(args.values.db, io.env),
      false,
      io,
      (store) => {
        const record = store.audit.append({ actor: operatorActor(io.env), action: 'operator.note', subject, detail: { text } });
        io.out(`noted as audit row ${record.id} by ${record.actor}`);
        return EXIT.ok;
      },
      { auditKey },
    );
  },
};
