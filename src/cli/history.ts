import { listHistory, type ReleaseRow } from '../adapters/sqlite/releases.js';
import { EXIT, type CliCommand } from './command.js';
import { dbPath } from './operator.js';
import { textTable } from './text-table.js';
import { withStore } from './with-store.js';

function duration(row: ReleaseRow): string {
  if (!row.finished_at) return 'running';
  const seconds = Math.round((Date.parse(row.finished_at) - Date.parse(row.created_at)) / 1000);
  return seconds >= 120 ? `${Math.round(seconds / 60)}m` : `${seconds}s`;
}

export const history: CliCommand = {
  path: ['history'],
  usage: 'lifeguard history <service> [--env <env>] [--json] [--db F]',
  summary: 'Releases, rollbacks and hotfixes of a service, newest first, with outcome and duration.',
  options: { env: { type: 'string' }, json: { type: 'boolean' }, db: { type: 'string' } },
  positionals: [1, 1],
  async run(args, io) {
    const service = args.positionals[0]!;
    const env = args.values.env as string | undefined;
    return withStore(dbPath(args.values.db, io.env), true, io, (store) => {
      const rows = listHistory(store.db, service, env);
      if (args.values.json) {
        io.out(JSON.stringify(rows.map((r) => ({ ...r, duration: duration(r) })), null, 2));
      } else if (rows.length === 0) {
        io.out(`no releases or rollbacks recorded for ${service}${env ? ` in ${env}` : ''}`);
      } else {
        io.out(
          textTable([
            ['ID', 'KIND', 'ENV', 'FROM', 'TO', 'STATE', 'OUTCOME', 'BY', 'STARTED', 'DURATION'],
            ...rows.map((r) => [r.id, r.kind, r.environment, r.from_version ?? '-', r.to_version ?? '-', r.state, r.outcome ?? '-', r.requested_by, r.created_at, duration(r)]),
          ]).join('\n'),
        );
      }
      return EXIT.ok;
    });
  },
};
