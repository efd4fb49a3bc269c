import type Database from 'better-sqlite3';
import type { Operation } from '../../domain/operation.js';
import { verdictSchema, type Verdict } from '../../domain/verdict.js';
import type { OperationHistory } from '../../ports.js';
import { readOperation, type OperationRow } from './operations.js';

/** History read from the operations the engine records (migration 5), and the verdicts of its audit rows. */
export class SqliteOperationHistory implements OperationHistory {
  private readonly statements;

  constructor(db: Database.Database) {
    this.statements = {
      // created_at is RFC 3339 UTC as the engine writes it, so text order is time order (operations_subject index).
      all: db.prepare<[string, string], OperationRow>('SELECT id, body, version FROM operations WHERE service = ? AND created_at >= ? ORDER BY created_at DESC, id DESC'),
      one: db.prepare<[string, string, string], OperationRow>(
        'SELECT id, body, version FROM operations WHERE service = ? AND environment = ? AND created_at >= ? ORDER BY created_at DESC, id DESC',
      ),
      recorded: db.prepare<[], { service: string; environment: string }>('SELECT DISTINCT service, environment FROM operations'),
      // By subject first (the audit_log_subject index): the log holds a verdict row every interval of every canary.
      decision: db.prepare<[string, number], { detail: string }>(
        `SELECT detail FROM audit_log WHERE subject = ? AND action = 'rollback.automated' AND json_extract(detail, '$.operation') = ? ORDER BY id DESC LIMIT 1`,
      ),
    };
  }

  list(service: string, environment: string | undefined, since: Date): Operation[] {
    const at = since.toISOString();
    const rows = environment === undefined ? this.statements.all.all(service, at) : this.statements.one.all(service, environment, at);
    return rows.map(readOperation);
  }

  recorded(): { service: string; environment: string }[] {
    return this.statements.recorded.all();
  }

  /** A row this version cannot read as a verdict leaves that operation out: its figures are then unknown, not wrong. */
  decisionVerdicts(operations: readonly Pick<Operation, 'id' | 'service' | 'environment'>[]): Map<number, Verdict> {
    const out = new Map<number, Verdict>();
    for (const { id, service, environment } of operations) {
      const row = this.statements.decision.get(`${service}/${environment}`, id);
      if (!row) continue;
      const parsed = verdictSchema.safeParse((JSON.parse(row.detail) as { verdict?: { evidence?: unknown } }).verdict?.evidence);
      if (parsed.success) out.set(id, parsed.data);
    }
    return out;
  }
}
