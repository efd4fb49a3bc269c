import { describe, expect, it } from 'vitest';
import { incidentActions, incidentStatus } from '../../src/domain/incident-status.js';
import { newOperation, type FailingMetric, type Operation } from '../../src/domain/operation.js';
import { impactWindow, postmortemFilename, postmortemMarkdown, severity, type AuditEvent, type PostmortemInput } from '../../src/domain/postmortem.js';

/*
 * The post-mortem draft of a rollback, from fixed inputs: an automated rollback of checkout 1.5.0-bad caught at its
 * first step, its audit rows as the engine writes them, and the impact Prometheus gave.
 */

const ERROR_RATE: FailingMetric = {
  metric: 'error-rate',
  classification: 'high',
  canary: 0.0812,
  baseline: 0.0041,
  thresholds: ['≤ 0.03', '≤ 1.5× baseline'],
  breachingForMs: 6000,
  reason: 'canary 0.0812 > 0.03',
};

function rolledBack(): Operation {
  const op = newOperation(
    {
      id: 7,
      requestId: 3,
      kind: 'release',
      strategy: 'canary',
      service: 'checkout',
      environment: 'production',
      from: { version: '1.4.2', image: 'registry/checkout:1.4.2', revision: 4 },
      to: { version: '1.5.0-bad', image: 'registry/checkout:1.5.0-bad' },
      steps: [5, 25, 50, 100],
      pauseForApprovalAt: [50],
      requestedBy: 'U09BOB',
      approvedBy: ['U01ALICE'],
      card: { channel: 'C0CHECKOUT', ts: '1714564800.000100' },
    },
    new Date('2024-05-01T12:00:00.000Z'),
  );
  return {
    ...op,
    state: 'rolled-back',
    phase: 'done',
    step: 0,
    weight: 0,
    outcome: 'rolled back, verified',
    finishedAt: '2024-05-01T12:00:40.000Z',
    rollback: {
      trigger: 'verdict',
      by: 'lifeguard',
      why: 'error-rate: canary 0.0812 > 0.03',
      afterPromotion: false,
      stepReached: 1,
      weightReached: 5,
      failing: [ERROR_RATE],
      breachStartedAt: '2024-05-01T12:00:12.000Z',
      decidedAt: '2024-05-01T12:00:18.200Z',
      drainedAt: '2024-05-01T12:00:18.700Z',
      restoredAt: '2024-05-01T12:00:24.000Z',
      verifiedAt: '2024-05-01T12:00:40.000Z',
    },
  };
}

const verdict = {
  type: 'verdict',
  subject: 'canary',
  verdict: 'fail',
  evaluatedAt: '2024-05-01T12:00:18.000Z',
  reasons: ['error-rate: canary 0.0812 > 0.03'],
  failing: [ERROR_RATE],
  breachStartedAt: '2024-05-01T12:00:12.000Z',
  evidence: {
    metrics: [
      { metric: 'error-rate', canary: 0.0812, baseline: 0.0041, classification: 'high' },
      { metric: 'latency-p99', canary: 0.212, baseline: 0.118, classification: 'pass' },
    ],
  },
};

