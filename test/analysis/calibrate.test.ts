import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  accessObservation,
  calibrate,
  calibratedScenario,
  fitBasePerMiB,
  fitLognormal,
  fitServiceTime,
  subsampleSorted,
} from '../../src/analysis/calibrate.ts';
import { calibratedYaml } from '../../src/analysis/calibrated-yaml.ts';
import { DEFAULT_MIGRATION_COST, mibToMegabits } from '../../src/model/migration-cost.ts';
import { createRng, exponential, standardNormal, uniform, type Rng } from '../../src/model/random.ts';
import { LatencyModel } from '../../src/model/latency.ts';
import type { MigrationRecord, RequestRecord, RunData } from '../../src/model/results.ts';
import type { ContainerSpec, MigrationMode, Scenario } from '../../src/model/types.ts';
import { ConmigError } from '../../src/model/errors.ts';
import { migration, syntheticRun } from './synthetic.ts';

// Ground truth of the synthetic testbed.
const TRUE = { cpBase: 85, cpPerMiB: 1.0, rsBase: 60, rsPerMiB: 0.95, eta: 0.9 };
const MEMORY_MIB = [64, 128, 192, 256, 384, 512, 640, 768, 896, 1024];

function scenario(mode: MigrationMode = 'cold'): Scenario {
  const containers: ContainerSpec[] = MEMORY_MIB.map((m, i) => ({
    id: `c${i}`,
    node: 'n1',
    memoryMiB: m,
    imageMiB: 0,
    dirtyRateMiBps: 0,
    users: [],
    serviceTime: { kind: 'exponential', meanMs: 20 },
  }));
  return {
    name: 'synthetic',
    description: '',
    file: '',
    mode: 'sim',
    seed: 1,
    durationS: 600,
    warmupS: 0,
    controlIntervalS: 1,
    metricsWindowS: 10,
    reportIntervalS: 10,
    qosThresholdMs: 100,
    latency: { kind: 'geometric', accessBaseMs: 4, accessMsPerKm: 2 },
    topology: {
      areaM: { width: 1000, height: 1000 },
      nodes: ['n1', 'n2', 'n3'].map((id, i) => ({
        id,
        position: { xM: i * 400, yM: 0 },
        cpuCores: 4,
        memoryMiB: 16384,
        backgroundLoad: 0,
        speedFactor: 1,
      })),
      switches: [],
      accessPoints: [],
      links: [
        { a: 'n1', b: 'n2', latencyMs: 2, bandwidthMbps: 1000 },
        { a: 'n2', b: 'n3', latencyMs: 5, bandwidthMbps: 500 },
      ],
    },
    users: [],
    containers,
    migration: { mode, cost: { ...DEFAULT_MIGRATION_COST } },
    policies: [{ name: 'nearest', params: {} }],
    output: { requestTrace: false, perUserSeries: false },
  };
}

const ROUTES = [
  { from: 'n1', to: 'n2', latencyMs: 2, bandwidthMbps: 1000 },
  { from: 'n2', to: 'n3', latencyMs: 5, bandwidthMbps: 500 },
  { from: 'n1', to: 'n3', latencyMs: 7, bandwidthMbps: 500 },
];

/** ±5% multiplicative noise. */
function noisy(rng: Rng, x: number): number {
  return x * uniform(rng, 0.95, 1.05);
}

function coldRecords(rng: Rng, n: number): MigrationRecord[] {
  return Array.from({ length: n }, (_, id) => {
    const ci = Math.floor(rng() * MEMORY_MIB.length);
    const m = MEMORY_MIB[ci];
    const r = ROUTES[id % ROUTES.length];
    const checkpointMs = noisy(rng, TRUE.cpBase + TRUE.cpPerMiB * m);
    const restoreMs = noisy(rng, TRUE.rsBase + TRUE.rsPerMiB * m);
    const transferMs = 2 * r.latencyMs + noisy(rng, (mibToMegabits(m) / (TRUE.eta * r.bandwidthMbps)) * 1000);
    return migration({
      id,
      containerId: `c${ci}`,
      from: r.from,
      to: r.to,
      checkpointMs,
      restoreMs,
      transferMs,
      downtimeMs: checkpointMs + transferMs + restoreMs,
      totalMs: checkpointMs + transferMs + restoreMs,
      bytes: m * 1048576,
    });
  });
}

function liveRun(label: string, migrations: MigrationRecord[], seed = 1): RunData {
  const base = Array.from({ length: 500 }, (_, i) => 20 + (i % 50));
  return syntheticRun({ label, samplesMs: base, migrations, mode: 'live', seed });
}

