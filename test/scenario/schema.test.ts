import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { scenarioJsonSchema, scenarioJsonSchemaText } from '../../src/model/scenario/schema.ts';

describe('published JSON Schema', () => {
  it('scenarios/schema.json is up to date with the zod schema (run `npm run schema`)', () => {
    expect(readFileSync('scenarios/schema.json', 'utf8')).toBe(scenarioJsonSchemaText());
  });

  it('describes fields and rejects unknown keys, so editors can help', () => {
    const schema = scenarioJsonSchema() as { properties: Record<string, { description?: string }>; additionalProperties: unknown; required: string[] };
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(expect.arrayContaining(['name', 'durationS', 'topology', 'users', 'containers']));
    for (const [key, prop] of Object.entries(schema.properties)) expect(prop.description, key).toBeTruthy();
  });
});