const AUDIT: AuditEvent[] = [
  { id: 11, at: '2024-05-01T11:59:50.000Z', actor: 'U09BOB', action: 'approval.requested', detail: { request: 3, kind: 'release', plan: { version: '1.5.0-bad' } } },
  { id: 13, at: '2024-05-01T11:59:58.000Z', actor: 'U01ALICE', action: 'approval.approved', detail: { request: 3, role: 'release-manager' } },
  { id: 14, at: '2024-05-01T11:59:58.000Z', actor: 'lifeguard', action: 'approval.granted', detail: { request: 3, kind: 'release' } },
  { id: 15, at: '2024-05-01T12:00:00.000Z', actor: 'lifeguard', action: 'operation.started', detail: { operation: 7, request: 3 } },
  { id: 16, at: '2024-05-01T12:00:00.010Z', actor: 'lifeguard', action: 'operation.action', detail: { operation: 7 } },
  { id: 17, at: '2024-05-01T12:00:09.000Z', actor: 'lifeguard', action: 'operation.canary_deployed', detail: { operation: 7, replicas: 3 } },
  { id: 18, at: '2024-05-01T12:00:09.500Z', actor: 'lifeguard', action: 'operation.action', detail: { operation: 7, phase: 'shift', action: { type: 'set-weight', canary: 5 } } },
  { id: 19, at: '2024-05-01T12:00:10.000Z', actor: 'lifeguard', action: 'operation.step', detail: { operation: 7, step: 1, weight: 5 } },
  { id: 20, at: '2024-05-01T12:00:18.200Z', actor: 'lifeguard', action: 'rollback.automated', detail: { operation: 7, trigger: 'verdict', why: 'error-rate: canary 0.0812 > 0.03', weight: 5, step: 1, failing: [ERROR_RATE], verdict } },
  { id: 21, at: '2024-05-01T12:00:18.230Z', actor: 'lifeguard', action: 'operation.action', detail: { operation: 7, phase: 'drain', action: { type: 'set-weight', canary: 0 } } },
  { id: 22, at: '2024-05-01T12:00:18.700Z', actor: 'lifeguard', action: 'rollback.drained', detail: { operation: 7 } },
  { id: 24, at: '2024-05-01T12:00:24.000Z', actor: 'lifeguard', action: 'rollback.restored', detail: { operation: 7, stable: 'registry/checkout:1.4.2', revision: 4 } },
  { id: 25, at: '2024-05-01T12:00:40.000Z', actor: 'lifeguard', action: 'rollback.verified', detail: { operation: 7, verdict: 'pass', reasons: [] } },
  { id: 26, at: '2024-05-01T12:00:40.000Z', actor: 'lifeguard', action: 'operation.finished', detail: { operation: 7, state: 'rolled-back', outcome: 'rolled back, verified' } },
];

function input(overrides: Partial<PostmortemInput> = {}): PostmortemInput {
  const op = rolledBack();
  return {
    op,
    audit: AUDIT,
    window: impactWindow(op, AUDIT),
    impact: { ok: true, requests: 861.4, failed: 70.2, queries: ['sum(increase(http_requests_total{app="checkout",version="canary"}[8730ms])) @ 2024-05-01T12:00:18.230Z'] },
    evidence: ['canary logs: 120 lines, 31 with "ERROR"', 'Events: 2 warnings (BackOff)'],
    critical: ['error-rate', 'latency-p99'],
    links: { releaseThread: 'https://slack.com/archives/C0CHECKOUT/p1714564800000100', incidentPost: 'https://slack.com/archives/C0INCIDENT/p1714564818000200' },
    requestedBy: 'lifeguard',
    now: new Date('2024-05-01T12:00:41.000Z'),
    ...overrides,
  };
}

