import { defineConfig } from 'vitest/config';
import SummaryReporter from './test/support/summary-reporter.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Whole-release tests mostly wait on seconds of real time (steps, windows, scrapes): two at once use the
    // machine's two cores without crowding them.
    maxWorkers: 2,
    reporters: ['default', new SummaryReporter()],
  },
});
