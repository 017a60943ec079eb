/**
 * pandas (Debian's python3-pandas, installed by scripts/setup.sh) reads the
 * merged CSVs with no options: the expected columns, numbers as numbers,
 * swept ranges as text, NaN where a run has no value. Locally it skips with
 * a printed reason when pandas is missing; under CI=true that is an error.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SEED_METRICS } from '../../src/analysis/seeds.ts';
import { SUMMARY_COLUMNS } from '../../src/sweep/tables.ts';
import { conmig, readCsv, sweepDir } from './helpers.ts';

// Debian's own python3: a pyenv or venv python3 earlier on PATH does not see python3-pandas.
const PYTHON = '/usr/bin/python3';
const probe = spawnSync(PYTHON, ['-c', 'import pandas; print(pandas.__version__)'], { encoding: 'utf8' });
const reason = probe.status === 0 ? '' : `no pandas for ${PYTHON} (apt-get install python3-pandas, as scripts/setup.sh does)`;
if (reason !== '') {
  if (process.env.CI) throw new Error(`pandas.test.ts: ${reason}; required in CI`);
  console.log(`[pandas.test.ts] skipping: ${reason}`);
}

const READ = `
import json, sys
import pandas as pd
runs = pd.read_csv(sys.argv[1])
cells = pd.read_csv(sys.argv[2])
p95 = cells[cells.metric == "p95Ms"]
print(json.dumps({
  "columns": list(runs.columns),
  "dtypes": {c: str(t) for c, t in runs.dtypes.items()},
  "rows": len(runs),
  "nanDowntime": int(runs["migrations.downtimeMs.mean"].isna().sum()),
  "noMigrations": int((runs["migrations.count"] == 0).sum()),
  "noMigrationsWithDowntime": int(((runs["migrations.count"] == 0) & runs["migrations.downtimeMs.mean"].notna()).sum()),
  "meanP95": runs.groupby(["containers[*].memoryMiB", "policy"])["responseMs.p95Ms"].mean().round(9).to_dict().__repr__(),
  "cellColumns": list(cells.columns),
  "cellDtypes": {c: str(t) for c, t in cells.dtypes.items()},
  "cellMeanP95": p95.groupby(["containers[*].memoryMiB", "policy"])["mean"].mean().round(9).to_dict().__repr__(),
}))
`;

describe.skipIf(reason !== '')('pandas reads the merged results', () => {
  it('the columns and types a researcher expects, and the same means', async () => {
    const { dir, file } = sweepDir(`name: pd
scenarios: [FIXTURES/small.yaml]
policies: [never, threshold]
seeds: 1..2
grid:
  containers[*].memoryMiB: [64, 512]
  users[walker].mobility.speedMps: [[1, 2], [5, 15]]
`);
    const out = path.join(dir, 'out');
    const r = await conmig('sweep', file, '--out', out);
    expect(r.status, r.stderr).toBe(0);
    const py = spawnSync(PYTHON, ['-c', READ, path.join(out, 'results.csv'), path.join(out, 'cells.csv')], { encoding: 'utf8' });
    expect(py.status, py.stderr).toBe(0);
    const got = JSON.parse(py.stdout) as {
      columns: string[];
      dtypes: Record<string, string>;
      rows: number;
      nanDowntime: number;
      noMigrations: number;
      noMigrationsWithDowntime: number;
      meanP95: string;
      cellColumns: string[];
      cellDtypes: Record<string, string>;
      cellMeanP95: string;
    };
    const summary = SUMMARY_COLUMNS.map(([n]) => n);
    expect(got.columns).toEqual(['run', 'scenario', 'cell', 'containers[*].memoryMiB', 'users[walker].mobility.speedMps', 'policy', 'seed', 'scenarioHash', ...summary]);
    expect(got.rows).toBe(16);
    expect(got.dtypes).toMatchObject({
      run: 'object',
      scenario: 'object',
      cell: 'int64',
      'containers[*].memoryMiB': 'int64',
      'users[walker].mobility.speedMps': 'object',
      policy: 'object',
      seed: 'int64',
      'requests.generated': 'int64',
      'migrations.count': 'int64',
      'responseMs.p95Ms': 'float64',
      'qos.fractionOver': 'float64',
      'migrations.downtimeMs.mean': 'float64',
    });
    // Every summary number is a number column (counts int64, the rest float64).
    for (const c of summary) expect(['int64', 'float64'], c).toContain(got.dtypes[c]);
    // An empty cell is NaN: a run without migrations has no mean downtime (nor one whose moves did not finish).
    expect(got.noMigrations).toBeGreaterThan(0);
    expect(got.noMigrationsWithDowntime).toBe(0);
    expect(got.nanDowntime).toBeGreaterThanOrEqual(got.noMigrations);

    expect(got.cellColumns).toEqual(['scenario', 'cell', 'containers[*].memoryMiB', 'users[walker].mobility.speedMps', 'policy', 'metric', 'n', 'mean', 'sd', 'ciLow', 'ciHigh']);
    expect(got.cellDtypes).toMatchObject({ metric: 'object', n: 'int64', mean: 'float64', sd: 'float64', ciLow: 'float64', ciHigh: 'float64' });
    // The mean over runs equals the mean of the cells' means (equal seeds per cell).
    expect(got.cellMeanP95).toBe(got.meanP95);
    expect(readCsv(path.join(out, 'cells.csv'))).toHaveLength(4 * 2 * SEED_METRICS.length);
  }, 300_000);
});