describe('the post-mortem draft', () => {
  it('is the Markdown of the whole story, from fixed inputs', async () => {
    await expect(postmortemMarkdown(input())).toMatchFileSnapshot('__snapshots__/postmortem.md');
  });

  it('lists in time order the request, the approval, each step, the failing verdict with its values, the drain, the rollback and the verification', () => {
    const markdown = postmortemMarkdown(input());
    const rows = markdown.split('## Timeline (UTC)')[1]!.split('## Impact')[0]!.split('\n').filter((l) => l.startsWith('| 2024'));
    const order = ['requested by U09BOB', 'Approved by U01ALICE', 'Step 1 of 4: 5 %', 'Breach started', 'Verdict fail: error-rate high: canary 0.0812 vs baseline 0.0041', 'Automated rollback decided', 'Traffic drained', 'Rolled back:', 'Verified:'];
    const at = order.map((text) => rows.findIndex((row) => row.includes(text)));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(rows.find((row) => row.includes('Verdict fail'))).toContain('| 2024-05-01 12:00:18 UTC |');
    // Write-ahead rows say nothing a reader needs.
    expect(markdown).not.toContain('| 16 |');
    expect(markdown).not.toContain('| 21 |');
  });

  it('carries the header: id, severity from the critical metric, status draft, the window, the people and the links', () => {
    const markdown = postmortemMarkdown(input());
    expect(markdown).toContain('| Severity | high: error-rate is a critical metric |');
    expect(markdown).toContain('| Status | draft |');
    expect(markdown).toContain('| Impact start | 2024-05-01 12:00:09 UTC |');
    expect(markdown).toContain('| Impact end | 2024-05-01 12:00:18 UTC |');
    expect(markdown).toContain('| Impact duration | 9 s |');
    expect(markdown).toContain('| Approved by | U01ALICE |');
    expect(markdown).toContain('| Audit rows | 11, 13–22, 24–26 (`lifeguard audit export`) |');
    expect(markdown).toContain('- Failed requests (5xx): **70** (8.15 % of them)');
    expect(markdown).toContain('- Latency: latency-p99: canary 0.212 vs baseline 0.118 (+79.66 %), at the decision (pass)');
  });

  it('says when Prometheus could not be asked, and when no evidence was kept', () => {
    const markdown = postmortemMarkdown(input({ impact: { ok: false, why: 'connect ECONNREFUSED 127.0.0.1:9090' }, evidence: undefined }));
    expect(markdown).toContain('- Requests and failures: unknown, Prometheus could not be asked (connect ECONNREFUSED 127.0.0.1:9090).');
    expect(markdown).toContain('No evidence was kept for this operation');
  });

  it('has medium severity when no failing metric is critical, and says why', () => {
    expect(severity([ERROR_RATE], ['latency-p99'])).toEqual({ level: 'medium', why: 'no failing metric is critical (error-rate)' });
    expect(severity([], ['error-rate'])).toEqual({ level: 'medium', why: 'no metric failed' });
  });

  it('counts the impact from the first traffic write to the drain write; after a promotion, on the stable from the promotion to the restore', () => {
    const op = rolledBack();
    expect(impactWindow(op, AUDIT)).toMatchObject({ variant: 'canary', from: 'the first step', to: 'the drain', start: new Date('2024-05-01T12:00:09.500Z'), end: new Date('2024-05-01T12:00:18.230Z') });
    // Without the write-ahead rows: as observed; without any step, from the breach start.
    const observed = AUDIT.filter((row) => row.action !== 'operation.action');
    expect(impactWindow(op, observed)).toMatchObject({ start: new Date('2024-05-01T12:00:10.000Z'), end: new Date('2024-05-01T12:00:18.700Z') });
    expect(impactWindow(op, [])).toMatchObject({ from: 'the breach start', start: new Date('2024-05-01T12:00:12.000Z') });
    const watched = { ...op, stableChangedAt: '2024-05-01T12:00:30.000Z', rollback: { ...op.rollback!, trigger: 'watch' as const, afterPromotion: true } };
    expect(impactWindow(watched, AUDIT)).toMatchObject({ variant: 'baseline', from: 'the promotion', to: 'the restore', end: new Date('2024-05-01T12:00:24.000Z') });
  });

  it('is named after its operation, service and environment', () => {
    expect(postmortemFilename({ id: 7, service: 'checkout', environment: 'prod/eu' })).toBe('postmortem-7-checkout-prod_eu.md');
  });
});

describe('the incident status', () => {
  it('goes investigating → mitigated (rolled back and verified) → resolved (acknowledged with a draft)', () => {
    expect(incidentStatus('rolling-back', { postmortem: false })).toBe('investigating');
    expect(incidentStatus('rolled-back', { postmortem: false })).toBe('mitigated');
    expect(incidentStatus('rolled-back', { postmortem: true })).toBe('mitigated');
    expect(incidentStatus('rolled-back', { postmortem: true, acknowledged: { by: 'U06OSCAR', at: '2024-05-01T12:01:00Z' } })).toBe('resolved');
    expect(incidentStatus('escalated', { postmortem: true, acknowledged: { by: 'U06OSCAR', at: '2024-05-01T12:01:00Z' } })).toBe('resolved');
  });

  it('offers Acknowledge until someone has, and Start post-mortem on a rollback that ended without a draft', () => {
    // An automated rollback's draft comes as it ends; when it did not (the store busy), a person can ask for it.
    expect(incidentActions({ trigger: 'verdict', outcome: 'rolled-back' }, { postmortem: false })).toEqual(['acknowledge', 'postmortem']);
    expect(incidentActions({ trigger: 'verdict', outcome: 'rolled-back' }, { postmortem: true })).toEqual(['acknowledge']);
    expect(incidentActions({ trigger: 'manual', outcome: 'rolling-back' }, { postmortem: false })).toEqual(['acknowledge']);
    expect(incidentActions({ trigger: 'manual', outcome: 'rolled-back' }, { postmortem: false })).toEqual(['acknowledge', 'postmortem']);
    expect(incidentActions({ trigger: 'manual', outcome: 'rolled-back' }, { postmortem: true, acknowledged: { by: 'U06OSCAR', at: 'x' } })).toEqual([]);
  });
});