describe('migration cost calibration', () => {
  it('recovers checkpoint, restore and efficiency constants within 10% from noisy records', async () => {
    const rng = createRng(42, 'calibrate-test');
    const runs = [liveRun('r1', coldRecords(rng, 120)), liveRun('r2', coldRecords(rng, 120))];
    const r = await calibrate(runs, scenario());
    const c = r.params.cold;
    expect(c).toBeDefined();
    const within = (got: number | undefined, want: number, tol = 0.1): void => {
      expect(got).toBeDefined();
      expect(Math.abs((got as number) - want) / want).toBeLessThan(tol);
    };
    within(c?.checkpointBaseMs, TRUE.cpBase);
    within(c?.checkpointMsPerMiB, TRUE.cpPerMiB);
    within(c?.restoreBaseMs, TRUE.rsBase);
    within(c?.restoreMsPerMiB, TRUE.rsPerMiB);
    within(c?.transferEfficiency, TRUE.eta, 0.03);
    const cp = r.fit.find((f) => f.group === 'cold checkpoint');
    expect(cp?.n).toBe(240);
    expect(cp?.r2).toBeGreaterThan(0.95);
    expect(cp?.method).toContain('least squares');
    expect(r.fit.find((f) => f.group === 'cold transfer efficiency')?.r2).toBeGreaterThan(0.95);
    expect(r.trainedOn).toEqual([0, 1]);
  });

  it('exact data gives the constants exactly (hand check: two sizes)', () => {
    // 100 + 2x at x = 10, 20, 30 -> 120, 140, 160
    const f = fitBasePerMiB('t', [10, 20, 30], [120, 140, 160], 99);
    expect(f.base).toBeCloseTo(100, 9);
    expect(f.perMiB).toBeCloseTo(2, 9);
    expect(f.record.r2).toBeCloseTo(1, 12);
    expect(f.record.rmse).toBeCloseTo(0, 9);
  });

  it('a single memory size fixes perMiB at the prior and fits the base, and says so', () => {
    // y = 300, 310, 290 at x = 100 with prior 1.5/MiB -> base = 300 - 150 = 150
    const f = fitBasePerMiB('cold checkpoint', [100, 100, 100], [300, 310, 290], 1.5);
    expect(f.perMiB).toBe(1.5);
    expect(f.base).toBeCloseTo(150, 9);
    expect(f.record.method).toBe('base only: perMiB fixed at the prior');
    expect(f.record.note).toContain('a single memoryMiB (100 MiB)');
    expect(f.record.rmse).toBeCloseTo(Math.sqrt(200 / 3), 9);
  });

  it('post-copy: one state size, so base-only fits; efficiency from lazy pages', async () => {
    const rng = createRng(3, 'postcopy');
    const s = scenario('postcopy');
    const stateMiB = s.migration.cost.postcopyStateMiB;
    const recs = Array.from({ length: 60 }, (_, id) => {
      const ci = id % MEMORY_MIB.length;
      const m = MEMORY_MIB[ci];
      const checkpointMs = noisy(rng, 85 + 1.0 * stateMiB);
      const restoreMs = noisy(rng, 60 + 0.95 * stateMiB);
      return migration({
        id,
        containerId: `c${ci}`,
        mode: 'postcopy',
        from: 'n1',
        to: 'n2',
        checkpointMs,
        restoreMs,
        transferMs: 5,
        // no client probe: the downtime is the stop's phases
        downtimeMs: checkpointMs + 5 + restoreMs,
        lazyPagesMs: 4 + noisy(rng, (mibToMegabits(m) / (0.8 * 1000)) * 1000),
      });
    });
    const r = await calibrate([liveRun('p', recs)], s);
    const p = r.params.postcopy;
    expect(p?.checkpointMsPerMiB).toBeUndefined();
    expect(Math.abs((p?.checkpointBaseMs ?? 0) - 85) / 85).toBeLessThan(0.05);
    expect(Math.abs((p?.lazyPagesEfficiency ?? 0) - 0.8) / 0.8).toBeLessThan(0.03);
    // the lazy fetch's efficiency is its own: the stop-phase transfer keeps the scenario's eta
    expect(p?.transferEfficiency).toBeUndefined();
    expect(r.fit.find((f) => f.group === 'postcopy checkpoint')?.note).toContain('only base + perMiB * memoryMiB is identifiable');
    // The calibrated scenario takes them over.
    const cal = calibratedScenario(s, r);
    expect(cal.migration.cost.checkpointBaseMs).toBe(p?.checkpointBaseMs);
    expect(cal.migration.cost.checkpointMsPerMiB).toBe(DEFAULT_MIGRATION_COST.checkpointMsPerMiB);
  });

  it('a migration of a container the scenario does not know is a RESULT_MISMATCH', async () => {
    const recs = [migration({ id: 1, containerId: 'ghost' })];
    await expect(calibrate([liveRun('x', recs)], scenario())).rejects.toMatchObject({ code: 'RESULT_MISMATCH' });
  });
});

