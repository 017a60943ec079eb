/**
 * Writes scenarios/schema.json, the JSON Schema of the scenario file format,
 * from the zod schema (src/model/scenario/schema.ts). Run: npm run schema.
 * Editors pick it up through the first line of a scenario:
 *   # yaml-language-server: $schema=./schema.json
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { scenarioJsonSchemaText } from '../src/model/scenario/schema.ts';

const target = fileURLToPath(new URL('../scenarios/schema.json', import.meta.url));
await writeFile(target, scenarioJsonSchemaText());
process.stdout.write(`wrote ${target}\n`);
