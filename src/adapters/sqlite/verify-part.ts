import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { AUDIT_COLUMNS, AuditKeyRequired, verifyRows, type AuditKey, type AuditTuple, type ChainCheck, type ChainStart } from './audit-chain.js';

/** One part of the chain for a worker thread: rows `from`…`to`, following the stored row `start`. */
export interface PartTask {
  file: string;
  from: number;
  to: number;
  start: ChainStart;
  key?: AuditKey;
}

export type PartResult = { check: ChainCheck } | { keyRequired: number };

function verifyPart(task: PartTask): PartResult {
  const db = new Database(task.file, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare<[number, number], AuditTuple>(`SELECT ${AUDIT_COLUMNS} FROM audit_log WHERE id BETWEEN ? AND ? ORDER BY id`).raw(true).iterate(task.from, task.to);
    return { check: verifyRows(rows, task.key, { start: task.start }) };
  } catch (error) {
    if (error instanceof AuditKeyRequired) return { keyRequired: error.keyedFrom };
    throw error;
  } finally {
    db.close();
  }
}

if (parentPort && (workerData as { auditPart?: PartTask } | undefined)?.auditPart) {
  parentPort.postMessage(verifyPart((workerData as { auditPart: PartTask }).auditPart));
}
