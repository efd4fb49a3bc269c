import { EXIT, type CliCommand } from './command.js';
import { dbPath } from './operator.js';
import { withStore } from './with-store.js';

/** An operation id as the incident post shows it: a plain positive integer, nothing read into it. */
const OPERATION_ID = /^[1-9][0-9]{0,14}$/;

export const postmortem: CliCommand = {
  path: ['postmortem'],
  usage: 'lifeguard postmortem <operation-id> [--db F]',
  summary: 'Print the post-mortem draft (Markdown) of a rollback: drafted as an automated rollback ends, or on request (/rollback postmortem <id>). Exit 0; 2 for an unknown id or one without a draft.',
  options: { db: { type: 'string' } },
  positionals: [1, 1],
  async run(args, io) {
    const text = args.positionals[0]!;
    if (!OPERATION_ID.test(text)) {
      io.err(`lifeguard: "${text.slice(0, 40)}" is not an operation id: give the number of the rollback, as its incident post shows it ("Operation #12" → 12)`);
      return EXIT.usage;
    }
    const id = Number(text);
    return withStore(dbPath(args.values.db, io.env), true, io, async (store) => {
      const { SqlitePostmortems } = await import('../adapters/sqlite/postmortems.js');
      // A database from before post-mortems (schema 8 or older) has no draft of anything.
      const hasTable = store.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'postmortems'").get() !== undefined;
      const draft = hasTable ? new SqlitePostmortems(store.db).get(id) : undefined;
      if (draft) {
        io.out(draft.markdown.trimEnd());
        return EXIT.ok;
      }
      const known = store.db.prepare('SELECT 1 FROM operations WHERE id = ?').get(id) !== undefined;
      io.err(
        known
          ? `lifeguard: operation ${id} has no post-mortem draft: automated rollbacks get one as they end; ask for a manual one with /rollback postmortem ${id}`
          : `lifeguard: there is no operation ${id} in ${store.file}: check the id, or point --db (or LIFEGUARD_DB) at the right database`,
      );
      return EXIT.usage;
    });
  },
};
