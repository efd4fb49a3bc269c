import type Database from 'better-sqlite3';
import { operationSchema, ROLLBACK_TRIGGERS, isAutomated, type Operation } from '../../domain/operation.js';
import type { OperationRepository } from '../../ports.js';

export interface OperationRow {
  id: number;
  body: string;
  version: number;
}

const ACTIVE = `state IN ('running', 'paused', 'rolling-back')`;
const AUTOMATED_TRIGGERS = ROLLBACK_TRIGGERS.filter(isAutomated);

/** An operation from its row: the body, with the id and version columns, which are the truth. */
export function readOperation(row: OperationRow): Operation {
  const parsed = operationSchema.safeParse({ ...JSON.parse(row.body), id: row.id, version: row.version });
  if (!parsed.success) {
    throw new Error(`operation ${row.id} holds a record this Lifeguard cannot read (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}); it was written by another version`);
  }
  return parsed.data;
}

function columns(op: Operation) {
  return {
    request_id: op.requestId,
    kind: op.kind,
    service: op.service,
    environment: op.environment,
    state: op.state,
    phase: op.phase,
    step: op.step,
    weight: op.weight,
    from_version: op.from.version,
    to_version: op.to?.version ?? null,
    requested_by: op.requestedBy,
    approved_by: JSON.stringify(op.approvedBy),
    card_channel: op.card?.channel ?? null,
    card_ts: op.card?.ts ?? null,
    wake_at: op.wakeAt,
    body: JSON.stringify(op),
    finished_at: op.finishedAt,
  };
}

/** Operations in SQLite (migration 5); every method runs inside the caller's transaction. */
export class SqliteOperationRepository implements OperationRepository {
  private readonly statements;

  constructor(
    db: Database.Database,
    private readonly now: () => Date,
  ) {
    this.statements = {
      insert: db.prepare(
        `INSERT INTO operations (request_id, kind, service, environment, state, phase, step, weight, from_version, to_version,
           requested_by, approved_by, card_channel, card_ts, wake_at, body, version, created_at, updated_at, finished_at)
         VALUES (@request_id, @kind, @service, @environment, @state, @phase, @step, @weight, @from_version, @to_version,
           @requested_by, @approved_by, @card_channel, @card_ts, @wake_at, @body, 1, @created_at, @updated_at, @finished_at)`,
      ),
      update: db.prepare(
        `UPDATE operations SET state = @state, phase = @phase, step = @step, weight = @weight, to_version = @to_version,
           approved_by = @approved_by, card_channel = @card_channel, card_ts = @card_ts, wake_at = @wake_at, body = @body,
           version = version + 1, updated_at = @updated_at, finished_at = @finished_at
         WHERE id = @id AND version = @expected`,
      ),
      get: db.prepare<[number], OperationRow>('SELECT id, body, version FROM operations WHERE id = ?'),
      byRequest: db.prepare<[number], OperationRow>('SELECT id, body, version FROM operations WHERE request_id = ?'),
      active: db.prepare<[string, string], OperationRow>(`SELECT id, body, version FROM operations WHERE service = ? AND environment = ? AND ${ACTIVE}`),
      unfinished: db.prepare<[], { id: number }>(`SELECT id FROM operations WHERE ${ACTIVE} ORDER BY id`),
      grantedNotStarted: db.prepare<[string], { id: number }>(
        `SELECT a.id FROM approval_requests a
         WHERE a.state = 'granted' AND a.kind IN ('release', 'hotfix', 'rollback') AND COALESCE(a.decided_at, a.created_at) >= ?
           AND NOT EXISTS (SELECT 1 FROM operations o WHERE o.request_id = a.id)
           AND NOT EXISTS (SELECT 1 FROM audit_log l WHERE l.action = 'operation.refused' AND json_extract(l.detail, '$.request') = a.id)
         ORDER BY a.id`,
      ),
      lastRelease: db.prepare<[string, string], OperationRow>(
        `SELECT id, body, version FROM operations WHERE service = ? AND environment = ? AND kind IN ('release', 'hotfix') ORDER BY id DESC LIMIT 1`,
      ),
      // A release rolled back counts as a rollback from when it was decided; a paused escalation rolled nothing back.
      lastRollback: db.prepare<[string, string], OperationRow>(
        `SELECT id, body, version FROM operations WHERE service = ? AND environment = ?
           AND (kind = 'rollback' OR (json_extract(body, '$.rollback') IS NOT NULL AND state IN ('rolling-back', 'rolled-back', 'failed')))
         ORDER BY COALESCE(json_extract(body, '$.rollback.decidedAt'), created_at) DESC LIMIT 1`,
      ),
      // Escalations (paused instead of rolled back) do not restart the cooldown: only rollbacks that ran.
      lastAutomated: db.prepare<unknown[], { decided: string | null }>(
        `SELECT MAX(json_extract(body, '$.rollback.decidedAt')) AS decided FROM operations
         WHERE service = ? AND environment = ? AND state IN ('rolling-back', 'rolled-back', 'failed')
           AND json_extract(body, '$.rollback.trigger') IN (${AUTOMATED_TRIGGERS.map(() => '?').join(', ')})`,
      ),
    };
  }

  /** Stores a new operation (its id and version are assigned here) and returns it as stored. */
  insert(op: Operation): Operation {
    const at = this.now().toISOString();
    const { lastInsertRowid } = this.statements.insert.run({ ...columns(op), created_at: op.createdAt, updated_at: at });
    // The body's id and version are read from their columns, which are the truth.
    return { ...op, id: Number(lastInsertRowid), version: 1 };
  }

  get(id: number): Operation | undefined {
    const row = this.statements.get.get(id);
    return row && readOperation(row);
  }

  byRequest(requestId: number): Operation | undefined {
    const row = this.statements.byRequest.get(requestId);
    return row && readOperation(row);
  }

  active(service: string, environment: string): Operation | undefined {
    const row = this.statements.active.get(service, environment);
    return row && readOperation(row);
  }

  unfinished(): number[] {
    return this.statements.unfinished.all().map((r) => r.id);
  }

  /** Compare-and-set on `next.version`: false when another writer moved the operation first. */
  update(next: Operation): Operation | undefined {
    const version = next.version + 1;
    const { changes } = this.statements.update.run({ ...columns({ ...next, version }), id: next.id, expected: next.version, updated_at: this.now().toISOString() });
    return changes === 1 ? { ...next, version } : undefined;
  }

  grantedNotStarted(since: Date): number[] {
    return this.statements.grantedNotStarted.all(since.toISOString()).map((r) => r.id);
  }

  lastChanges(service: string, environment: string): { release: Operation | undefined; rollback: Operation | undefined } {
    const release = this.statements.lastRelease.get(service, environment);
    const rollback = this.statements.lastRollback.get(service, environment);
    return { release: release && readOperation(release), rollback: rollback && readOperation(rollback) };
  }

  lastAutomatedRollbackAt(service: string, environment: string): Date | undefined {
    const row = this.statements.lastAutomated.get(service, environment, ...AUTOMATED_TRIGGERS);
    return row?.decided ? new Date(row.decided) : undefined;
  }
}
