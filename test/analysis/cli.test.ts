/**
 * The compare and calibrate commands end to end, through main() in-process
 * (exit status and terminal output are part of the contract; the process
 * wrapper is tested once per status class in test/cli/process.test.ts).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { writeRun } from '../../src/results/write.ts';
import { mibToMegabits } from '../../src/model/migration-cost.ts';
import { createRng, uniform } from '../../src/model/random.ts';
import { conmig as runCli, type CliResult } from '../helpers/cli.ts';
import { calibrationScenario } from '../helpers/scenarios.ts';
import { migration, syntheticRun } from './synthetic.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'results', 'two-policies');
const tmp = mkdtempSync(join(tmpdir(), 'conmig-analysis-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const conmig = (...args: string[]): Promise<CliResult> => runCli(args, { cwd: tmp });

describe('conmig compare', () => {
  it('a folder that is not a result: exit 2, a message naming it, no stack trace', async () => {
    const r = await conmig('compare', tmp, join(FIXTURES, 'never'));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${tmp} is not a valid conmig result folder`);
    // readRun reads the files in parallel: whichever missing file is found first is named.
    expect(r.stderr).toMatch(/(summary\.json|\.csv): \(root\): file is missing/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('two fixture runs: the table on the terminal, compare.html, comparison.json and the SVGs', async () => {
    const out = join(tmp, 'cmp');
    const r = await conmig('compare', join(FIXTURES, 'never'), join(FIXTURES, 'nearest'), '--out', out, '--tolerance-percentile', '0.5');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('never (ref)');
    expect(r.stdout).toContain('p50 differs by 40.2% (tolerance 50%): the runs agree');
    const json = JSON.parse(readFileSync(join(out, 'comparison.json'), 'utf8')) as { reference: string; tolerance: { percentileRel: number } };
    expect(json.reference).toBe('never');
    expect(json.tolerance.percentileRel).toBe(0.5);
    const html = readFileSync(join(out, 'compare.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<script[^>]+src=/); // offline: nothing loaded from elsewhere
    for (const c of ['cdf', 'percentiles', 'user-series']) expect(existsSync(join(out, 'charts', `${c}.svg`))).toBe(true);
  });

  it('a bad tolerance is a usage error (exit 2)', async () => {
    const r = await conmig('compare', join(FIXTURES, 'never'), join(FIXTURES, 'nearest'), '--tolerance-percentile', 'ten');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--tolerance-percentile must be a number in (0, 1], got "ten"');
  });
});

describe('conmig calibrate', () => {
  it('fits live runs of a scenario and writes the calibrated YAML with the fit on top', async () => {
    const scenarioText = calibrationScenario({ header: '# A tiny calibration scenario (comment kept)\n', name: 'calib', durationS: 60, accessBaseMs: 4, accessMsPerKm: 2, smallMiB: 128, largeMiB: 1024, mode: 'cold' });
    const file = join(tmp, 'calib.yaml');
    writeFileSync(file, scenarioText);
    const rng = createRng(9, 'cli-calibrate');
    const recs = Array.from({ length: 30 }, (_, id) => {
      const [c, m] = id % 2 === 0 ? ['small', 128] : ['large', 1024];
      const cp = (85 + 1.0 * (m as number)) * uniform(rng, 0.97, 1.03);
      const rs = (60 + 0.95 * (m as number)) * uniform(rng, 0.97, 1.03);
      const tr = 4 + (mibToMegabits(m as number) / 900) * 1000;
      // downtime = the phase sum, as in a run without client probes (a probed one is scaled, see calibrate.ts)
      return migration({ id, containerId: c as string, from: 'n1', to: 'n2', checkpointMs: cp, restoreMs: rs, transferMs: tr, downtimeMs: cp + tr + rs, bytes: (m as number) * 1048576 });
    });
    const dir = join(tmp, 'live-1');
    await writeRun(dir, syntheticRun({ label: 'live-1', samplesMs: [10, 20, 30], migrations: recs, mode: 'live', name: 'calib' }));
    const out = join(tmp, 'calib.calibrated.yaml');
    const r = await conmig('calibrate', dir, '--scenario', file, '--out', out);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('cold checkpoint: least squares');
    const text = readFileSync(out, 'utf8');
    expect(text).toContain('# A tiny calibration scenario (comment kept)');
    expect(text.startsWith('# Calibrated by conmig calibrate')).toBe(true);
    const doc = parse(text) as { migration: { mode: string; cost: Record<string, number> } };
    expect(doc.migration.mode).toBe('cold');
    expect(Math.abs(doc.migration.cost.checkpointBaseMs - 85) / 85).toBeLessThan(0.1);
    expect(Math.abs(doc.migration.cost.transferEfficiency - 0.9)).toBeLessThan(0.01);
  });

  it('a run of another scenario is refused (exit 2) naming the run', async () => {
    const dir = join(tmp, 'other');
    await writeRun(dir, syntheticRun({ label: 'other', samplesMs: [1, 2], mode: 'live', name: 'elsewhere' }));
    const r = await conmig('calibrate', dir, '--scenario', join(tmp, 'calib.yaml'));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${dir} is a run of scenario "elsewhere"`);
  });
});