describe('live records: probed downtime, real checkpoint sizes', () => {
  it('fits the transfer on the size the simulator sends, not the bytes a small real checkpoint weighed', async () => {
    // c1 has memoryMiB 128 in the scenario; the live checkpoint was 1 MiB and took 2*2 + 2000 ms over 1000 Mbit/s
    const recs = [0, 1, 2].map((id) => migration({ id, containerId: 'c1', checkpointMs: 300, transferMs: 2004, restoreMs: 200, downtimeMs: 2504, bytes: 1048576 }));
    const r = await calibrate([liveRun('r', recs)], scenario());
    const eta = r.params.cold?.transferEfficiency as number;
    const base = r.params.cold?.transferBaseMs as number;
    // one size: eta stays at the prior, the per-transfer start-up takes the rest
    expect(eta).toBeCloseTo(DEFAULT_MIGRATION_COST.transferEfficiency, 12);
    expect(base).toBeCloseTo(2000 - (mibToMegabits(128) / (0.9 * 1000)) * 1000, 6);
    // the model's transfer of 128 MiB then takes the measured 2000 ms (+ 2 l)
    expect(base + (mibToMegabits(128) / (eta * 1000)) * 1000).toBeCloseTo(2000, 6);
    expect(r.fit.find((f) => f.group === 'cold transfer efficiency')?.note).toContain('not the measured one (mean 1.00 MiB)');
  });

  it('separates the per-transfer start-up from the efficiency when the transfers have several sizes', async () => {
    // B = 300 ms of ssh/tar start-up, eta = 0.7, on 16/64/256 MiB over 1000 Mbit/s (2 l = 4 ms), +-5% noise on the bytes' time
    const rng = createRng(7, 'transfer-base');
    const sizes = [16, 64, 256];
    const recs = Array.from({ length: 30 }, (_, id) => {
      const ci = id % 3;
      const transferMs = 4 + 300 + noisy(rng, (mibToMegabits(sizes[ci]) / (0.7 * 1000)) * 1000);
      return migration({ id, containerId: `c${ci}`, checkpointMs: 100, transferMs, restoreMs: 100, downtimeMs: 200 + transferMs, bytes: sizes[ci] * 1048576 });
    });
    const s = scenario();
    s.containers.forEach((c, i) => (c.memoryMiB = sizes[i % 3]));
    const r = await calibrate([liveRun('r', recs)], s);
    expect(Math.abs((r.params.cold?.transferBaseMs as number) - 300) / 300).toBeLessThan(0.1);
    expect(Math.abs((r.params.cold?.transferEfficiency as number) - 0.7) / 0.7).toBeLessThan(0.05);
    expect(r.fit.find((f) => f.group === 'cold transfer efficiency')?.method).toMatch(/^least squares: .* = transferBaseMs \+/);
  });

  it('caps eta at 1 (a calibrated scenario must validate) and says why', async () => {
    // 128 MiB over 1000 Mbit/s needs >= 1074 ms; the records say 304 ms
    const recs = [0, 1, 2].map((id) => migration({ id, containerId: 'c1', checkpointMs: 300, transferMs: 304, restoreMs: 200, downtimeMs: 804, bytes: 1048576 }));
    const r = await calibrate([liveRun('r', recs)], scenario());
    expect(r.params.cold?.transferEfficiency).toBe(1);
    expect(r.fit.find((f) => f.group === 'cold transfer efficiency')?.note).toMatch(/eta capped at 1 \(fitted 3\.\d+\)/);
  });

  it('scales the phases by the client-seen downtime share, so the simulated downtime is the probed one', async () => {
    // phases sum to 2700 ms, clients saw 2025 ms (share 0.75): the model's downtime must be 2025 ms
    const recs = [0, 1, 2].map((id) =>
      migration({ id, containerId: 'c1', checkpointMs: 400, transferMs: 2004, restoreMs: 296, downtimeMs: 2025, bytes: 128 * 1048576 }),
    );
    const r = await calibrate([liveRun('r', recs)], scenario());
    const c = { ...DEFAULT_MIGRATION_COST, ...r.params.cold };
    const modelDowntime =
      c.checkpointBaseMs + c.checkpointMsPerMiB * 128 + c.restoreBaseMs + c.restoreMsPerMiB * 128 + 2 * 2 + (c.transferBaseMs ?? 0) +
      (mibToMegabits(128) / (c.transferEfficiency * 1000)) * 1000;
    // 0.75 of each phase (the scaled transfer, 1503 ms, minus its 2 l = 4 ms setup gives eta)
    expect(modelDowntime).toBeCloseTo(2025, 6);
    expect(r.fit.find((f) => f.group === 'cold downtime share of the phases')?.note).toContain('share mean 0.750');
  });

  it('models downtime no phase covers (share > 1) as a restore stall, keeping the mean downtime', async () => {
    // two records with phases of 2700 ms: clients saw 2025 ms (share 0.75) and 5400 ms (share 2:
    // a restored container that answered seconds after its restore returned). The second's
    // phases are like the others' (0.75 of them: 2025 ms), its excess 5400 - 2025 = 3375 ms is a
    // stall that half the migrations have: the model's mean downtime is
    // 2025 + 0.5 * 3375 = 3712.5 ms = (2025 + 5400) / 2 (capped at 1, the fit gave 2362.5).
    const recs = [
      migration({ id: 0, containerId: 'c1', checkpointMs: 400, transferMs: 2004, restoreMs: 296, downtimeMs: 2025, bytes: 128 * 1048576 }),
      migration({ id: 1, containerId: 'c1', checkpointMs: 400, transferMs: 2004, restoreMs: 296, downtimeMs: 5400, bytes: 128 * 1048576 }),
    ];
    const r = await calibrate([liveRun('r', recs)], scenario());
    const c = { ...DEFAULT_MIGRATION_COST, ...r.params.cold };
    const phasesMs =
      c.checkpointBaseMs + c.checkpointMsPerMiB * 128 + c.restoreBaseMs + c.restoreMsPerMiB * 128 + 2 * 2 + (c.transferBaseMs ?? 0) +
      (mibToMegabits(128) / (c.transferEfficiency * 1000)) * 1000;
    expect(phasesMs).toBeCloseTo(0.75 * 2700, 6);
    expect(c.restoreStallProbability).toBe(0.5);
    expect(c.restoreStallMs).toBeCloseTo(5400 - 0.75 * 2700, 6);
    expect(phasesMs + (c.restoreStallProbability ?? 0) * (c.restoreStallMs ?? 0)).toBeCloseTo((2025 + 5400) / 2, 6);
    const note = r.fit.find((f) => f.group === 'cold downtime share of the phases')?.note ?? '';
    expect(note).toContain('1 of 2 records saw more downtime than their phases span (up to 2.00x)');
  });

  it('fits no stall when every downtime is within its phases', async () => {
    const recs = [0, 1, 2].map((id) => migration({ id, containerId: 'c1', checkpointMs: 400, transferMs: 2004, restoreMs: 296, downtimeMs: 2025, bytes: 128 * 1048576 }));
    const r = await calibrate([liveRun('r', recs)], scenario());
    expect(r.params.cold?.restoreStallProbability).toBeUndefined();
    expect(r.params.cold?.restoreStallMs).toBeUndefined();
  });

  it('leaves the phases alone when the downtime is their sum (no client probes)', async () => {
    const recs = [0, 1, 2].map((id) => migration({ id, containerId: 'c1', checkpointMs: 400, transferMs: 2004, restoreMs: 296, downtimeMs: 2700, bytes: 128 * 1048576 }));
    const r = await calibrate([liveRun('r', recs)], scenario());
    expect(r.fit.some((f) => f.group === 'cold downtime share of the phases')).toBe(false);
    expect((r.params.cold?.checkpointBaseMs as number) + 1.44 * 128).toBeCloseTo(400, 6);
  });
});

