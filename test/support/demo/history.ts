import { httpHistory, steady } from '../http-history.js';

/**
 * The demo's synthetic Prometheus history of `checkout` in production: a canary on 25% of the traffic whose
 * error ratio rises from 1% to 4% ten minutes before the end, against a baseline steady at 1%. The same on
 * every run; only the end time moves with the clock, so the graphs sit in Prometheus' default one-hour view.
 */
export const DEMO_CANARY_SHARE = 25;
const DURATION_S = 30 * 60;
const RISE_AGO_S = 10 * 60;

export const DEMO_HISTORY_STORY =
  `30 minutes of synthetic checkout traffic: a canary on ${DEMO_CANARY_SHARE}% whose error rate rises from 1% to 4% ` +
  `${RISE_AGO_S / 60} minutes before the end, against a baseline steady at 1%`;

/** OpenMetrics text for promtool, ending at `end` (unix seconds). */
export function demoHistory(end: number): string {
  const baselineRps = 100 - DEMO_CANARY_SHARE;
  return httpHistory(
    [
      {
        app: 'checkout',
        canary: { ...steady(DEMO_CANARY_SHARE, 0.01), errorRatio: (ago) => (ago < RISE_AGO_S ? 0.04 : 0.01) },
        baseline: steady(baselineRps, 0.01),
      },
    ],
    { end, duration: DURATION_S },
  );
}
