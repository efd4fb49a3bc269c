import { catalogFromConfig } from '../../commands/catalog.js';
import { resolveTarget, unknownName, type Catalog } from '../../commands/grammar.js';
import type { HistoryEntry } from '../ports.js';
import type { Config } from '../config/schema.js';
import { EXIT, UsageError, type CliCommand } from './command.js';
import { dbPath } from './operator.js';
import { textTable } from './text-table.js';
import { withStore } from './with-store.js';

function duration(entry: HistoryEntry): string {
  if (!entry.finishedAt) return 'running';
  const seconds = Math.round((Date.parse(entry.finishedAt) - Date.parse(entry.createdAt)) / 1000);
  return seconds >= 120 ? `${Math.round(seconds / 60)}m` : `${seconds}s`;
}

/** `--json` keeps the names and nulls it has always printed (the database's columns): scripts read them. */
const jsonRow = (e: HistoryEntry) => ({
  id: e.id,
  kind: e.kind,
  service: e.service,
  environment: e.environment,
  from_version: e.fromVersion ?? null,
  to_version: e.toVersion ?? null,
  state: e.state,
  requested_by: e.requestedBy,
  reason: e.reason ?? null,
  created_at: e.createdAt,
  finished_at: e.finishedAt ?? null,
  outcome: e.outcome ?? null,
  duration: duration(e),
});

/**
 * The services and environments history may name: the config's, and those the database has recorded, so a service
 * taken out of the config keeps its history readable.
 */
function historyCatalog(config: Config, recorded: { service: string; environment: string }[]): Catalog {
  const known = new Map(Object.entries(catalogFromConfig(config).services).map(([service, envs]) => [service, new Set(envs)]));
  for (const { service, environment } of recorded) known.set(service, (known.get(service) ?? new Set()).add(environment));
  return { services: Object.fromEntries([...known].map(([service, envs]) => [service, [...envs]])) };
}

/** A misspelt name is a usage error with the nearest known one, not an empty history. */
function checkNames(catalog: Catalog, service: string, env: string | undefined): void {
  if (env === undefined) {
    if (!Object.hasOwn(catalog.services, service)) throw new UsageError(unknownName('service', service, Object.keys(catalog.services)));
    return;
  }
  const target = resolveTarget(catalog, service, env);
  if (!target.ok) throw new UsageError(target.error);
}

export const history: CliCommand = {
  path: ['history'],
  usage: 'lifeguard history <service> [--env <env>] [--json] [--db F] [--config F]',
  summary: 'Releases, rollbacks and hotfixes of a service, newest first, with outcome and duration; the service and environment must be in the config or the database.',
  options: { env: { type: 'string' }, json: { type: 'boolean' }, db: { type: 'string' } },
  positionals: [1, 1],
  async run(args, io) {
    const service = args.positionals[0]!;
    const env = args.values.env as string | undefined;
    const { configPath, loadConfig } = await import('../config/load.js');
    const config = loadConfig(configPath(args.values.config as string | undefined, io.env), io.env);
    const { releaseHistory } = await import('./wiring.js');
    return withStore(dbPath(args.values.db, io.env), true, io, async (store) => {
      const history = await releaseHistory(store);
      checkNames(historyCatalog(config, history.recorded()), service, env);
      const rows = history.list(service, env);
      if (args.values.json) {
        io.out(JSON.stringify(rows.map(jsonRow), null, 2));
      } else if (rows.length === 0) {
        io.out(`no releases or rollbacks recorded for ${service}${env ? ` in ${env}` : ''}`);
      } else {
        io.out(
          textTable([
            ['ID', 'KIND', 'ENV', 'FROM', 'TO', 'STATE', 'OUTCOME', 'BY', 'STARTED', 'DURATION'],
            ...rows.map((r) => [r.id, r.kind, r.environment, r.fromVersion ?? '-', r.toVersion ?? '-', r.state, r.outcome ?? '-', r.requestedBy, r.createdAt, duration(r)]),
          ]).join('\n'),
        );
      }
      return EXIT.ok;
    });
  },
};
