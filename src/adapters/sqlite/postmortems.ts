import type Database from 'better-sqlite3';
import { ROLLBACK_TRIGGERS, isAutomated, type Operation } from '../../domain/operation.js';
import type { AuditEvent } from '../../domain/postmortem.js';
import type { PostmortemRepository, StoredPostmortem } from '../../ports.js';

interface DraftRow {
  operation_id: number;
  markdown: string;
  created_at: string;
  requested_by: string;
}

interface AuditRow {
  id: number;
  at: string;
  actor: string;
  action: string;
  detail: string;
}

const AUTOMATED = ROLLBACK_TRIGGERS.filter(isAutomated)
  .map((t) => `'${t}'`)
  .join(', ');

/** Post-mortem drafts and incident acknowledgements in SQLite (migration 9). */
export class SqlitePostmortems implements PostmortemRepository {
  private readonly statements;

  constructor(db: Database.Database) {
    this.statements = {
      get: db.prepare<[number], DraftRow>('SELECT * FROM postmortems WHERE operation_id = ?'),
      insert: db.prepare('INSERT OR IGNORE INTO postmortems (operation_id, markdown, created_at, requested_by) VALUES (?, ?, ?, ?)'),
      ack: db.prepare<[number], { by: string; at: string }>('SELECT by, at FROM incident_acks WHERE operation_id = ?'),
      acknowledge: db.prepare('INSERT OR IGNORE INTO incident_acks (operation_id, by, at) VALUES (?, ?, ?)'),
      // The subject index narrows to the service's rows; the JSON fields pick the operation's and its request's.
      audit: db.prepare<{ subject: string; operation: number; request: number | null }, AuditRow>(
        `SELECT id, at, actor, action, detail FROM audit_log
          WHERE subject = @subject
            AND (json_extract(detail, '$.operation') = @operation OR (@request IS NOT NULL AND json_extract(detail, '$.request') = @request))
          ORDER BY id`,
      ),
      undrafted: db.prepare<[string], { id: number }>(
        `SELECT id FROM operations o
          WHERE state IN ('rolled-back', 'failed') AND finished_at >= ? AND json_extract(body, '$.rollback.trigger') IN (${AUTOMATED})
            AND NOT EXISTS (SELECT 1 FROM postmortems p WHERE p.operation_id = o.id)
          ORDER BY id`,
      ),
    };
  }

  get(operationId: number): StoredPostmortem | undefined {
    const row = this.statements.get.get(operationId);
    return row && { operationId: row.operation_id, markdown: row.markdown, createdAt: row.created_at, requestedBy: row.requested_by };
  }

  insert(draft: StoredPostmortem): boolean {
    return this.statements.insert.run(draft.operationId, draft.markdown, draft.createdAt, draft.requestedBy).changes === 1;
  }

  acknowledgement(operationId: number): { by: string; at: string } | undefined {
    return this.statements.ack.get(operationId);
  }

  acknowledge(operationId: number, by: string, at: Date): boolean {
    return this.statements.acknowledge.run(operationId, by, at.toISOString()).changes === 1;
  }

  auditOf(op: Pick<Operation, 'id' | 'requestId' | 'service' | 'environment'>): AuditEvent[] {
    return this.statements.audit
      .all({ subject: `${op.service}/${op.environment}`, operation: op.id, request: op.requestId })
      .map((row) => ({ id: row.id, at: row.at, actor: row.actor, action: row.action, detail: JSON.parse(row.detail) as Record<string, unknown> }));
  }

  undrafted(since: Date): number[] {
    return this.statements.undrafted.all(since.toISOString()).map((row) => row.id);
  }
}
