import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Benchmarks print numbers; they are not part of `npm test`. The global teardown of bench-report.ts
// turns test/bench/results/*.json into test/bench/REPORT.md once every file has run.
export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    include: ['test/bench/**/*.bench.test.ts'],
    globalSetup: ['test/bench/bench-report.ts'],
    testTimeout: 600_000,
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
  },
});
