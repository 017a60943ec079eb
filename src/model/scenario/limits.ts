/**
 * The ranges the model can honour, and a resource estimate before a run.
 *
 * The zod schema (schema.ts) checks types and signs; this module checks that
 * every value is within bounds the integer-µs engine can carry out (every
 * derived delay a finite safe integer of µs, at most MAX_DELAY_US), that
 * related values fit together (metrics window >= control interval, report
 * windows per run bounded), and that the run fits the machine: the events it
 * is expected to fire and the memory its per-window series and metrics need.
 *
 * Three passes, each returning problems located by field path:
 *   checkFieldBounds(raw)   per-field bounds and counts, before resolution
 *                           (so a million users are refused before they exist);
 *   checkRelations(s, raw)  relations between resolved values;
 *   estimateResources(s)    events and memory, refused over the limits.
 * Pure: the memory budget is passed in (scenario-io/load.ts measures the machine).
 */
import { LatencyHistogram } from '../histogram.ts';
import type { Scenario } from '../types.ts';
import type { PathSegment, ScenarioProblem } from './problems.ts';
import type { ScenarioFile } from './schema.ts';

const DAY_S = 86_400;
const TIB_IN_MIB = 1_048_576;

/** The bounds, in the fields' own units (README, "Scenarios", states them). */
export const LIMITS = Object.freeze({
  durationS: 30 * DAY_S,
  intervalMinS: 0.001,
  intervalMaxS: DAY_S,
  /** Report windows per run (durationS / reportIntervalS). */
  reportWindows: 100_000,
  /** Metrics window slots (metricsWindowS / controlIntervalS). */
  metricsSlots: 100_000,
  coordinateM: 1e7,
  nodes: 10_000,
  links: 100_000,
  // 1M users run in npm run bench (issue 12: about 8 GiB); beyond that the estimate would mislead.
  users: 1_000_000,
  cpuCores: 1024,
  speedFactor: [0.001, 1000] as const,
  nodeMemoryMiB: 1e9,
  linkLatencyMs: 100_000,
  bandwidthMbps: [0.001, 1e8] as const,
  ratePerS: 1000,
  payloadKiB: TIB_IN_MIB,
  timeoutMs: 1e9,
  speedMps: [0.01, 1000] as const,
  blockM: [1, 1e6] as const,
  containerMiB: [1 / 1024, TIB_IN_MIB] as const,
  dirtyRateMiBps: 1e6,
  serviceMs: 1e6,
  /** Largest service time a distribution may produce (lognormal tail). */
  serviceSampleMaxMs: 1e9,
  costBaseMs: 1e6,
  costMsPerMiB: 1e4,
  precopyMaxRounds: 1000,
  transferEfficiencyMin: 0.01,
  idLength: 100,
  nameLength: 200,
  /** Largest derived delay (a migration, a leg): a safe integer of µs with room to add. */
  maxDelayUs: 1e15,
  /** Events a run may be expected to fire (about half an hour on a loaded 2-core machine). */
  events: 2e9,
});

/** Default memory budget for per-window series and metrics when the caller gives none. */
export const DEFAULT_MEMORY_BUDGET_BYTES = 4 * 2 ** 30;

type Rule = { path: string; min?: number; max: number; what?: string };

