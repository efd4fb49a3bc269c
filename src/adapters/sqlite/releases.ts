import type Database from 'better-sqlite3';
import type { HistoryEntry, ReleaseHistory } from '../../ports.js';

interface ReleaseRow {
  id: string;
  kind: 'release' | 'rollback' | 'hotfix';
  service: string;
  environment: string;
  from_version: string | null;
  to_version: string | null;
  state: string;
  requested_by: string;
  reason: string | null;
  created_at: string;
  finished_at: string | null;
  outcome: string | null;
}

const entry = (r: ReleaseRow): HistoryEntry => ({
  id: r.id,
  kind: r.kind,
  service: r.service,
  environment: r.environment,
  fromVersion: r.from_version ?? undefined,
  toVersion: r.to_version ?? undefined,
  state: r.state,
  requestedBy: r.requested_by,
  reason: r.reason ?? undefined,
  createdAt: r.created_at,
  finishedAt: r.finished_at ?? undefined,
  outcome: r.outcome ?? undefined,
});

/** Releases, rollbacks and hotfixes in SQLite (migration 2). */
export class SqliteReleaseHistory implements ReleaseHistory {
  constructor(
    private readonly db: Database.Database,
    private readonly limit = 50,
  ) {}

  list(service: string, environment?: string): HistoryEntry[] {
    const byEnv = environment !== undefined;
    return this.db
      .prepare<unknown[], ReleaseRow>(`SELECT * FROM releases WHERE service = ? ${byEnv ? 'AND environment = ?' : ''} ORDER BY created_at DESC LIMIT ?`)
      .all(...(byEnv ? [service, environment, this.limit] : [service, this.limit]))
      .map(entry);
  }

  /** Every service and environment with recorded history, including those since taken out of the config. */
  recorded(): { service: string; environment: string }[] {
    return this.db.prepare<[], { service: string; environment: string }>('SELECT DISTINCT service, environment FROM releases').all();
  }
}
