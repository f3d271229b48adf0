import { afterEach, describe, expect, it } from 'vitest';
import { scrubSecrets } from '../../src/cli/output.js';
import { readSecrets } from '../../src/cli/wiring.js';

// WEBFLOW_TOKEN is a secret like the ButterCMS tokens: read from the environment only, scrubbed from output.

const saved = process.env.WEBFLOW_TOKEN;
afterEach(() => {
  if (saved === undefined) delete process.env.WEBFLOW_TOKEN;
  else process.env.WEBFLOW_TOKEN = saved;
});

describe('WEBFLOW_TOKEN', () => {
  it('is read from the environment and never printed', () => {
    process.env.WEBFLOW_TOKEN = 'wf-secret-0123456789';
    expect(readSecrets().webflowToken).toBe('wf-secret-0123456789');
    const out = scrubSecrets('GET /v2/sites failed: Bearer wf-secret-0123456789 refused');
    expect(out).not.toContain('wf-secret-0123456789');
    expect(out).toContain('GET /v2/sites failed');
  });
});
