import type Database from 'better-sqlite3';

export interface ReleaseRow {
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

/** Releases, rollbacks and hotfixes of a service, newest first. */
export function listHistory(db: Database.Database, service: string, environment?: string, limit = 50): ReleaseRow[] {
  const byEnv = environment !== undefined;
  return db
    .prepare<unknown[], ReleaseRow>(
      `SELECT * FROM releases WHERE service = ? ${byEnv ? 'AND environment = ?' : ''} ORDER BY created_at DESC LIMIT ?`,
    )
    .all(...(byEnv ? [service, environment, limit] : [service, limit]));
}
