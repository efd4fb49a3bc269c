import { describe, expect, it } from 'vitest';
import { boundEvidence } from '../../src/domain/evidence-bound.js';
import { cutNote, evidenceSummary, keptEvidence, keptEvidenceSchema, summariseDeployment, type KeptEvidence, type KeptPodLog } from '../../src/domain/kept-evidence.js';
import type { Operation } from '../../src/domain/operation.js';

const MiB = 1024 * 1024;
const size = (value: unknown) => Buffer.byteLength(JSON.stringify(value), 'utf8');
const textBytes = (lines: string[]) => lines.reduce((total, line) => total + Buffer.byteLength(line, 'utf8') + 1, 0);

/** `count` lines of exactly `width` characters, numbered so that the test can tell which were kept. */
function lines(count: number, width: number, tag = 'L'): string[] {
  return Array.from({ length: count }, (_, i) => `${tag}${String(i).padStart(6, '0')} `.padEnd(width, 'x'));
}

function log(pod: string, logLines: string[]): KeptPodLog {
  return { pod, container: 'app', lines: logLines, cutBytes: 0 };
}

const deployment = (name: string, image: string) => ({
  metadata: { name, namespace: 'shop', annotations: { 'deployment.kubernetes.io/revision': '3' } },
  spec: { replicas: 2, template: { spec: { containers: [{ name: 'app', image }] } } },
  status: { replicas: 2, updatedReplicas: 2, readyReplicas: 1, availableReplicas: 1, conditions: [{ type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' }] },
});

function evidence(logs: KeptPodLog[], events: KeptEvidence['events'] = []): KeptEvidence {
  return {
    operationId: 7,
    kind: 'release',
    service: 'checkout',
    environment: 'production',
    from: { version: '1.4.2', image: 'registry.example.com/checkout:1.4.2' },
    to: { version: '1.5.0', image: 'registry.example.com/checkout:1.5.0' },
    trigger: 'verdict',
    by: 'lifeguard',
    why: 'error-rate high: canary 0.081 > max 0.03 for 3s',
    decidedAt: '2025-03-01T10:00:00.000Z',
    weightReached: 25,
    failing: [{ metric: 'error-rate', classification: 'high', canary: 0.081, baseline: 0.004, thresholds: ['max 0.03'], breachingForMs: 3000, reason: 'canary 0.081 > max 0.03 for 3s' }],
    collectedAt: '2025-03-01T10:00:00.120Z',
    deployments: { stable: deployment('checkout', 'registry.example.com/checkout:1.4.2'), canary: deployment('checkout-canary', 'registry.example.com/checkout:1.5.0') },
    events,
    logs,
    bound: { maxBytes: MiB, cutBytes: 0, eventsCut: 0, deploymentsSummarised: false },
  };
}

describe('boundEvidence', () => {
  it('leaves evidence within the bound as it is', () => {
    const small = evidence([log('checkout-canary-a', lines(100, 80))]);
    expect(boundEvidence(small, MiB)).toEqual(small);
  });

  it('cuts a 10 MiB log to the bound, keeping its last lines and counting what it cut', () => {
    const huge = lines(100, 10 * MiB / 100, 'H');
    const other = lines(100, 80, 'S');
    const out = boundEvidence(evidence([log('checkout-canary-a', huge), log('checkout-canary-b', other)]), MiB);

    expect(size(out)).toBeLessThanOrEqual(MiB);
    expect(size(out)).toBeGreaterThan(MiB - 110_000); // cut to the bound, not far below it
    const [cut, untouched] = out.logs;
    expect(untouched).toEqual(log('checkout-canary-b', other));
    // The most recent lines stay, oldest first, ending with the last line the container wrote.
    expect(cut!.lines.at(-1)).toBe(huge.at(-1));
    expect(huge.slice(-cut!.lines.length)).toEqual(cut!.lines);
    expect(cut!.lines.length).toBe(9);
    expect(cut!.cutBytes).toBe(textBytes(huge) - textBytes(cut!.lines));
    expect(out.bound).toEqual({ maxBytes: MiB, cutBytes: cut!.cutBytes, eventsCut: 0, deploymentsSummarised: false });
    expect(cutNote(`${cut!.cutBytes} bytes`, out.bound.maxBytes)).toBe(`… ${cut!.cutBytes} bytes cut (evidence bound 1048576 bytes)`);
    expect(keptEvidenceSchema.parse(out)).toEqual(out);
  });

  it('keeps the end of a single 10 MiB line', () => {
    const line = `${'a'.repeat(10 * MiB - 5)} END`;
    const out = boundEvidence(evidence([log('checkout-canary-a', [line])]), MiB);
    expect(size(out)).toBeLessThanOrEqual(MiB);
    const [kept] = out.logs[0]!.lines;
    expect(kept!.endsWith(' END')).toBe(true);
    expect(line.endsWith(kept!)).toBe(true);
    expect(out.logs[0]!.cutBytes).toBe(line.length - kept!.length);
  });

  it('cuts the longest log first, and two long ones down to a common length', () => {
    const one = boundEvidence(evidence([log('a', lines(800, 1000)), log('b', lines(400, 1000)), log('c', lines(10, 1000))]), MiB);
    expect(size(one)).toBeLessThanOrEqual(MiB);
    expect(one.logs.map((l) => l.lines.length)).toEqual([one.logs[0]!.lines.length, 400, 10]);
    expect(one.logs[0]!.lines.length).toBeGreaterThan(400);

    const two = boundEvidence(evidence([log('a', lines(800, 1000)), log('b', lines(700, 1000)), log('c', lines(10, 1000))]), MiB);
    expect(size(two)).toBeLessThanOrEqual(MiB);
    const [a, b, c] = two.logs.map((l) => l.lines.length);
    expect(Math.abs(a! - b!)).toBeLessThanOrEqual(1);
    expect(a).toBeLessThan(700);
    expect(c).toBe(10);
  });

  it('never splits a multi-byte character, and counts escapes in the stored size', () => {
    const euros = boundEvidence(evidence([log('a', ['€'.repeat(400_000)])]), 64 * 1024);
    expect(size(euros)).toBeLessThanOrEqual(64 * 1024);
    expect(euros.logs[0]!.lines[0]).toMatch(/^€+$/);

    const quotes = boundEvidence(evidence([log('a', lines(2000, 200).map((l) => l.replace(/x/g, '"')))]), 64 * 1024);
    expect(size(quotes)).toBeLessThanOrEqual(64 * 1024);
    expect(quotes.logs[0]!.lines.length).toBeGreaterThan(100);
  });

  it('cuts the oldest Events once no log text is left, then keeps the Deployments as their summaries', () => {
    const events = Array.from({ length: 200 }, (_, i) => ({
      at: `2025-03-01T09:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z`,
      type: 'Warning',
      reason: 'Unhealthy',
      message: `Readiness probe failed #${i}: ${'y'.repeat(1000)}`,
      object: 'Pod/checkout-canary-x',
      count: 1,
    }));
    const out = boundEvidence(evidence([log('a', lines(100, 1000))], events), 64 * 1024);
    expect(size(out)).toBeLessThanOrEqual(64 * 1024);
    expect(out.logs[0]!.lines).toEqual([]);
    expect(out.bound.eventsCut).toBe(200 - out.events.length);
    expect(out.events.at(-1)).toEqual(events.at(-1));
    expect(out.bound.deploymentsSummarised).toBe(false);

    const bloated = evidence([]);
    bloated.deployments.stable = { ...bloated.deployments.stable, metadata: { name: 'checkout', annotations: { note: 'z'.repeat(100_000), 'deployment.kubernetes.io/revision': '3' } } };
    const trimmed = boundEvidence(bloated, 64 * 1024);
    expect(size(trimmed)).toBeLessThanOrEqual(64 * 1024);
    expect(trimmed.bound.deploymentsSummarised).toBe(true);
    expect(summariseDeployment(trimmed.deployments.stable)).toEqual(summariseDeployment(bloated.deployments.stable));
  });
});

describe('keptEvidence', () => {
  it('keeps the Deployments without managedFields, the last-applied copy and secret-named env values', () => {
    const op = {
      id: 7,
      kind: 'release',
      service: 'checkout',
      environment: 'production',
      from: { version: '1.4.2', image: 'checkout:1.4.2', revision: 3 },
      to: { version: '1.5.0', image: 'checkout:1.5.0' },
      rollback: { trigger: 'verdict', by: 'lifeguard', why: 'error-rate high', decidedAt: '2025-03-01T10:00:00.000Z', weightReached: 25, failing: [] },
    } as unknown as Operation;
    const raw = {
      metadata: { name: 'checkout-canary', managedFields: [{ manager: 'kubectl' }], annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"secret":1}', 'deployment.kubernetes.io/revision': '4' } },
      spec: { template: { spec: { containers: [{ name: 'app', image: 'checkout:1.5.0', env: [{ name: 'DB_PASSWORD', value: 'hunter2' }, { name: 'LOG_LEVEL', value: 'debug' }] }] } } },
    };
    const kept = keptEvidence(op, { collectedAt: '2025-03-01T10:00:00.100Z', deployments: { stable: raw, canary: raw }, logs: [{ pod: 'p', container: 'app', lines: ['x'] }], events: [] }, MiB);
    expect(kept.deployments.canary).toEqual({
      metadata: { name: 'checkout-canary', annotations: { 'deployment.kubernetes.io/revision': '4' } },
      spec: { template: { spec: { containers: [{ name: 'app', image: 'checkout:1.5.0', env: [{ name: 'DB_PASSWORD', value: '[redacted]' }, { name: 'LOG_LEVEL', value: 'debug' }] }] } } },
    });
    expect(kept.logs).toEqual([{ pod: 'p', container: 'app', lines: ['x'], cutBytes: 0 }]);
    expect(kept).toMatchObject({ operationId: 7, trigger: 'verdict', weightReached: 25, bound: { maxBytes: MiB, cutBytes: 0 } });
  });

  it('sums itself up for a post-mortem draft: logs, the warnings among the Events, what the bound cut', () => {
    const op = { id: 7, kind: 'release', service: 'checkout', environment: 'production', from: { version: '1.4.2', image: 'c:1.4.2', revision: 3 }, to: { version: '1.5.0', image: 'c:1.5.0' }, rollback: { trigger: 'verdict', by: 'lifeguard', why: 'x', decidedAt: '2025-03-01T10:00:00.000Z', weightReached: 25, failing: [] } } as unknown as Operation;
    const events = [
      { at: '2025-03-01T09:59:58Z', type: 'Warning', reason: 'Unhealthy', message: 'Readiness probe failed', object: 'Pod/checkout-canary-1', count: 3 },
      { at: '2025-03-01T09:59:50Z', type: 'Normal', reason: 'Pulled', message: 'pulled', object: 'Pod/checkout-canary-1', count: 1 },
    ];
    const kept = keptEvidence(op, { collectedAt: '2025-03-01T10:00:00.100Z', deployments: { stable: {}, canary: {} }, logs: [{ pod: 'p', container: 'app', lines: ['a', 'b'] }], events }, MiB);
    expect(evidenceSummary(kept)).toEqual([
      'Gathered at 2025-03-01T10:00:00.100Z (decision at 2025-03-01T10:00:00.000Z); `lifeguard evidence 7` prints it all.',
      '1 canary container log(s), 2 line(s).',
      '2 Event(s), 1 of them warnings: Unhealthy (Pod/checkout-canary-1).',
    ]);
  });
});

describe('lifeguard evidence, printed', () => {
  it('prints a canary log line without its terminal escapes, which could rewrite the operator\'s screen', async () => {
    const { evidenceReport } = await import('../../src/cli/evidence-report.js');
    const op = { id: 7, kind: 'release', service: 'checkout', environment: 'production', from: { version: '1.4.2', image: 'c:1.4.2', revision: 3 }, to: { version: '1.5.0', image: 'c:1.5.0' }, rollback: { trigger: 'verdict', by: 'lifeguard', why: 'x', decidedAt: '2025-03-01T10:00:00.000Z', weightReached: 25, failing: [] } } as unknown as Operation;
    const line = 'ERROR \u001b]0;pwned\u0007\u001b[2Jcheckout failed\tcode=503';
    const kept = keptEvidence(op, { collectedAt: '2025-03-01T10:00:00.100Z', deployments: { stable: {}, canary: {} }, logs: [{ pod: 'p', container: 'app', lines: [line] }], events: [] }, MiB);
    const printed = evidenceReport(kept, 100);
    expect(printed).toContain('ERROR ]0;pwned[2Jcheckout failed\tcode=503');
    expect(printed.join('\n').includes('\u001b') || printed.join('\n').includes('\u0007')).toBe(false);
  });
});
