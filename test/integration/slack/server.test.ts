import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.js';
import { createTelemetry } from '../../../src/metrics.js';
import { startServer, type RunningServer } from '../../../src/server.js';

describe('the HTTP server on PORT', () => {
  let running: RunningServer | undefined;
  const log = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, done) => done() }) });

  afterEach(async () => {
    await running?.close();
  });

  it('answers /readyz with 503 and the reasons while not ready, 200 once ready', async () => {
    let ready = false;
    running = await startServer({ port: 0, host: '127.0.0.1', metrics: createTelemetry(), log, readiness: () => (ready ? { ready, reasons: [] } : { ready, reasons: ['store not open'] }) });
    const base = `http://127.0.0.1:${running.port}`;
    const before = await fetch(`${base}/readyz`);
    expect(before.status).toBe(503);
    expect(await before.json()).toEqual({ ready: false, reasons: ['store not open'] });
    ready = true;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('serves metrics in the Prometheus text format, refuses other methods and paths', async () => {
    const metrics = createTelemetry();
    metrics.slackAckSeconds.observe({ kind: 'command' }, 0.012);
    running = await startServer({ port: 0, host: '127.0.0.1', metrics, log, readiness: () => ({ ready: true, reasons: [] }) });
    const base = `http://127.0.0.1:${running.port}`;
    const scraped = await fetch(`${base}/metrics`);
    expect(scraped.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await scraped.text();
    expect(text).toContain('lifeguard_slack_ack_seconds_bucket{le="0.025",kind="command"} 1');
    expect(text).toContain('lifeguard_process_cpu_seconds_total');
    expect((await fetch(`${base}/nowhere`)).status).toBe(404);
    expect((await fetch(`${base}/healthz`, { method: 'DELETE' })).status).toBe(405);
    expect((await fetch(`${base}/slack/events`, { method: 'POST', body: '' })).status).toBe(404);
  });
});
