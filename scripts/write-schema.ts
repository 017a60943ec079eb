/**
 * Writes the JSON Schemas of the file formats, from their zod schemas:
 *   scenarios/schema.json        scenario files (src/model/scenario/schema.ts)
 *   scenarios/sweep.schema.json  sweep files (src/sweep/schema.ts)
 * Run: npm run schema. Editors pick them up through the first line of a file:
 *   # yaml-language-server: $schema=./schema.json        (or ./sweep.schema.json)
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { scenarioJsonSchemaText } from '../src/model/scenario/schema.ts';
import { sweepJsonSchemaText } from '../src/sweep/schema.ts';

for (const [name, text] of [
  ['schema.json', scenarioJsonSchemaText()],
  ['sweep.schema.json', sweepJsonSchemaText()],
] as const) {
  const target = fileURLToPath(new URL(`../scenarios/${name}`, import.meta.url));
  await writeFile(target, text);
  process.stdout.write(`wrote ${target}\n`);
}
