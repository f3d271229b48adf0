import { runDemo } from '../demo/run-demo.js';

/** `npm run demo`'s entry point: the demo itself lives in `demo/`, the process exit here (STYLE.md §8). */
runDemo().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`demo failed: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
