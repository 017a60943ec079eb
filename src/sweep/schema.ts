/**
 * The sweep file format: a zod schema of the YAML as written, built from the
 * scenario schema's field helpers so that problems read the same way
 * (`file:line: field: expected ..., got ...`). Override paths and their values
 * are checked against each base scenario in expand.ts; here only the shape.
 *
 * `npm run schema` publishes it as scenarios/sweep.schema.json for editors.
 */
import { z } from 'zod';
import { id, list, num, obj, str } from '../model/scenario/schema.ts';

/** Values of one swept field: each one is a cell (with the other fields' values). */
const ValuesSchema = z
  .array(z.unknown().describe('A value the scenario field accepts.'), { error: 'expected a list of values' })
  .min(1, { error: 'expected a list of at least one value' })
  .describe('Values of this field, one per cell; a value that is itself a list (a range [lo, hi]) is written as [[1, 2], [5, 15]].');

const OverridePathsSchema = z.record(z.string(), z.unknown(), { error: 'expected a mapping of field path to value' });

const SeedsSchema = z
  .union(
    [
      z.array(num('Seed.', 'nonnegative', true), { error: 'expected a list of seeds' }).min(1, { error: 'expected at least one seed' }),
      z.string({ error: 'expected seeds as a list or a text like 1..30' }).regex(/^\s*\d+(\s*\.\.\s*\d+)?(\s*,\s*\d+(\s*\.\.\s*\d+)?)*\s*$/, {
        error: 'expected seeds like 1..30, 1,2,7 or 3..5,9',
      }),
      num('One seed.', 'nonnegative', true),
    ],
    { error: 'expected seeds: a list of integers, a text like 1..30, or one integer' },
  )
  .describe("Seeds every cell runs with: a list, a text like 1..30 or 1,2,7, or one integer. Default: each scenario's seed.");

export const SweepFileSchema = obj(
  {
    name: id('Sweep name (the default output folder is results/<name>).'),
    description: z.string({ error: 'expected a string' }).describe('What the sweep is for.').optional(),
    scenarios: list(str('Scenario file, relative to the sweep file.'), 'Base scenarios; every cell is run on each.').min(1, {
      error: 'expected at least one scenario',
    }),
    policies: list(str("Policy name: one of the scenario's policies (with its params) or a built-in."), "Policies to run in every cell. Default: each scenario's own.")
      .min(1, { error: 'expected at least one policy' })
      .optional(),
    seeds: SeedsSchema.optional(),
    grid: z
      .record(z.string(), ValuesSchema, { error: 'expected a mapping of field path to a list of values' })
      .describe(
        'Field path -> values; every combination is a cell. Paths address the scenario as written: qosThresholdMs, containers[*].memoryMiB (every entry), users[walker].mobility.speedMps (the entry with id walker), topology.nodes[0].cpuCores (by position).',
      )
      .optional(),
    points: list(OverridePathsSchema.describe('Field path -> value of one cell.'), 'Explicit cells (after the grid cells), each a mapping of field path to value.').optional(),
  },
  'A conmig parameter sweep: scenarios x cells x policies x seeds.',
);

export type SweepFile = z.output<typeof SweepFileSchema>;

/** The published JSON Schema (draft 2020-12) of the sweep file, for editors. */
export function sweepJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(SweepFileSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  return { ...schema, $id: 'https://conmig.dev/schema/sweep.json', title: 'conmig sweep' };
}

/** The exact text of scenarios/sweep.schema.json (written by scripts/write-schema.ts, checked by a test). */
export function sweepJsonSchemaText(): string {
  return JSON.stringify(sweepJsonSchema(), null, 2) + '\n';
}
