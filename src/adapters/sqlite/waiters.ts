import type Database from 'better-sqlite3';
import { waiterSchema, type NewWaiter, type Waiter } from '../../domain/lock.js';
import type { WaiterRepository } from '../../ports.js';

interface WaiterRow {
  operation_id: number;
  service: string;
  environment: string;
  user: string;
  asked_kind: string;
  asked_version: string;
  created_at: string;
  notified_at: string | null;
}

function read(row: WaiterRow): Waiter {
  return waiterSchema.parse({
    operationId: row.operation_id,
    service: row.service,
    environment: row.environment,
    user: row.user,
    asked: { kind: row.asked_kind, version: row.asked_version },
    createdAt: row.created_at,
    notifiedAt: row.notified_at,
  });
}

/** Lock waiters in SQLite (migration 7); every method runs inside the caller's transaction. */
export class SqliteWaiterRepository implements WaiterRepository {
  private readonly statements;

  constructor(db: Database.Database) {
    this.statements = {
      insert: db.prepare(
        `INSERT OR IGNORE INTO lock_waiters (operation_id, service, environment, user, asked_kind, asked_version, created_at)
         VALUES (@operation_id, @service, @environment, @user, @asked_kind, @asked_version, @created_at)`,
      ),
      get: db.prepare<[number, string], WaiterRow>('SELECT * FROM lock_waiters WHERE operation_id = ? AND user = ?'),
      unnotified: db.prepare<[number], WaiterRow>('SELECT * FROM lock_waiters WHERE operation_id = ? AND notified_at IS NULL ORDER BY created_at, user'),
      notified: db.prepare('UPDATE lock_waiters SET notified_at = ? WHERE operation_id = ? AND user = ? AND notified_at IS NULL'),
      transfer: db.prepare('UPDATE lock_waiters SET operation_id = ? WHERE operation_id = ? AND notified_at IS NULL'),
    };
  }

  add(waiter: NewWaiter, at: Date): { waiter: Waiter; added: boolean } {
    const info = this.statements.insert.run({
      operation_id: waiter.operationId,
      service: waiter.service,
      environment: waiter.environment,
      user: waiter.user,
      asked_kind: waiter.asked.kind,
      asked_version: waiter.asked.version,
      created_at: at.toISOString(),
    });
    return { waiter: read(this.statements.get.get(waiter.operationId, waiter.user)!), added: info.changes === 1 };
  }

  unnotified(operationId: number): Waiter[] {
    return this.statements.unnotified.all(operationId).map(read);
  }

  transfer(from: number, to: number): void {
    this.statements.transfer.run(to, from);
  }

  markNotified(operationId: number, user: string, at: Date): void {
    this.statements.notified.run(at.toISOString(), operationId, user);
  }
}
