import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Benchmarks print numbers; they are not part of `npm test`.
export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    include: ['test/bench/**/*.bench.test.ts'],
    testTimeout: 600_000,
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
  },
});
