import { describe, expect, it } from 'vitest';
import { checkScenarioText } from '../../src/scenario-io/parse.ts';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { conmig } from '../helpers/cli.ts';
import { TINY_SCENARIO } from '../helpers/scenarios.ts';

const BASE = TINY_SCENARIO;

function problems(text: string, budget?: number): string[] {
  return checkScenarioText(text, 's.yaml', { memoryBudgetBytes: budget }).problems.map((p) => `${p.file}: ${p.path}: ${p.message}`);
}

describe('scenario ranges, relations and resource estimate', () => {
  it('accepts the tiny base scenario', () => expect(problems(BASE)).toEqual([]));

  it.each([
    ['metricsWindowS: 5', 'metricsWindowS: 1e308', 's.yaml:4: metricsWindowS: expected a value between 0.001 and 86400'],
    ['controlIntervalS: 1', 'controlIntervalS: 1e-9', 's.yaml:3: controlIntervalS: expected a value between 0.001 and 86400'],
    ['reportIntervalS: 5', 'reportIntervalS: 1e308', 's.yaml:5: reportIntervalS: expected a value between'],
    ['bandwidthMbps: 1000', 'bandwidthMbps: 1e-9', 'topology.links[0].bandwidthMbps: expected a value between 0.001'],
    ['latencyMs: 2', 'latencyMs: 1e15', 'topology.links[0].latencyMs: expected a value at most 100000'],
    ['ratePerS: 2', 'ratePerS: 1e6', 'users[0].requests.ratePerS: expected a value at most 1000'],
    ['cpuCores: 2, memoryMiB: 4096 }\n    - { id: b', 'cpuCores: 2147483648, memoryMiB: 4096 }\n    - { id: b', 'topology.nodes[0].cpuCores: expected a value at most 1024'],
    ['durationS: 20', 'durationS: 31536000', 'durationS: expected a value at most 2592000 (30 days)'],
    ['meanMs: 20 }', 'meanMs: 20, sdMs: 1e308 }', 'expected a value at most'],
  ])('refuses %s -> %s', (from, to, expected) => {
    const ps = problems(BASE.replace(from, to).replace('kind: exponential, meanMs: 20, sdMs', 'kind: lognormal, meanMs: 20, sdMs'));
    expect(ps.join('\n')).toContain(expected);
  });

  it('accepts a node smaller than any container (a full node, as the live contract test uses), down to the smallest container', () => {
    expect(problems(BASE.replace('cpuCores: 2, memoryMiB: 4096 }\n    - { id: b', 'cpuCores: 2, memoryMiB: 0.5 }\n    - { id: b'))).toEqual([]);
    expect(problems(BASE.replace('cpuCores: 2, memoryMiB: 4096 }\n    - { id: b', 'cpuCores: 2, memoryMiB: 0.0001 }\n    - { id: b')).join('\n')).toContain('topology.nodes[0].memoryMiB: expected a value');
  });

  it('checks relations: window >= control interval, report windows per run, lognormal tail', () => {
    expect(problems(BASE.replace('metricsWindowS: 5', 'metricsWindowS: 0.5')).join('\n')).toContain('metricsWindowS: expected metricsWindowS >= controlIntervalS (1), got 0.5');
    expect(problems(BASE.replace('durationS: 20', 'durationS: 2592000')).join('\n')).toContain('reportIntervalS: expected at most 100000 report windows per run');
    expect(problems(BASE.replace('kind: exponential, meanMs: 20', 'kind: lognormal, meanMs: 20, sdMs: 1000000')).join('\n')).toContain('longest sample');
  });

  it('refuses a run over the event limit or the memory budget, naming the field to change', () => {
    const busy = BASE.replace('ratePerS: 2', 'ratePerS: 1000').replace('durationS: 20', 'durationS: 1000000').replace('reportIntervalS: 5', 'reportIntervalS: 100');
    expect(problems(busy).join('\n')).toMatch(/users: expected a run of at most 2\.00e9 events, got an estimated 6\.0\de9 .*ratePerS/);
    expect(problems(BASE, 1000).join('\n')).toContain('reportIntervalS: expected a run that fits in memory');
  });

  it('--max-events raises the event limit for a run meant to be that long, in validate and run alike', async () => {
    const busy = BASE.replace('ratePerS: 2', 'ratePerS: 1000').replace('durationS: 20', 'durationS: 1000000').replace('reportIntervalS: 5', 'reportIntervalS: 100');
    expect(checkScenarioText(busy, 's.yaml', { maxEvents: 1e10 }).problems).toEqual([]);
    expect(checkScenarioText(busy, 's.yaml', { maxEvents: 1e9 }).problems.map((p) => p.message).join('\n')).toMatch(/at most 1\.00e9 events.*raise the limit \(--max-events\)/);
    const dir = await mkdtemp(path.join(tmpdir(), 'conmig-max-events-'));
    try {
      const file = path.join(dir, 'busy.yaml');
      await writeFile(file, busy);
      const refused = await conmig(['validate', file]);
      expect(refused.status).toBe(2);
      expect(refused.stderr).toMatch(/busy\.yaml:\d+: users: expected a run of at most 2\.00e9 events/);
      const allowed = await conmig(['validate', file, '--max-events', '1e10']);
      expect(allowed.stderr).toBe('');
      expect(allowed.stdout).toContain('ok: tiny');
      const bad = await conmig(['validate', file, '--max-events', 'lots']);
      expect(bad.status).toBe(2);
      expect(bad.stderr).toContain('--max-events: expected a positive whole number of events (e.g. 5e9), got "lots"');
      // run refuses the same file before it starts (and so writes nothing)
      const run = await conmig(['run', file, '--out', path.join(dir, 'out'), '--no-progress']);
      expect(run.status).toBe(2);
      expect(run.stderr).toContain('expected a run of at most 2.00e9 events');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('validate refuses a FIFO-like device as scenario with a clear error, no hang', async () => {
    const r = await conmig(['validate', '/dev/zero']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('/dev/zero:1: expected a regular file as scenario file, got a device');
    expect(r.stderr).not.toContain('internal error');
  });

  it('YAML: an alias to an undefined anchor and a billion-laughs bomb are clear file:line errors', () => {
    expect(problems('name: x\ndurationS: *nope\n')).toEqual(['s.yaml:2: (yaml): expected an alias to a defined anchor, got *nope (no &nope before it)']);
    const lines = ['name: x', 'a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let i = 1; i < 9; i++) lines.push(`${'abcdefghij'[i]}: &${'abcdefghij'[i]} [${Array(9).fill('*' + 'abcdefghij'[i - 1]).join(', ')}]`);
    const ps = problems(lines.join('\n') + '\n');
    expect(ps).toHaveLength(1);
    expect(ps[0]).toMatch(/^s\.yaml:3: \(yaml\): expected YAML within the alias and nesting limits/);
  });
});

describe('trace file limits', () => {
  it('refuses /dev/zero as a trace file with a clear error instead of reading forever', async () => {
    const { loadTraceFile } = await import('../../src/mobility/trace-io.ts');
    expect(() => loadTraceFile('/dev/zero', 'csv')).toThrow('/dev/zero:1: expected a regular file as trace file, got a device or socket');
  });
});

describe('YAML size and nesting limits', () => {
  it('refuses a 200k-key mapping by count, quickly, and deep nesting, on a line', () => {
    const keys = 'name: x\n' + Array.from({ length: 200_000 }, (_, i) => `k${i}: 1\n`).join('');
    expect(problems(keys)).toEqual(['s.yaml:1: (yaml): expected a mapping of at most 10000 keys, got 200001']);
    expect(problems('name: x\nd: ' + '['.repeat(500) + ']'.repeat(500) + '\n')).toEqual(['s.yaml:2: (yaml): expected at most 64 levels of nesting, got more']);
  });
});
