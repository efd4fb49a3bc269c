import { EXIT, UsageError, type CliCommand } from './command.js';
import { dbPath } from './operator.js';
import { withStore } from './with-store.js';

/** `12`, or `#12` as the card and the incident post write it. */
function operationId(text: string): number {
  const id = /^#?([1-9]\d{0,14})$/.exec(text.trim())?.[1];
  if (id === undefined) throw new UsageError(`"${text.slice(0, 40)}" is not an operation id: give the number of "Operation #N" on the card or the incident post`);
  return Number(id);
}

export const evidence: CliCommand = {
  path: ['evidence'],
  usage: 'lifeguard evidence <operation-id> [--json] [--db F]',
  summary: "What was gathered at an operation's rollback decision: the failing metrics, both Deployments, the Events and the canary's pod logs, cut to evidence.maxBytes. Exit 0; 2 unknown id.",
  options: { json: { type: 'boolean' }, db: { type: 'string' } },
  positionals: [1, 1],
  async run(args, io) {
    const id = operationId(args.positionals[0]!);
    const file = dbPath(args.values.db, io.env);
    return withStore(file, true, io, async (store) => {
      const { findEvidence, evidenceReport } = await import('./evidence-report.js');
      const found = findEvidence(store, id);
      if (!found.ok) throw new UsageError(found.why);
      io.out(args.values.json ? JSON.stringify(found.evidence, null, 2) : evidenceReport(found.evidence, found.bytes).join('\n'));
      return EXIT.ok;
    });
  },
};
