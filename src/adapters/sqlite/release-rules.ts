import type Database from 'better-sqlite3';
import { adHocFreezeSchema, type AdHocFreeze, type NewAdHocFreeze } from '../../domain/freezes.js';
import { versionHoldSchema, type NewVersionHold, type VersionHold } from '../../domain/holds.js';
import type { FreezeRepository, HoldRepository } from '../../ports.js';

/** Ad-hoc freezes and version holds in SQLite (migration 6); every method runs inside the caller's transaction. */

interface FreezeRow {
  id: number;
  environment: string;
  reason: string;
  by: string;
  started_at: string;
  ends_at: string | null;
  ended_at: string | null;
  ended_by: string | null;
}

interface HoldRow {
  service: string;
  environment: string;
  version: string;
  operation_id: number;
  reason: string;
  created_at: string;
  lifted_at: string | null;
  lifted_by: string | null;
}

const date = (text: string | null) => (text === null ? null : new Date(text));

function freeze(row: FreezeRow): AdHocFreeze {
  return adHocFreezeSchema.parse({
    id: row.id,
    environment: row.environment,
    reason: row.reason,
    by: row.by,
    startedAt: new Date(row.started_at),
    endsAt: date(row.ends_at),
    endedAt: date(row.ended_at),
    endedBy: row.ended_by,
  });
}

function hold(row: HoldRow): VersionHold {
  return versionHoldSchema.parse({
    service: row.service,
    environment: row.environment,
    version: row.version,
    operationId: row.operation_id,
    reason: row.reason,
    createdAt: new Date(row.created_at),
    liftedAt: date(row.lifted_at),
    liftedBy: row.lifted_by,
  });
}

export class SqliteFreezeRepository implements FreezeRepository {
  private readonly statements;

  constructor(db: Database.Database) {
    this.statements = {
      insert: db.prepare('INSERT INTO freezes (environment, reason, by, started_at, ends_at) VALUES (?, ?, ?, ?, ?)'),
      open: db.prepare<[], FreezeRow>('SELECT * FROM freezes WHERE ended_at IS NULL ORDER BY id'),
      openIn: db.prepare<[string], FreezeRow>('SELECT * FROM freezes WHERE ended_at IS NULL AND environment = ? ORDER BY id'),
      end: db.prepare<[string, string, string], FreezeRow>('UPDATE freezes SET ended_at = ?, ended_by = ? WHERE ended_at IS NULL AND environment = ? RETURNING *'),
    };
  }

  start(next: NewAdHocFreeze): AdHocFreeze {
    const { lastInsertRowid } = this.statements.insert.run(next.environment, next.reason, next.by, next.startedAt.toISOString(), next.endsAt?.toISOString() ?? null);
    return { ...next, id: Number(lastInsertRowid), endedAt: null, endedBy: null };
  }

  open(environment?: string): AdHocFreeze[] {
    return (environment === undefined ? this.statements.open.all() : this.statements.openIn.all(environment)).map(freeze);
  }

  end(environment: string, by: string, at: Date): AdHocFreeze[] {
    return this.statements.end.all(at.toISOString(), by, environment).map(freeze);
  }
}

export class SqliteHoldRepository implements HoldRepository {
  private readonly statements;

  constructor(db: Database.Database) {
    this.statements = {
      insert: db.prepare(
        `INSERT INTO version_holds (service, environment, version, operation_id, reason, created_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (service, environment, version) WHERE lifted_at IS NULL DO NOTHING`,
      ),
      find: db.prepare<[string, string, string], HoldRow>('SELECT * FROM version_holds WHERE service = ? AND environment = ? AND version = ? AND lifted_at IS NULL'),
      list: db.prepare<[], HoldRow>('SELECT * FROM version_holds WHERE lifted_at IS NULL ORDER BY id DESC'),
      lift: db.prepare<{ service: string; version: string; environment: string | null; by: string; at: string }, HoldRow>(
        `UPDATE version_holds SET lifted_at = @at, lifted_by = @by
         WHERE lifted_at IS NULL AND service = @service AND version = @version AND (@environment IS NULL OR environment = @environment) RETURNING *`,
      ),
    };
  }

  add(next: NewVersionHold): boolean {
    const { changes } = this.statements.insert.run(next.service, next.environment, next.version, next.operationId, next.reason, next.createdAt.toISOString());
    return changes === 1;
  }

  find(service: string, environment: string, version: string): VersionHold | undefined {
    const row = this.statements.find.get(service, environment, version);
    return row && hold(row);
  }

  list(): VersionHold[] {
    return this.statements.list.all().map(hold);
  }

  lift(service: string, version: string, environment: string | undefined, by: string, at: Date): VersionHold[] {
    return this.statements.lift.all({ service, version, environment: environment ?? null, by, at: at.toISOString() }).map(hold);
  }
}