const S = LIMITS;
const RULES: readonly Rule[] = [
  { path: 'durationS', max: S.durationS, what: '30 days' },
  { path: 'warmupS', max: S.durationS },
  ...['controlIntervalS', 'metricsWindowS', 'reportIntervalS'].map((p) => ({ path: p, min: S.intervalMinS, max: S.intervalMaxS })),
  { path: 'seed', max: Number.MAX_SAFE_INTEGER },
  { path: 'qosThresholdMs', max: 1e7 },
  { path: 'latency.accessBaseMs', max: S.linkLatencyMs },
  { path: 'latency.accessMsPerKm', max: 10_000 },
  { path: 'latency.edgeConstantsMs.*', max: 1e6 },
  { path: 'latency.msPerM', min: 1e-6, max: 10_000 },
  { path: 'topology.areaM.width', min: 0.001, max: S.coordinateM },
  { path: 'topology.areaM.height', min: 0.001, max: S.coordinateM },
  ...['x', 'y'].flatMap((k) => [`topology.nodes.*.${k}`, `topology.accessPoints.*.${k}`, `users.*.start.${k}`, `users.*.mobility.from.${k}`, `users.*.mobility.to.${k}`]).map((p) => ({ path: p, max: S.coordinateM })),
  { path: 'topology.nodes.*.cpuCores', max: S.cpuCores },
  { path: 'topology.grid.node.cpuCores', max: S.cpuCores },
  { path: 'topology.nodes.*.memoryMiB', min: S.containerMiB[0], max: S.nodeMemoryMiB },
  { path: 'topology.grid.node.memoryMiB', min: S.containerMiB[0], max: S.nodeMemoryMiB },
  { path: 'topology.nodes.*.speedFactor', min: S.speedFactor[0], max: S.speedFactor[1] },
  { path: 'topology.grid.node.speedFactor', min: S.speedFactor[0], max: S.speedFactor[1] },
  // the kernel's own bounds of cpu.cfs_period_us: 1 ms to 1 s
  { path: 'topology.nodes.*.cpuPeriodMs', min: 1, max: 1000 },
  { path: 'topology.grid.node.cpuPeriodMs', min: 1, max: 1000 },
  { path: 'topology.links.*.latencyMs', max: S.linkLatencyMs },
  { path: 'topology.grid.link.latencyMs', max: S.linkLatencyMs },
  { path: 'topology.links.*.bandwidthMbps', min: S.bandwidthMbps[0], max: S.bandwidthMbps[1] },
  { path: 'topology.grid.link.bandwidthMbps', min: S.bandwidthMbps[0], max: S.bandwidthMbps[1] },
  { path: 'topology.grid.rows', max: 1000 },
  { path: 'topology.grid.cols', max: 1000 },
  { path: 'topology.grid.spacingM', min: 0.001, max: 1e6 },
  { path: 'users.*.count', max: S.users },
  { path: 'users.*.requests.ratePerS', max: S.ratePerS },
  { path: 'users.*.requests.requestKiB', max: S.payloadKiB },
  { path: 'users.*.requests.responseKiB', max: S.payloadKiB },
  { path: 'users.*.requests.timeoutMs', min: 0.001, max: S.timeoutMs },
  { path: 'users.*.mobility.speedMps', min: S.speedMps[0], max: S.speedMps[1] },
  { path: 'users.*.mobility.speedMps.*', min: S.speedMps[0], max: S.speedMps[1] },
  { path: 'users.*.mobility.pauseS.*', max: S.durationS },
  { path: 'users.*.mobility.blockM', min: S.blockM[0], max: S.blockM[1] },
  { path: 'containers.*.memoryMiB', min: S.containerMiB[0], max: S.containerMiB[1] },
  { path: 'containers.*.imageMiB', max: S.containerMiB[1] },
  { path: 'containers.*.dirtyRateMiBps', max: S.dirtyRateMiBps },
  { path: 'containers.*.serviceTime.meanMs', min: 0.001, max: S.serviceMs },
  { path: 'containers.*.serviceTime.valueMs', max: S.serviceMs },
  { path: 'containers.*.serviceTime.sdMs', max: S.serviceMs },
  { path: 'containers.*.serviceTime.samplesMs.*', max: S.serviceMs },
  { path: 'migration.cost.checkpointBaseMs', max: S.costBaseMs },
  { path: 'migration.cost.restoreBaseMs', max: S.costBaseMs },
  { path: 'migration.cost.checkpointMsPerMiB', max: S.costMsPerMiB },
  { path: 'migration.cost.restoreMsPerMiB', max: S.costMsPerMiB },
  { path: 'migration.cost.transferEfficiency', min: S.transferEfficiencyMin, max: 1 },
  { path: 'migration.cost.lazyPagesEfficiency', min: S.transferEfficiencyMin, max: 1 },
  { path: 'migration.cost.precopyStopMiB', max: S.containerMiB[1] },
  { path: 'migration.cost.precopyMaxRounds', max: S.precopyMaxRounds },
  { path: 'migration.cost.postcopyStateMiB', max: S.containerMiB[1] },
  { path: 'migration.cost.postcopyFaultPenaltyMs', max: S.costBaseMs },
  { path: 'migration.cost.restoreStallMs', max: S.costBaseMs },
  { path: 'live.timeScale', min: 0.001, max: 1000 },
];

