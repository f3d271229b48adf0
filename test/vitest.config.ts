import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The whole suite: unit, contract, integration and e2e. Benchmarks live in test/bench and run via `npm run bench`.
export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/bench/**', 'node_modules/**', 'dist/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    maxWorkers: 2,
    // Every manifest save re-reads the disk and compares it with memory: a write the change tracking missed
    // fails the test that made it (src/state/manifest-tracking.ts).
    env: { BUTTER_SYNC_CHECK_JOURNAL: '1' },
  },
});
