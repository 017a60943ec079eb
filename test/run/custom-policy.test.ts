import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConmigError } from '../../src/model/errors.ts';
import { loadPolicy } from '../../src/run/load-policy.ts';
import { runScenario } from '../../src/run/run-scenario.ts';
import { loadScenario } from '../../src/scenario-io/load.ts';

const scenarioFile = path.resolve('scenarios/custom-policy.yaml');

describe('custom policy modules', () => {
  it('a module named in the scenario runs, with its own name, merged parameters and reasons', async () => {
    const s = await loadScenario(scenarioFile, { policy: 'budget' });
    s.durationS = 60;
    const out = await mkdtemp(path.join(tmpdir(), 'conmig-custom-'));
    const { runs } = await runScenario(s, { outDir: out, noReport: true });
    expect(runs.map((r) => r.policy)).toEqual(['budget']);
    const summary = JSON.parse(await readFile(path.join(out, 'budget', 'summary.json'), 'utf8'));
    expect(summary.policy).toEqual({ name: 'budget', params: { budgetMs: 60, maxUtilisation: 0.5, minDwellMs: 15000 } });
    expect(runs[0].data.migrations.length).toBeGreaterThan(0);
    for (const m of runs[0].data.migrations) expect(m.reason).toMatch(/> budget 60 ms; edge\d is nearest with spare capacity$/);
  });

  it('a missing module is POLICY_NOT_FOUND naming the path', async () => {
    const s = await loadScenario(scenarioFile);
    const err = await loadPolicy({ name: 'x', module: './policies/nope.ts', params: {} }, s).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConmigError);
    expect((err as ConmigError).code).toBe('POLICY_NOT_FOUND');
    expect((err as ConmigError).message).toContain('nope.ts');
  });

  it('a module without a definePolicy default export is POLICY_INVALID', async () => {
    const s = await loadScenario(scenarioFile);
    const mod = path.resolve('test/fixtures/policies/not-a-policy.ts');
    const err = await loadPolicy({ name: 'x', module: mod, params: {} }, s).catch((e: unknown) => e);
    expect((err as ConmigError).code).toBe('POLICY_INVALID');
    expect((err as ConmigError).message).toMatch(/default export made with definePolicy/);
  });

  it('an unknown parameter of a custom policy is POLICY_INVALID naming the field', async () => {
    const s = await loadScenario(scenarioFile);
    const ref = { name: 'budget', module: './policies/latency-budget.ts', params: { budgetMS: 60 } };
    const err = await loadPolicy(ref, s).catch((e: unknown) => e);
    expect((err as ConmigError).code).toBe('POLICY_INVALID');
    expect((err as ConmigError).problems[0].path).toBe('policies.latency-budget.params.budgetMS');
  });
});
