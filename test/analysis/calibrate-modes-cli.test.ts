/**
 * `conmig calibrate` end to end on a live-like folder with streamed cold and post-copy
 * migrations and a request trace: the transport column and the lazy-pages requests reach
 * the fit, and the calibrated YAML carries coldTransport, lazyPagesEfficiency and the fault penalty.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createRequestTraceWriter, writeRun } from '../../src/results/write.ts';
import { createRng, uniform } from '../../src/model/random.ts';
import type { MigrationRecord } from '../../src/model/results.ts';
import { conmig as runCli } from '../helpers/cli.ts';
import { calibrationScenario } from '../helpers/scenarios.ts';
import { migration, syntheticRun } from './synthetic.ts';

const tmp = mkdtempSync(join(tmpdir(), 'conmig-calibrate-modes-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const wireMs = (mib: number, mbps: number, eta: number): number => ((mib * 8.388608) / (eta * mbps)) * 1000;

describe('conmig calibrate: streamed cold and post-copy records with a request trace', () => {
  it('writes coldTransport: stream, lazyPagesEfficiency and postcopyFaultPenaltyMs fitted from the folder', async () => {
    const file = join(tmp, 'modes.yaml');
    writeFileSync(file, calibrationScenario({ name: 'modes', durationS: 600, smallMiB: 64, largeMiB: 512, mode: 'postcopy' }));
    const rng = createRng(4, 'modes-cli');
    const n = (x: number): number => x * uniform(rng, 0.97, 1.03);
    const mem = (c: string): number => (c === 'small' ? 64 : 512);
    const recs: MigrationRecord[] = [];
    for (let id = 0; id < 20; id++) {
      const c = id % 2 === 0 ? 'small' : 'large';
      if (id < 10) {
        // streamed cold: dump 100 + 1/MiB, stream from max(200 + 4, 100) at eta 0.8, restore 70 + 0.9/MiB
        const cp = n(100 + mem(c));
        const tr = Math.max(cp, 204 + n(wireMs(mem(c), 1000, 0.8)));
        const rs = n(70 + 0.9 * mem(c));
        recs.push(migration({ id, containerId: c, transport: 'stream', checkpointMs: cp, transferMs: tr, restoreMs: rs, downtimeMs: tr + rs, totalMs: tr + rs, bytes: mem(c) * 1048576, startS: id * 20 }));
      } else {
        // post-copy: state 4 MiB, lazy pages at eta 0.4
        const cp = n(100 + 4);
        const tr = 204 + n(wireMs(4, 1000, 0.8));
        const rs = n(70 + 0.9 * 4);
        const lazy = 204 + n(wireMs(mem(c), 1000, 0.4));
        recs.push(migration({ id, containerId: c, mode: 'postcopy', checkpointMs: cp, transferMs: tr, restoreMs: rs, lazyPagesMs: lazy, downtimeMs: cp + tr + rs, totalMs: cp + tr + rs + lazy, bytes: (4 + mem(c)) * 1048576, startS: id * 20 }));
      }
    }
    const dir = join(tmp, 'live-1');
    await writeRun(dir, syntheticRun({ label: 'live-1', samplesMs: [10, 20, 30], migrations: recs, mode: 'live', name: 'modes' }));
    const trace = createRequestTraceWriter(dir);
    for (const m of recs.filter((x) => x.mode === 'postcopy')) {
      const lazyFromS = m.startS + (m.totalMs - m.lazyPagesMs) / 1000;
      const endS = m.startS + m.totalMs / 1000;
      for (let t = m.startS - 5; t < endS + 3; t += 0.02) {
        if (t >= m.startS && t < lazyFromS) continue;
        const serviceMs = n(10) + (t >= lazyFromS && t < endS ? 6 : 0);
        trace.write({ userId: 'u-0', containerId: m.containerId, nodeId: t >= m.startS ? 'n2' : 'n1', sentS: t, status: 'served', responseMs: serviceMs + 2, networkMs: 2, queueMs: 0, serviceMs, migrationWaitMs: 0 });
      }
    }
    await trace.close();
    expect(readFileSync(join(dir, 'migrations.csv'), 'utf8').split('\n')[0]).toMatch(/,transport$/);
    const out = join(tmp, 'modes.calibrated.yaml');
    const r = await runCli(['calibrate', dir, '--scenario', file, '--out', out], { cwd: tmp });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('cold stream overlap');
    expect(r.stdout).toContain('postcopy fault penalty');
    const doc = parse(readFileSync(out, 'utf8')) as { migration: { cost: Record<string, number | string> } };
    const cost = doc.migration.cost;
    expect(cost.coldTransport).toBe('stream');
    expect(Math.abs((cost.transferEfficiency as number) - 0.8) / 0.8).toBeLessThan(0.05);
    expect(Math.abs((cost.lazyPagesEfficiency as number) - 0.4) / 0.4).toBeLessThan(0.05);
    expect(Math.abs((cost.postcopyFaultPenaltyMs as number) - 6) / 6).toBeLessThan(0.05);
    expect(Math.abs((cost.postcopyStateMiB as number) - 4) / 4).toBeLessThan(0.25);
    // the calibrated file is a valid scenario
    const v = await runCli(['validate', out], { cwd: tmp });
    expect(v.stderr).toBe('');
    expect(v.status).toBe(0);
  });
});

describe('conmig calibrate reads a live run\'s wall-clock phases', () => {
  it('records without a transport column whose phases overlap are fitted as streamed; a broken live-migrations.json is named', async () => {
    const file = join(tmp, 'phases.yaml');
    writeFileSync(file, `name: phases
durationS: 600
topology:
  areaM: { width: 1000, height: 1000 }
  nodes:
    - { id: n1, x: 100, y: 500, cpuCores: 4, memoryMiB: 16384 }
    - { id: n2, x: 900, y: 500, cpuCores: 4, memoryMiB: 16384 }
  links:
    - { a: n1, b: n2, latencyMs: 2, bandwidthMbps: 1000 }
users:
  - id: u
    count: 1
    requests: { ratePerS: 1 }
containers:
  - { id: big, node: n1, users: [u], memoryMiB: 512, serviceTime: { kind: exponential, meanMs: 10 } }
policies: [never]
`);
    const rng = createRng(5, 'phases-cli');
    const recs: MigrationRecord[] = [];
    const details: unknown[] = [];
    for (let id = 1; id <= 6; id++) {
      const cp = 600 * uniform(rng, 0.97, 1.03);
      const end = 104 + wireMs(512, 1000, 0.8) * uniform(rng, 0.97, 1.03); // from the freeze
      const rs = 500;
      // the live side timed its transfer phase from the page server's first page (20 ms after the freeze)
      recs.push(migration({ id, containerId: 'big', checkpointMs: cp, transferMs: end - 20, restoreMs: rs, downtimeMs: end + rs, totalMs: 300 + end + rs, bytes: 512 * 1048576 }));
      details.push({ id, containerId: 'big', from: 'n1', to: 'n2', status: 'ok', startS: id * 10, endS: id * 10 + 8, result: { phases: [
        { phase: 'preflight', wallMs: 300, startWallMs: 0 },
        { phase: 'checkpoint', wallMs: cp, startWallMs: 300 },
        { phase: 'transfer', wallMs: end - 20, startWallMs: 320 },
        { phase: 'restore', wallMs: rs, startWallMs: 300 + end },
      ] } });
    }
    const dir = join(tmp, 'live-phases');
    await writeRun(dir, syntheticRun({ label: 'live-phases', samplesMs: [10, 20, 30], migrations: recs, mode: 'live', name: 'phases' }));
    expect(readFileSync(join(dir, 'migrations.csv'), 'utf8')).not.toContain('transport');
    writeFileSync(join(dir, 'live-migrations.json'), JSON.stringify(details));
    const out = join(tmp, 'phases.calibrated.yaml');
    const r = await runCli(['calibrate', dir, '--scenario', file, '--out', out], { cwd: tmp });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const cost = (parse(readFileSync(out, 'utf8')) as { migration: { cost: Record<string, number | string> } }).migration.cost;
    expect(cost.coldTransport).toBe('stream');
    // one size: eta stays at the prior (0.9) and the start-up takes the rest of the span from the freeze:
    // mean(end) - 2 l - megabits(512) / (0.9 * 1000), not 20 ms less
    const want = (details as Array<{ result: { phases: Array<{ phase: string; wallMs: number }> } }>)
      .reduce((a, d) => a + (d.result.phases[2].wallMs + 20), 0) / 6 - 4 - wireMs(512, 1000, 0.9);
    // (within 0.1 ms: migrations.csv rounds downtimeMs to 6 digits, a share of the phases just under 1)
    expect(Math.abs((cost.transferBaseMs as number) - want)).toBeLessThan(0.1);

    writeFileSync(join(dir, 'live-migrations.json'), JSON.stringify([{ id: 'one', result: { phases: [] } }]));
    const bad = await runCli(['calibrate', dir, '--scenario', file, '--out', out], { cwd: tmp });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain(`${join(dir, 'live-migrations.json')}: 0.id:`);
  });
});