/** Values at a dotted path with `*` for every element/key; yields [path, value]. */
function* at(root: unknown, segs: readonly string[], prefix: PathSegment[] = []): Generator<[PathSegment[], unknown]> {
  if (segs.length === 0) {
    yield [prefix, root];
    return;
  }
  if (root === null || typeof root !== 'object') return;
  const [head, ...rest] = segs;
  if (head === '*') {
    if (Array.isArray(root)) for (let i = 0; i < root.length; i++) yield* at(root[i], rest, [...prefix, i]);
    else for (const [k, v] of Object.entries(root)) yield* at(v, rest, [...prefix, k]);
    return;
  }
  if (Array.isArray(root)) return;
  const v = (root as Record<string, unknown>)[head];
  if (v !== undefined) yield* at(v, rest, [...prefix, head]);
}

function fmt(x: number): string {
  if (Number.isInteger(x) && Math.abs(x) < 1e7) return String(x);
  return Math.abs(x) >= 1e6 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(2).replace('e+', 'e') : String(Number(x.toPrecision(6)));
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Per-field bounds and counts of a file the schema accepted. */
export function checkFieldBounds(raw: ScenarioFile): ScenarioProblem[] {
  const out: ScenarioProblem[] = [];
  for (const rule of RULES) {
    for (const [path, v] of at(raw, rule.path.split('.'))) {
      if (typeof v !== 'number') continue;
      const lo = rule.min ?? -Infinity;
      if (!(v >= lo && v <= rule.max)) {
        const range = rule.min === undefined ? `at most ${fmt(rule.max)}${rule.what ? ` (${rule.what})` : ''}` : `between ${fmt(rule.min)} and ${fmt(rule.max)}`;
        out.push({ path, message: `expected a value ${range}, got ${fmt(v)}` });
      }
    }
  }
  if (raw.name.length > S.nameLength || CONTROL.test(raw.name))
    out.push({ path: ['name'], message: `expected a name of at most ${S.nameLength} printable characters, got ${raw.name.length} characters${CONTROL.test(raw.name) ? ' with control characters' : ''}` });
  for (const [path, v] of [...at(raw, ['users', '*', 'id']), ...at(raw, ['containers', '*', 'id']), ...at(raw, ['topology', 'nodes', '*', 'id'])]) {
    if (typeof v === 'string' && v.length > S.idLength) out.push({ path, message: `expected an id of at most ${S.idLength} characters, got ${v.length}` });
  }
  const g = raw.topology.grid;
  if (g && g.rows * g.cols > S.nodes) out.push({ path: ['topology', 'grid', 'rows'], message: `expected at most ${S.nodes} nodes (rows x cols), got ${g.rows} x ${g.cols} = ${g.rows * g.cols}` });
  if ((raw.topology.nodes?.length ?? 0) > S.nodes) out.push({ path: ['topology', 'nodes'], message: `expected at most ${S.nodes} nodes, got ${raw.topology.nodes?.length}` });
  if ((raw.topology.links?.length ?? 0) > S.links) out.push({ path: ['topology', 'links'], message: `expected at most ${S.links} links, got ${raw.topology.links?.length}` });
  const users = raw.users.reduce((a, u) => a + (u.count ?? 1), 0);
  if (users > S.users) out.push({ path: ['users'], message: `expected at most ${S.users} users in all (the sum of count), got ${users}` });
  return out;
}

/** Largest value `Math.exp(mu + sigma * z)` can take: |z| of the sampler's normal deviates stays below this. */
const NORMAL_Z_MAX = 8.6;

/** Relations between resolved values and derived delays. `raw` gives the paths of container entries. */
export function checkRelations(s: Scenario, raw: ScenarioFile): ScenarioProblem[] {
  const out: ScenarioProblem[] = [];
  if (s.metricsWindowS < s.controlIntervalS)
    out.push({ path: ['metricsWindowS'], message: `expected metricsWindowS >= controlIntervalS (${s.controlIntervalS}), got ${s.metricsWindowS}` });
  const windows = Math.ceil(s.durationS / s.reportIntervalS);
  if (windows > S.reportWindows)
    out.push({ path: ['reportIntervalS'], message: `expected at most ${S.reportWindows} report windows per run (durationS / reportIntervalS), got ${windows}: raise reportIntervalS to at least ${fmt(s.durationS / S.reportWindows)}` });
  const slots = Math.ceil(s.metricsWindowS / s.controlIntervalS);
  if (slots > S.metricsSlots)
    out.push({ path: ['metricsWindowS'], message: `expected at most ${S.metricsSlots} control intervals per metrics window (metricsWindowS / controlIntervalS), got ${slots}` });

  const minBw = Math.min(...s.topology.links.map((l) => l.bandwidthMbps), Infinity);
  const maxPathMs = s.topology.links.reduce((a, l) => a + l.latencyMs, 0);
  const c = s.migration.cost;
  raw.containers.forEach((entry, i) => {
    const path: PathSegment[] = ['containers', i];
    const st = entry.serviceTime;
    if (st.kind === 'lognormal') {
      const s2 = Math.log1p((st.sdMs / st.meanMs) ** 2);
      const maxMs = st.meanMs * Math.exp(-s2 / 2 + NORMAL_Z_MAX * Math.sqrt(s2));
      if (!(maxMs <= S.serviceSampleMaxMs))
        out.push({ path: [...path, 'serviceTime', 'sdMs'], message: `expected a lognormal whose longest sample (mean x exp(-s2/2 + ${NORMAL_Z_MAX}s)) stays below ${fmt(S.serviceSampleMaxMs)} ms, got sdMs ${fmt(st.sdMs)} with meanMs ${fmt(st.meanMs)} (up to ${fmt(maxMs)} ms)` });
    }
    if (Number.isFinite(minBw)) {
      const mib = entry.memoryMiB + (entry.imageMiB ?? 0) + c.postcopyStateMiB;
      const eta = Math.min(c.transferEfficiency, c.lazyPagesEfficiency ?? c.transferEfficiency); // post-copy's lazy fetch may be the slower one
      const transferMs = 2 * maxPathMs + ((mib * 8 * 1.048576) / (eta * minBw)) * 1000;
      const worstMs = c.checkpointBaseMs + c.restoreBaseMs + (c.checkpointMsPerMiB + c.restoreMsPerMiB) * entry.memoryMiB + (c.precopyMaxRounds + 2) * transferMs;
      if (!(worstMs * 1000 <= S.maxDelayUs))
        out.push({ path: [...path, 'memoryMiB'], message: `expected a migration that can end: at most ${fmt(S.maxDelayUs / 1e6)} s over the slowest link (${fmt(minBw)} Mbit/s), got up to ${fmt(worstMs / 1000)} s for ${fmt(mib)} MiB; lower memoryMiB/imageMiB or raise the link bandwidthMbps` });
    }
  });
  return out;
}

export interface ResourceEstimate {
  events: number;
  memoryBytes: number;
  /** Events by source, for the message. */
  parts: { requests: number; background: number; control: number; mobility: number; sampling: number };
}

/** Expected events and memory of one run of `s` (one policy, one seed). */
export function estimateResources(s: Scenario): ResourceEstimate {
  const D = s.durationS;
  const N = s.topology.nodes.length;
  const C = s.containers.length;
  const U = s.users.length;
  const A = s.topology.accessPoints.length;
  const V = N + s.topology.switches.length;
  const requests = 2 * D * s.users.reduce((a, u) => a + u.requests.ratePerS, 0);
  const background = 2 * D * s.topology.nodes.reduce((a, n) => a + (n.backgroundLoad * n.cpuCores * n.speedFactor) / 0.1, 0);
  const controlSteps = D / s.controlIntervalS;
  const control = controlSteps * (C + N + 1);
  const area = s.topology.areaM;
  const apSpacingM = Math.sqrt((area.width * area.height) / Math.max(1, A));
  let mobility = 0;
  for (const u of s.users) {
    const m = u.mobility;
    let distanceM = 0;
    let legs = 0;
    if (m.kind === 'manhattan') {
      distanceM = D * m.speedMps[1];
      legs = 2 * (distanceM / m.blockM);
    } else if (m.kind === 'random-waypoint') {
      distanceM = D * m.speedMps[1];
      legs = 2 * (distanceM / Math.max(1, Math.max(area.width, area.height) / 3));
    } else if (m.kind === 'straight-path') {
      distanceM = D * m.speedMps;
      const len = Math.hypot(m.to.xM - m.from.xM, m.to.yM - m.from.yM);
      legs = m.atEnd === 'bounce' && len > 0 ? distanceM / len : 1;
    }
    mobility += 2 * (legs + distanceM / Math.max(apSpacingM, 1e-3));
  }
  const windows = Math.ceil(D / s.reportIntervalS);
  const sampling = windows * (1 + N + (s.output.perUserSeries ? U : 0));
  const slots = Math.ceil(s.metricsWindowS / s.controlIntervalS);
  const memoryBytes =
    windows * (LatencyHistogram.bucketCount * 8 + 400) + // a histogram and the timeseries row per window
    windows * N * 300 + // node-load arrays, rows and CSV text
    (s.output.perUserSeries ? windows * U * 300 : 0) +
    (slots + 8) * (C * 5 + N * 4) * 8 + // observed metrics rings
    V * V * 16 + A * N * 24 + // backhaul matrices, RTT per access point
    U * 2000 + C * 1000;
  return { events: requests + background + control + mobility + sampling, memoryBytes, parts: { requests, background, control, mobility, sampling } };
}

function mib(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${Math.ceil(bytes / 2 ** 20)} MiB`;
}

/** The estimate as problems: over the event limit or the memory budget, naming the field to change. */
export function checkResources(s: Scenario, memoryBudgetBytes = DEFAULT_MEMORY_BUDGET_BYTES, maxEvents: number = S.events): ScenarioProblem[] {
  const e = estimateResources(s);
  const out: ScenarioProblem[] = [];
  if (!(e.events <= maxEvents)) {
    const [part] = Object.entries(e.parts).sort((a, b) => b[1] - a[1]);
    const fields: Record<string, { path: PathSegment[]; change: string }> = {
      requests: { path: ['users'], change: 'lower users[*].requests.ratePerS, the user count or durationS' },
      background: { path: ['topology'], change: 'lower backgroundLoad, cpuCores or speedFactor of the nodes, or durationS' },
      control: { path: ['controlIntervalS'], change: 'raise controlIntervalS or lower durationS' },
      mobility: { path: ['users'], change: 'lower the users’ speedMps, raise blockM, or lower durationS' },
      sampling: { path: ['reportIntervalS'], change: 'raise reportIntervalS or set output.perUserSeries: false' },
    };
    const f = fields[part[0]];
    out.push({ path: f.path, message: `expected a run of at most ${fmt(maxEvents)} events, got an estimated ${fmt(e.events)} (${part[0]}: ${fmt(part[1])}); ${f.change}, or raise the limit (--max-events) if the run is meant to be this long` });
  }
  if (!(e.memoryBytes <= memoryBudgetBytes)) {
    out.push({ path: ['reportIntervalS'], message: `expected a run that fits in memory (${mib(memoryBudgetBytes)} here), got an estimated ${mib(e.memoryBytes)} for per-window series and metrics; raise reportIntervalS${s.output.perUserSeries ? ', set output.perUserSeries: false' : ''} or lower durationS` });
  }
  return out;
}
