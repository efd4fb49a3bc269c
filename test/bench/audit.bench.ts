import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type SqliteStore } from '../../src/adapters/sqlite/store.js';
import { median, repeat, type Bench } from './harness.js';

const RUNS = 5;
const detail = { verdict: 'pass', score: 97.5, metrics: [{ name: 'error-rate', canary: 0.0042, baseline: 0.0039, threshold: 0.03, classification: 'pass' }] };
const entry = (i: number) => ({ actor: 'lifeguard', action: 'analysis.verdict', subject: 'checkout/production', detail: { ...detail, i } });

/** LIFEGUARD_AUDIT_KEY for the keyed figures. */
const KEY = 'bench-audit-key-'.padEnd(64, '0');

function withStore<T>(fn: (store: SqliteStore) => Promise<T>, auditKey?: string): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'lifeguard-bench-'));
  const store = openStore(join(dir, 'lifeguard.db'), { auditKey });
  return fn(store).finally(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
}

/** Appends per second, each awaited until fsynced, from `writers` concurrent callers (group commit). */
async function groupCommitRate(writers: number, perWriter: number): Promise<number> {
  return withStore(async (store) => {
    const started = performance.now();
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let i = 0; i < perWriter; i++) await store.audit.appendDurable(entry(w * perWriter + i));
      }),
    );
    return (writers * perWriter) / ((performance.now() - started) / 1000);
  });
}

/** Appends per second from one caller, each its own fsynced transaction. */
async function serialRate(count: number): Promise<number> {
  return withStore(async (store) => {
    const started = performance.now();
    for (let i = 0; i < count; i++) store.audit.append(entry(i));
    return count / ((performance.now() - started) / 1000);
  });
}

async function verifyMillionSeconds(auditKey?: string): Promise<number[]> {
  return withStore(async (store) => {
    store.db.pragma('synchronous = OFF');
    store.transaction(() => {
      for (let i = 0; i < 1_000_000; i++) store.audit.append(entry(i));
    });
    return repeat(RUNS, () => {
      const started = performance.now();
      const check = store.audit.verify();
      if (!check.ok || check.rows !== 1_000_000) throw new Error(`verify failed on the benchmark log: ${JSON.stringify(check)}`);
      return (performance.now() - started) / 1000;
    });
  }, auditKey);
}

export const bench: Bench = {
  name: 'audit log',
  async run() {
    const grouped = await repeat(RUNS, () => groupCommitRate(32, 200));
    const serial = await repeat(RUNS, () => serialRate(500));
    const verify = await verifyMillionSeconds();
    const verifyKeyed = await verifyMillionSeconds(KEY);
    return [
      {
        name: 'durable appends/s, 32 concurrent writers (group commit, fsync per batch)',
        unit: 'rows/s',
        median: median(grouped),
        runs: RUNS,
        target: { op: '>=', value: 2000 },
      },
      {
        name: 'durable appends/s, one writer, one fsync per row',
        unit: 'rows/s',
        median: median(serial),
        runs: RUNS,
        note: 'bounded by the disk: one fdatasync per commit',
      },
      { name: 'audit verify, 1,000,000 rows', unit: 's', median: median(verify), runs: RUNS, target: { op: '<=', value: 5 } },
      { name: 'audit verify, 1,000,000 rows keyed (HMAC-SHA256)', unit: 's', median: median(verifyKeyed), runs: RUNS, target: { op: '<=', value: 5 } },
    ];
  },
};
