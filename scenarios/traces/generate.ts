/**
 * Regenerates the sample traces in this folder (synthetic; no real data):
 *   npx tsx scenarios/traces/generate.ts
 * - city-taxis.csv: 10 cars (taxi-0 .. taxi-9) on the 250 m street grid of the
 *   4 km x 4 km city-grid area, sampled every 10 s for 600 s.
 * - cabspotting/new_cab<k>.txt: 3 cabs in the cabspotting format around
 *   San Francisco, sampled every 30 s for 900 s, newest first.
 * test/sim/mobility-samples.test.ts checks that the files match this script.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SAMPLE_CABSPOTTING, SAMPLE_CSV, synthesizeCabspotting, synthesizeCsvTrace } from '../../src/mobility/synthetic-trace.ts';

const here = dirname(fileURLToPath(import.meta.url));
writeFileSync(join(here, 'city-taxis.csv'), synthesizeCsvTrace(SAMPLE_CSV));
mkdirSync(join(here, 'cabspotting'), { recursive: true });
for (const [name, text] of synthesizeCabspotting(SAMPLE_CABSPOTTING)) writeFileSync(join(here, 'cabspotting', name), text);
