import { afterEach, describe, expect, it } from 'vitest';
import { renderPlan } from '../../src/cli/output.js';
import { type Fixture, makeFixture } from '../helpers/sync-fixture.js';

// Issue 13 ("plan's field column lists the fields actually sent"): a create carries every field of the model
// (butter-api.md §3.1), so the fields a file does not have go as empty values; the plan says so instead of
// listing the whole model as if the file held it.
describe('plan output', () => {
  let fx: Fixture | undefined;
  afterEach(async () => {
    await fx?.cleanup();
    fx = undefined;
  });

  it('names the fields a new page has and counts the empty ones a create must send', async () => {
    fx = await makeFixture();
    await fx.write(
      'content-example/pages/faq/new-page.md',
      '---\nheadline: Only a headline\n---\nAnd a body.\n',
    );
    const s = await fx.open();
    const { plan } = await s.engine.push({ dryRun: true });
    await s.done();
    const row = renderPlan(plan)
      .split('\n')
      .find((line) => line.includes('new-page'));
    expect(row).toContain('POST page');
    expect(row).toContain('headline, body (+3 empty: a create sends every field of the model)');
    expect(row).not.toContain('hero_image');
  });

  it('itemises the list reads of a reconcile, so the rows add up to the total', async () => {
    // Found in a trial: `plan` said "Total API calls: 4 (2 reads, …)" with no row for the two reads.
    fx = await makeFixture();
    const s = await fx.open();
    const { plan } = await s.engine.reconcile({ dryRun: true });
    await s.done();
    const reads = plan.breakdown?.reads ?? 0;
    expect(reads).toBeGreaterThan(0);
    const text = renderPlan(plan);
    const callsOf = (line: string) => Number(line.split(/\s{2,}/)[2]);
    const readRows = text.split('\n').filter((line) => line.startsWith('READ'));
    expect(readRows.reduce((sum, line) => sum + callsOf(line), 0)).toBe(reads);
    const rows = text.split('\n').filter((line) => /^(READ|VERIFY|POST|PATCH|PUT|DELETE)/.test(line));
    expect(rows.reduce((sum, line) => sum + callsOf(line), 0)).toBe(plan.totalCalls);
  });
});
