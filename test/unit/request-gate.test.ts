import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RequestGate } from '../../src/adapters/kubernetes/request-gate.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('the request gate of a cluster', () => {
  it('lets a burst through at once, then paces the rest at the QPS, as client-go does', async () => {
    const gate = new RequestGate({ concurrency: 100, qps: 10, burst: 3 }, () => Date.now());
    const started: number[] = [];
    const t0 = Date.now();
    const all = Promise.all(Array.from({ length: 8 }, () => gate.run(async () => void started.push(Date.now() - t0))));
    await vi.advanceTimersByTimeAsync(1_000);
    await all;
    expect(started).toEqual([0, 0, 0, 100, 200, 300, 400, 500]);
  });

  it('never has more than `concurrency` requests in flight, and queues the rest in order', async () => {
    const gate = new RequestGate({ concurrency: 2, qps: 1_000, burst: 1_000 }, () => Date.now());
    let inFlight = 0;
    let most = 0;
    const order: number[] = [];
    const all = Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        gate.run(async () => {
          inFlight++;
          most = Math.max(most, inFlight);
          order.push(i);
          await new Promise((r) => setTimeout(r, 50));
          inFlight--;
        }),
      ),
    );
    expect(gate.queued).toBe(4);
    await vi.advanceTimersByTimeAsync(200);
    await all;
    expect(most).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('refills while idle, up to the burst and no more', async () => {
    const gate = new RequestGate({ concurrency: 100, qps: 10, burst: 2 }, () => Date.now());
    await Promise.all([gate.run(async () => {}), gate.run(async () => {})]);
    await vi.advanceTimersByTimeAsync(10_000);
    const t0 = Date.now();
    const started: number[] = [];
    const all = Promise.all(Array.from({ length: 4 }, () => gate.run(async () => void started.push(Date.now() - t0))));
    await vi.advanceTimersByTimeAsync(1_000);
    await all;
    expect(started).toEqual([0, 0, 100, 200]);
  });

  it('passes a failure through to its caller and goes on with the next', async () => {
    const gate = new RequestGate({ concurrency: 1, qps: 1_000, burst: 10 }, () => Date.now());
    await expect(gate.run(async () => Promise.reject(new Error('503')))).rejects.toThrow('503');
    await expect(gate.run(async () => 'ok')).resolves.toBe('ok');
  });
});
