import { Gauge, type Registry } from 'prom-client';
import type { DeliveryFigures } from './domain/delivery-figures.js';

/** The delivery figures of one service in one environment, as `/metrics` reports them. */
export interface DeliveryRow {
  service: string;
  environment: string;
  figures: DeliveryFigures;
}

type Labels = 'service' | 'environment';

/**
 * The delivery figures as gauges per service and environment, computed when Prometheus scrapes (from the shared
 * database, so every replica, leader or not, reports the same). A figure without a value in the period (no
 * change ended, no verified rollback) has no sample rather than a misleading 0.
 */
export function registerDeliveryGauges(registry: Registry, read: () => DeliveryRow[] | undefined): void {
  // One read per scrape: the gauges are collected together, within a second of the first.
  let cached: { at: number; rows: DeliveryRow[] | undefined } | undefined;
  const current = () => {
    if (!cached || Date.now() - cached.at > 1000) cached = { at: Date.now(), rows: read() };
    return cached.rows;
  };
  const gauge = (name: string, help: string, value: (f: DeliveryFigures) => number | null) =>
    new Gauge<Labels>({
      name,
      help,
      labelNames: ['service', 'environment'],
      registers: [registry],
      collect() {
        const rows = current();
        if (!rows) return;
        this.reset();
        for (const { service, environment, figures } of rows) {
          const v = value(figures);
          if (v !== null) this.set({ service, environment }, v);
        }
      },
    });
  const sum = (xs: (number | null)[]) => (xs.some((x) => x === null) || xs.length === 0 ? null : xs.reduce<number>((a, b) => a + b!, 0));
  gauge('lifeguard_delivery_deployments_per_day', 'Releases and hotfixes promoted per day over the last 30 days.', (f) => f.deploymentsPerDay);
  gauge('lifeguard_delivery_change_failure_ratio', 'Ended releases and hotfixes of the last 30 days rolled back, aborted, failed or undone next, as a fraction of them.', (f) => f.changeFailureRate);
  gauge('lifeguard_delivery_recovery_seconds_mean', 'Mean time from a rollback decision to its verification, over the verified rollbacks of the last 30 days.', (f) => (f.meanTimeToRecoveryMs === null ? null : f.meanTimeToRecoveryMs / 1000));
  gauge('lifeguard_delivery_release_seconds_median', 'Median time from start to promotion of the releases and hotfixes promoted in the last 30 days.', (f) => (f.medianReleaseDurationMs === null ? null : f.medianReleaseDurationMs / 1000));
  gauge('lifeguard_delivery_automated_rollbacks', 'Rollbacks Lifeguard decided and ran in the last 30 days.', (f) => f.automatedRollbacks);
  gauge('lifeguard_delivery_canary_failed_requests', 'Failed requests bad canaries served before they were caught, last 30 days; absent when any is unknown.', (f) => sum(f.canarySaved.map((c) => c.failedServed)));
  gauge(
    'lifeguard_delivery_canary_failed_requests_at_full_traffic',
    'Failed requests the same bad canaries would have served with all the traffic over the same time, last 30 days; absent when any is unknown.',
    (f) => sum(f.canarySaved.map((c) => c.failedAtFullTraffic)),
  );
}
