import { SqliteEvidenceRepository } from '../adapters/sqlite/evidence.js';
import { SqliteOperationRepository } from '../adapters/sqlite/operations.js';
import type { SqliteStore } from '../adapters/sqlite/store.js';
import { cutNote, summariseDeployment, type KeptEvidence } from '../domain/kept-evidence.js';
import { textTable } from './text-table.js';

export type Found = { ok: true; evidence: KeptEvidence; bytes: number } | { ok: false; why: string };

/** The evidence of operation `id`, or why there is none, in words that say where to look instead. */
export function findEvidence(store: SqliteStore, id: number): Found {
  const schema = store.db.pragma('user_version', { simple: true }) as number;
  const hasTable = store.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'evidence'").get() !== undefined;
  if (!hasTable) return { ok: false, why: `${store.file} (schema version ${schema}) predates kept evidence: run this Lifeguard's \`lifeguard start\` on it once to upgrade it` };
  const evidence = new SqliteEvidenceRepository(store.db).get(id);
  if (evidence) return { ok: true, evidence, bytes: Buffer.byteLength(JSON.stringify(evidence), 'utf8') };
  const op = new SqliteOperationRepository(store.db, () => new Date()).get(id);
  if (!op) return { ok: false, why: `there is no operation #${id} in ${store.file}` };
  const what = `operation #${id} (${op.kind} of ${op.service}/${op.environment})`;
  if (!op.rollback) return { ok: false, why: `${what} was never rolled back: evidence is kept at a rollback decision` };
  return { ok: false, why: `no evidence was kept for ${what}: gathering it failed or has not finished (\`lifeguard audit export\` shows an evidence.failed row with the error)` };
}

const value = (n: number | null): string => (n === null ? '-' : String(n));
const seconds = (ms: number | null): string => (ms === null ? '-' : `${Math.round(ms / 1000)}s`);

function versions(e: KeptEvidence): string {
  if (!e.to) return `${e.from.version} (a canary Lifeguard did not start)`;
  return `${e.from.version} → ${e.to.version}`;
}

function deploymentLines(track: string, raw: Record<string, unknown>): string[] {
  const d = summariseDeployment(raw);
  const r = d.replicas;
  return [
    `${track} ${d.name}${d.revision !== undefined ? ` (revision ${d.revision})` : ''}: ${r.desired} desired, ${r.current} current, ${r.updated} updated, ${r.ready} ready, ${r.available} available`,
    ...Object.entries(d.images).map(([container, image]) => `  image ${container}=${image}`),
    ...d.conditions.map((c) => `  condition ${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ''}${c.message ? ` ${c.message}` : ''}`),
  ];
}

/** The evidence as a person reads it in a terminal: the decision first, the logs last. */
export function evidenceReport(e: KeptEvidence, bytes: number): string[] {
  const { bound } = e;
  const out = [
    `Operation #${e.operationId}: ${e.kind} of ${e.service}/${e.environment}, ${versions(e)}`,
    `Rollback decided ${e.decidedAt} (${e.trigger}) by ${e.by}, canary at ${e.weightReached} % of traffic: ${e.why}`,
    `Gathered ${e.collectedAt}: ${bytes} bytes kept (evidence bound ${bound.maxBytes} bytes)${bound.cutBytes > 0 ? `, ${bound.cutBytes} bytes of log cut` : ''}`,
    '',
  ];
  if (e.failing.length > 0) {
    out.push(
      'Failing metrics',
      ...textTable([
        ['METRIC', 'CLASS', 'CANARY', 'BASELINE', 'THRESHOLDS', 'BREACHING', 'REASON'],
        ...e.failing.map((f) => [f.metric, f.classification, value(f.canary), value(f.baseline), f.thresholds.join(', ') || '-', seconds(f.breachingForMs), f.reason]),
      ]),
      '',
    );
  }
  out.push('Deployments', ...deploymentLines('stable', e.deployments.stable), ...deploymentLines('canary', e.deployments.canary));
  if (bound.deploymentsSummarised) out.push(cutNote('all but their summaries', bound.maxBytes));
  out.push('', `Events (${e.events.length})`);
  if (bound.eventsCut > 0) out.push(cutNote(`${bound.eventsCut} older events`, bound.maxBytes));
  if (e.events.length > 0) {
    out.push(...textTable([['TIME', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'], ...e.events.map((ev) => [ev.at, ev.type, ev.reason, ev.object, `${ev.message}${ev.count > 1 ? ` (×${ev.count})` : ''}`])]));
  }
  out.push('', `Canary pod logs (${e.logs.length} containers)`);
  for (const log of e.logs) {
    out.push(`==> ${log.pod} / ${log.container} <==`);
    if (log.error) out.push(`(could not be read: ${log.error})`);
    if (log.cutBytes > 0) out.push(cutNote(`${log.cutBytes} bytes`, bound.maxBytes));
    out.push(...log.lines.map(printable));
  }
  return out;
}

/** A log line is the workload's text: its control characters (terminal escapes) must not rewrite the operator's screen. */
function printable(line: string): string {
  return [...line].filter((c) => {
    const code = c.codePointAt(0)!;
    return code === 9 || (code >= 32 && code !== 127 && (code < 128 || code > 159));
  }).join('');
}
