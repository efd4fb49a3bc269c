import { catalogFromConfig } from '../../commands/catalog.js';
import { resolveTarget, unknownName, type Catalog } from '../../commands/grammar.js';
import type { Config } from '../config/schema.js';
import type { HistoryEntry } from '../domain/history-entry.js';
import { EXIT, UsageError, type CliCommand } from './command.js';
import { dbPath } from './operator.js';
import { textTable } from './text-table.js';
import { parseTimeArg } from './time-arg.js';
import { withStore } from './with-store.js';

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

function row(e: HistoryEntry, spoken: (ms: number) => string): string[] {
  const outcome = e.rollback && e.kind !== 'rollback' ? `${e.outcome} (${e.rollback.trigger} at ${e.rollback.weightReached} %)` : e.outcome;
  return [String(e.id), e.kind, e.environment, e.from, e.to ?? '-', outcome, e.requestedBy, e.approvedBy.join(',') || '-', e.createdAt, e.durationMs === null ? 'running' : spoken(e.durationMs)];
}

export const history: CliCommand = {
  path: ['history'],
  usage: 'lifeguard history <service> [--env <env>] [--since <time>] [--until <time>] [--json] [--db F] [--config F]',
  summary:
    'Releases, rollbacks and hotfixes of a service since <time> (RFC 3339, unix seconds or a duration ago; default 30d) until <time> (default now), newest first, with who asked and approved, outcome and duration, and the delivery figures over that period.',
  options: { env: { type: 'string' }, since: { type: 'string' }, until: { type: 'string' }, json: { type: 'boolean' }, db: { type: 'string' } },
  positionals: [1, 1],
  async run(args, io) {
    const service = args.positionals[0]!;
    const env = args.values.env as string | undefined;
    const until = args.values.until === undefined ? new Date() : parseTimeArg(args.values.until as string, '--until');
    const since = parseTimeArg((args.values.since as string | undefined) ?? '30d', '--since', until);
    if (since >= until) throw new UsageError(`--since: ${since.toISOString()} is not before ${until.toISOString()}; give an earlier --since or a later --until`);
    const { configPath, loadConfig } = await import('../config/load.js');
    const config = loadConfig(configPath(args.values.config as string | undefined, io.env), io.env);
    const [{ operationHistory }, { serviceHistory }, { figureLines, spokenDuration }] = await Promise.all([
      import('./wiring.js'),
      import('../flows/history.js'),
      import('../domain/delivery-figures-text.js'),
    ]);
    return withStore(dbPath(args.values.db, io.env), true, io, async (store) => {
      const history = await operationHistory(store);
      checkNames(historyCatalog(config, history.recorded()), service, env);
      const report = serviceHistory(history, config, { service, environment: env, since, now: until });
      if (args.values.json) {
        io.out(JSON.stringify(report, null, 2));
        return EXIT.ok;
      }
      const where = `${service}${env ? ` in ${env}` : ''}`;
      io.out(
        report.operations.length === 0
          ? `no releases, rollbacks or hotfixes recorded for ${where} since ${since.toISOString()}`
          : textTable([['ID', 'KIND', 'ENV', 'FROM', 'TO', 'OUTCOME', 'ASKED', 'APPROVED', 'STARTED', 'DURATION'], ...report.operations.map((e) => row(e, spokenDuration))]).join('\n'),
      );
      io.out(`\nDelivery figures of ${where}, ${since.toISOString()} to ${until.toISOString()}:\n${figureLines(report.figures).join('\n')}`);
      return EXIT.ok;
    });
  },
};
