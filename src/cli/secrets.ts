// Apart from wiring.ts so that output.ts (and through it cli/main.ts) can scrub secrets without loading the engine.

export const DEFAULT_API_URL = 'https://api.buttercms.com/v2';

/** Secrets come from the environment only (DESIGN.md §2); they are handed to the logger to be scrubbed. */
export function readSecrets(env: NodeJS.ProcessEnv = process.env) {
  return {
    apiUrl: env.BUTTER_API_URL || DEFAULT_API_URL,
    readToken: env.BUTTER_READ_TOKEN || undefined,
    writeToken: env.BUTTER_WRITE_TOKEN || undefined,
    webhookSecret: env.BUTTER_WEBHOOK_SECRET || undefined,
    consoleToken: env.BUTTER_SYNC_CONSOLE_TOKEN || undefined,
    webflowToken: env.WEBFLOW_TOKEN || undefined,
  };
}
