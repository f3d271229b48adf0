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
    // Only describe.concurrent files use it (cli-exit-codes: independent cells, each mostly a CLI process starting
    // and waiting on its emulator). 3 fills that waiting on 2 cores without pushing a cell near testTimeout when
    // the other worker is busy too (at vitest's default of 5, a 3-CLI cell took 29 s under load 17).
    maxConcurrency: 3,
    // Every manifest save re-reads the disk and compares it with memory: a write the change tracking missed
    // fails the test that made it (src/state/manifest-tracking.ts).
    env: { BUTTER_SYNC_CHECK_JOURNAL: '1' },
  },
});