describe('service time calibration', () => {
  it('lognormal fit recovers mean and sd within 5% on 5000 samples and is kept', () => {
    const rng = createRng(11, 'service');
    const meanMs = 30;
    const sdMs = 15;
    const sigma = Math.sqrt(Math.log(1 + (sdMs / meanMs) ** 2));
    const mu = Math.log(meanMs) - (sigma * sigma) / 2;
    const xs = Array.from({ length: 5000 }, () => Math.exp(mu + sigma * standardNormal(rng)));
    const ln = fitLognormal(xs);
    expect(Math.abs(ln.meanMs - meanMs) / meanMs).toBeLessThan(0.05);
    expect(Math.abs(ln.sdMs - sdMs) / sdMs).toBeLessThan(0.05);
    const f = fitServiceTime(xs);
    expect(f.spec.kind).toBe('lognormal');
    expect(f.record.method).toContain('kept');
  });

  it('a bimodal sample fails the KS check and is kept as an empirical sample of <= 2000', () => {
    const rng = createRng(12, 'bimodal');
    const xs = Array.from({ length: 6000 }, (_, i) => (i % 2 === 0 ? 5 : 50) + exponential(rng, 1));
    const f = fitServiceTime(xs);
    expect(f.spec.kind).toBe('empirical');
    if (f.spec.kind === 'empirical') {
      expect(f.spec.samplesMs.length).toBe(2000);
      // evenly spaced order statistics keep the two modes in equal parts
      expect(f.spec.samplesMs.filter((x) => x < 20).length).toBe(1000);
    }
    expect(f.record.method).toContain('lognormal rejected');
  });

  it('subsampling is deterministic order statistics', () => {
    expect(subsampleSorted([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 5)).toEqual([2, 4, 6, 8, 10]);
    expect(subsampleSorted([1, 2], 5)).toEqual([1, 2]);
  });

  it('without samples the mean service component rescales the scenario service time', async () => {
    const run = liveRun('r', []); // componentsMeanMs.service = mean - 15
    const r = await calibrate([run], scenario());
    expect(r.serviceTime).toEqual({ kind: 'exponential', meanMs: Number((run.summary.componentsMeanMs.service).toPrecision(6)) });
    expect(r.fit.find((f) => f.group === 'service time')?.method).toContain('mean only');
  });
});

describe('held-out check', () => {
  it('fits on the first runs, simulates the held-out seeds with the calibrated scenario, reports errors', async () => {
    const rng = createRng(5, 'holdout');
    const runs = [liveRun('a', coldRecords(rng, 80), 1), liveRun('b', coldRecords(rng, 80), 2), liveRun('c', coldRecords(rng, 80), 3)];
    const seen: Scenario[] = [];
    const simulate = async (s: Scenario): Promise<RunData> => {
      seen.push(s);
      const live = runs.find((r) => r.summary.seed === s.seed) as RunData;
      // A fake simulator: 10% slower responses, same migrations.
      const base = Array.from({ length: 500 }, (_, i) => (20 + (i % 50)) * 1.1);
      return syntheticRun({ label: 'sim', samplesMs: base, migrations: live.migrations, seed: s.seed });
    };
    const r = await calibrate(runs, scenario(), { holdout: 1, simulate, dirs: ['/a', '/b', '/c'] });
    expect(r.trainedOn).toEqual([0, 1]);
    expect(seen).toHaveLength(1);
    expect(seen[0].seed).toBe(3);
    expect(Math.abs(seen[0].migration.cost.checkpointBaseMs - TRUE.cpBase) / TRUE.cpBase).toBeLessThan(0.15);
    expect(r.heldOut).toHaveLength(1);
    const h = r.heldOut?.[0];
    expect(h?.dir).toBe('/c');
    expect(h?.p50Rel).toBeGreaterThan(0.08);
    expect(h?.p50Rel).toBeLessThan(0.12);
    expect(h?.downtimePairedMeanAbsRel).toBe(0);
    expect(h?.pairedMigrations).toBe(80);
  });

  it('refuses a holdout without a simulator or one that leaves nothing to fit', async () => {
    const runs = [liveRun('a', coldRecords(createRng(1, 'x'), 10))];
    await expect(calibrate(runs, scenario(), { holdout: 1, simulate: async () => runs[0] })).rejects.toThrow(ConmigError);
    await expect(calibrate([...runs, ...runs], scenario(), { holdout: 1 })).rejects.toThrow(/simulator/);
  });
});

describe('calibrated YAML', () => {
  const original = `# Corridor experiment (original comment)
name: synthetic
durationS: 600
migration:
  mode: cold # the default
  cost:
    imageCached: true
    checkpointBaseMs: 40
containers:
  - id: c0
    node: n1
    users: [u1]
    memoryMiB: 64
    serviceTime: { kind: exponential, meanMs: 20 }
`;

  it('replaces the fitted constants, keeps the rest and the comments, and documents the fit on top', async () => {
    const rng = createRng(42, 'yaml');
    const r = await calibrate([liveRun('r1', coldRecords(rng, 100))], scenario());
    const text = calibratedYaml(original, scenario(), r, ['/results/live-1']);
    expect(text.startsWith('# Calibrated by conmig calibrate from 1 live run(s)')).toBe(true);
    expect(text).toContain('# Corridor experiment (original comment)');
    expect(text).toContain('# the default');
    expect(text).toMatch(/cold checkpoint: least squares .*n=100, R\^2=0\.9\d+/);
    const doc = parse(text) as { migration: { cost: Record<string, number | boolean> }; containers: Array<{ serviceTime: unknown }>; name: string };
    expect(doc.name).toBe('synthetic');
    expect(doc.migration.cost.imageCached).toBe(true);
    expect(Math.abs((doc.migration.cost.checkpointBaseMs as number) - 85) / 85).toBeLessThan(0.1);
    expect(Math.abs((doc.migration.cost.restoreMsPerMiB as number) - 0.95) / 0.95).toBeLessThan(0.1);
    expect(doc.migration.cost.precopyStopMiB).toBeUndefined(); // not fitted: left to the file's defaults
    expect(doc.containers[0].serviceTime).toEqual(r.serviceTime);
    // Key order kept: mode before cost, imageCached first inside cost.
    expect(text.indexOf('mode: cold')).toBeLessThan(text.indexOf('cost:'));
    expect(text.indexOf('imageCached')).toBeLessThan(text.indexOf('checkpointBaseMs'));
  });
});

describe('access latency calibration', () => {
  it('recovers accessBaseMs and accessMsPerKm from static users at different distances', async () => {
    const s = scenario();
    s.topology.accessPoints = [
      { id: 'ap1', position: { xM: 0, yM: 0 }, attachedTo: 'n1' },
      { id: 'ap2', position: { xM: 800, yM: 0 }, attachedTo: 'n3' },
    ];
    const req = { ratePerS: 1, requestKiB: 40, responseKiB: 10, timeoutMs: 1000 };
    s.users = [100, 250, 300, 450, 600].map((y, i) => ({
      id: `u${i}`,
      start: { xM: i % 2 === 0 ? 50 : 760, yM: y },
      mobility: { kind: 'static' as const },
      requests: req,
    }));
    s.users.push({ id: 'walker', start: { xM: 0, yM: 0 }, mobility: { kind: 'straight-path', from: { xM: 0, yM: 0 }, to: { xM: 1, yM: 1 }, speedMps: 1, atEnd: 'stop' }, requests: req });
    // Truth: 6 ms + 3 ms/km; the scenario's prior says 4 + 2.
    const truth = new LatencyModel({ kind: 'geometric', accessBaseMs: 6, accessMsPerKm: 3 }, s.topology);
    const rng = createRng(8, 'access');
    const records: RequestRecord[] = [];
    for (const u of s.users) {
      const ap = u.start.xM < 400 ? 0 : 1;
      for (const node of ['n1', 'n2', 'n3']) {
        for (let k = 0; k < 20; k++) {
          const networkMs = truth.networkRttMsAt(u.start, ap, truth.nodeIndex(node), 50) + uniform(rng, -0.2, 0.2);
          records.push({ userId: u.id, containerId: 'c0', nodeId: node, sentS: k, status: 'served', responseMs: networkMs + 10, networkMs, queueMs: 0, serviceMs: 10, migrationWaitMs: 0 });
        }
      }
    }
    const toObs = accessObservation(s);
    const obs = records.map(toObs).filter((o): o is NonNullable<typeof o> => o !== null);
    expect(obs).toHaveLength(5 * 3 * 20); // the walker's requests are left out
    const r = await calibrate([liveRun('a', [])], s, { accessObservations: obs });
    expect(Math.abs((r.accessLatency?.accessBaseMs ?? 0) - 6) / 6).toBeLessThan(0.02);
    expect(Math.abs((r.accessLatency?.accessMsPerKm ?? 0) - 3) / 3).toBeLessThan(0.05);
    expect(r.fit.find((f) => f.group === 'access latency')?.method).toBe('least squares y = base + perKm * distanceKm');
    expect(calibratedScenario(s, r).latency).toMatchObject({ kind: 'geometric', accessBaseMs: r.accessLatency?.accessBaseMs });
  });
});
