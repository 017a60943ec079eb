/**
 * executeRun in one process, as a pool worker or a Slurm task runs its runs one after
 * another: a cell's scenario hash is computed by its first run and reused by the others
 * (execute.ts). Every run's summary must still carry the hash of its own scenario, as
 * `conmig run` would compute it for that policy and seed.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { scenarioHash } from '../../src/cluster/scenario-hash.ts';
import { buildCell, scenarioData } from '../../src/sweep/cell.ts';
import { executeRun } from '../../src/sweep/execute.ts';
import { loadSweep } from '../../src/sweep/load.ts';
import { sweepDir, tmp } from './helpers.ts';

// Random starts (drawn from the seed), two policies, three seeds, a cell whose overrides change the hash.
const SWEEP = `name: hashes
scenarios: [FIXTURES/small.yaml]
policies: [never, threshold]
seeds: 1..3
grid:
  containers[*].memoryMiB: [64, 512]
`;

describe('executeRun, many runs in one process', () => {
  it("each run's summary has its own scenario's hash, though a cell's hash is computed once", async () => {
    const { file } = sweepDir(SWEEP);
    const plan = await loadSweep(file);
    const out = tmp();
    writeFileSync(path.join(out, 'sweep.json'), JSON.stringify(plan));
    const hashes = new Set<string>();
    for (const run of plan.runs) {
      const o = await executeRun(plan, run, out);
      expect(o.status, o.status === 'failed' ? o.failure.message : '').toBe('ok');
      if (o.status !== 'ok') continue;
      const summary = JSON.parse(readFileSync(path.join(out, 'runs', run.id, o.marker.dir, 'summary.json'), 'utf8')) as { scenario: { hash: string }; seed: number };
      // What conmig run would hash: this run's own scenario (its policy, its seed), built afresh.
      const cell = plan.cells[run.cell - 1];
      const base = plan.scenarios[cell.scenario];
      const built = buildCell(scenarioData(base.text), cell.overrides, { file: base.file, resolvePath: (p) => path.resolve(path.dirname(base.file), p), fileExists: existsSync }, { policy: run.policy, seed: run.seed });
      expect(built.scenario).toBeDefined();
      expect(summary.seed).toBe(run.seed);
      expect(summary.scenario.hash).toBe(scenarioHash(built.scenario!));
      expect(o.marker.scenarioHash).toBe(summary.scenario.hash);
      hashes.add(summary.scenario.hash);
    }
    // One hash per cell: the cache is keyed by what changes it.
    expect(hashes.size).toBe(plan.cells.length);
  }, 120_000);
});
