import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpProbe } from '../../src/adapters/http/probe.js';
import { metricTemplateSchema } from '../../src/config/metric-schema.js';
import { analyzeCanaries, type CanaryTarget } from '../../src/flows/canary-analysis.js';
import type { Metrics } from '../../src/ports.js';

// A dependency or synthetic check needs no Prometheus: a Metrics that is never asked is enough.
const unused: Metrics = {
  instant: () => Promise.reject(new Error('an http check must not query Prometheus')),
  range: () => Promise.reject(new Error('an http check must not query Prometheus')),
};

let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const delay = req.url?.startsWith('/slow') ? 400 : 0;
    setTimeout(() => res.writeHead(req.url?.startsWith('/broken') ? 503 : 200).end('ok'), delay);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function target(url: string, fields: Record<string, unknown> = {}): CanaryTarget {
  return {
    service: 'checkout',
    environment: 'production',
    metrics: [{ name: 'synthetic', template: metricTemplateSchema.parse({ kind: 'http', url, max: 0.2, critical: true, ...fields }) }],
    score: { pass: 80, marginal: 60 },
    trafficShare: 10,
  };
}

const judge = async (t: CanaryTarget) => (await analyzeCanaries({ metrics: unused, probe: httpProbe }, [t], new Date()))[0]!;

describe('http checks', () => {
  it('passes a healthy answer, with the URL probed (service filled in) in the evidence', async () => {
    const verdict = await judge(target(`${base}/{{service}}/healthz`));
    expect(verdict.verdict).toBe('pass');
    expect(verdict.metrics[0]!.queries).toEqual([{ purpose: 'GET', query: `${base}/checkout/healthz` }]);
  });

  it('fails an unhealthy status or a slow answer', async () => {
    expect((await judge(target(`${base}/broken`))).verdict).toBe('fail');
    const slow = await judge(target(`${base}/slow`));
    expect(slow.verdict).toBe('fail');
    expect(slow.metrics[0]!.canary).toBeGreaterThan(0.2);
  });

  it('is inconclusive when the URL cannot be reached or times out', async () => {
    const timeout = await judge(target(`${base}/slow`, { timeout: '100ms' }));
    expect(timeout).toMatchObject({ verdict: 'inconclusive' });
    expect(timeout.metrics[0]!.reason).toContain('timeout: no answer within 100 ms');
    const refused = await judge(target('http://127.0.0.1:1/healthz'));
    expect(refused.verdict).toBe('inconclusive');
    expect(refused.metrics[0]!.reason).toContain('unreachable');
  });
});
