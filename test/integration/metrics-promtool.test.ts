import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/slack-standin/harness.js';

describe('GET /metrics of a started Lifeguard', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness();
  });
  afterAll(async () => {
    await harness?.close();
  });

  it('passes `promtool check metrics`, keeping the per-type handle, request and resource gauges', async () => {
    // Some of every kind of sample: an acknowledged command fills the ack histogram.
    expect((await harness.command('/release', 'help')).status).toBe(200);
    const text = await (await fetch(`${harness.url}/metrics`)).text();

    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 20_000 });
    expect(check.stdout + check.stderr).toBe('');
    expect(check.status).toBe(0);
    expect(text).toMatch(/^# TYPE lifeguard_nodejs_active_handles gauge$/m);
    expect(text).toMatch(/^# TYPE lifeguard_nodejs_active_resources gauge$/m);
    expect(text).toMatch(/^lifeguard_slack_ack_seconds_count\{kind="command"\} 1$/m);
  });
});
