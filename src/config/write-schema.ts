import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { buildJsonSchema } from './schema.js';

/** `npm run schema`: regenerate the shipped JSON Schema from the zod source (a test checks it is current). */
export function renderJsonSchema(): string {
  return `${JSON.stringify(buildJsonSchema(), null, 2)}\n`;
}

const target = fileURLToPath(new URL('../../src/config/sync.config.schema.json', import.meta.url));
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await writeFile(target, renderJsonSchema());
  process.stdout.write(`wrote ${target}\n`);
}
