import { parseConfig } from '../../src/config/load-config.js';
import type { ConfigInput, SyncConfig } from '../../src/config/schema.js';

/** A config the test means to be valid: parsed, or the test stops with the validation errors. */
export function validConfig(input: ConfigInput | Record<string, unknown>): SyncConfig {
  const { config, errors } = parseConfig(input);
  if (!config) throw new Error(`test config is invalid: ${JSON.stringify(errors)}`);
  return config;
}
