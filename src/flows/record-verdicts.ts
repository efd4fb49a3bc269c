import type { Verdict } from '../domain/verdict.js';
import type { Telemetry } from '../metrics.js';
import type { AuditLog, AuditRecord } from '../ports.js';

/**
 * Writes each verdict of a tick to the audit log with its whole evidence (group-committed: one fsync for the
 * tick) and counts it on /metrics. Acting on a failed verdict is the release flow's job, not this one's.
 */
export async function recordVerdicts(
  audit: Pick<AuditLog, 'appendDurable'>,
  metrics: Pick<Telemetry, 'verdicts'>,
  verdicts: Verdict[],
): Promise<AuditRecord[]> {
  for (const v of verdicts) metrics.verdicts.inc({ service: v.service, environment: v.environment, verdict: v.verdict });
  return Promise.all(
    verdicts.map((v) =>
      audit.appendDurable({ actor: 'lifeguard', action: 'analysis.verdict', subject: `${v.service}/${v.environment}`, detail: v as unknown as Record<string, unknown> }),
    ),
  );
}
