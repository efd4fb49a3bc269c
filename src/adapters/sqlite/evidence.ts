import type Database from 'better-sqlite3';
import { keptEvidenceSchema, type KeptEvidence } from '../../domain/kept-evidence.js';
import type { EvidenceRepository } from '../../ports.js';

/** Evidence kept at rollback decisions, in SQLite (migration 8); every method runs inside the caller's transaction. */
export class SqliteEvidenceRepository implements EvidenceRepository {
  private readonly statements;

  constructor(db: Database.Database) {
    this.statements = {
      insert: db.prepare('INSERT OR IGNORE INTO evidence (operation_id, collected_at, bytes, payload) VALUES (?, ?, ?, ?)'),
      get: db.prepare<[number], { payload: string }>('SELECT payload FROM evidence WHERE operation_id = ?'),
      has: db.prepare<[number], { one: number }>('SELECT 1 AS one FROM evidence WHERE operation_id = ?'),
    };
  }

  keep(evidence: KeptEvidence): { kept: boolean; bytes: number } {
    const payload = JSON.stringify(evidence);
    const bytes = Buffer.byteLength(payload, 'utf8');
    const info = this.statements.insert.run(evidence.operationId, evidence.collectedAt, bytes, payload);
    return { kept: info.changes === 1, bytes };
  }

  has(operationId: number): boolean {
    return this.statements.has.get(operationId) !== undefined;
  }

  get(operationId: number): KeptEvidence | undefined {
    const row = this.statements.get.get(operationId);
    if (!row) return undefined;
    const parsed = keptEvidenceSchema.safeParse(JSON.parse(row.payload));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(`the evidence of operation ${operationId} is a record this Lifeguard cannot read (${issue?.path.join('.')}: ${issue?.message}); it was written by another version`);
    }
    return parsed.data;
  }
}
