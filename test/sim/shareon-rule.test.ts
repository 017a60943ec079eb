/**
 * The ShareOn scenarios against ShareOn's own rule, computed here from its
 * formula and not from the simulator's view or policy code:
 *
 *   every poll (1 s), delay = latest reported ALPR processing time + |C_e - p|
 *   for the edge e the container is on, p the user's position (0.5 ms per
 *   second in shareon-geni, as decision.py's 0.5 per tick); if the delay
 *   exceeds 100 ms, move to the edge with the lowest |C_e - p| unless that is
 *   e (ties: the first edge). No averaging.
 *
 * "Latest reported" = the request that completed last before the poll (a
 * controller cannot know a processing time before the answer arrives); its
 * processing time is its time on the edge, queue + service (the queue is 0
 * except right after a migration, when the re-sent held requests arrive together). The
 * processing times and completion instants are read from the run's request
 * trace: they are the inputs of the rule (for the empirical case they are
 * draws from src/model/alpr-samples.ts); the decisions are computed here and
 * must equal the simulator's migrations exactly: same ticks, same edges, no
 * other migration.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ALPR_SAMPLES_MS, ALPR_SERVICE_TIME } from '../../src/model/alpr-samples.ts';
import { createBuiltinPolicy } from '../../src/model/policies/index.ts';
import type { RequestRecord } from '../../src/model/results.ts';
import type { Scenario } from '../../src/model/types.ts';
import { loadScenario } from '../../src/scenario-io/load.ts';
import { simulate } from '../../src/sim/simulator.ts';

const scenarioFile = (name: string): string => fileURLToPath(new URL(`../../scenarios/${name}.yaml`, import.meta.url));

/** ShareOn's GENI edges (decision.py) and the shareon-live testbed's, in list order (ties go to the first). */
const GENI_EDGES: ReadonlyArray<[string, number]> = [
  ['edge1', 5],
  ['edge2', 25],
  ['edge3', 45],
  ['edge4', 50],
  ['edge5', 90],
];
const LIVE_EDGES: ReadonlyArray<[string, number]> = [
  ['node1', 10],
  ['node2', 60],
  ['node3', 110],
];
const THRESHOLD_MS = 100;
const POLL_S = 1;

interface Rule {
  edges: ReadonlyArray<[string, number]>;
  /** The user's position p (ms) at time t (s). */
  positionMs: (tS: number) => number;
  startEdge: string;
  durationS: number;
}

interface Move {
  tickS: number;
  from: string;
  to: string;
}

/** A finished request as the rule needs it: when its answer arrived and its time on the edge. */
interface Report {
  doneUs: number;
  processingMs: number;
}

function reportsOf(trace: readonly RequestRecord[]): Report[] {
  return trace
    .map((r) => ({ doneUs: Math.round(r.sentS * 1e6 + r.responseMs * 1000), processingMs: r.queueMs + r.serviceMs }))
    .sort((a, b) => a.doneUs - b.doneUs);
}

/**
 * ShareOn's decisions, poll by poll, checked against the simulator's moves.
 * Positions are multiples of 0.5 ms and the edge constants integers, so ties
 * between edges are exact (the first edge wins, in decision.py and in the
 * simulator's id order alike); a delay within 1e-6 ms of the threshold is
 * the one thing rounding can decide, so there either outcome is accepted (and
 * counted in `ambiguous`) and the replay follows the simulator.
 */
function checkAgainstShareOn(rule: Rule, reports: readonly Report[], simMoves: readonly Move[]): { expected: Move[]; mismatches: string[]; ambiguous: number } {
  const expected: Move[] = [];
  const mismatches: string[] = [];
  let ambiguous = 0;
  const C = new Map(rule.edges);
  const simAt = new Map(simMoves.map((m) => [m.tickS, m]));
  for (const m of simMoves) if (!Number.isInteger(m.tickS / POLL_S)) mismatches.push(`simulator moved between polls at ${m.tickS} s`);
  let on = rule.startEdge;
  let next = 0;
  let latest: Report | undefined;
  for (let tick = POLL_S; tick < rule.durationS; tick += POLL_S) {
    while (next < reports.length && reports[next].doneUs < tick * 1e6) latest = reports[next++];
    const sim = simAt.get(tick);
    let want: string | null = null; // destination ShareOn moves to, or null to stay
    let either = false;
    if (latest) {
      const p = rule.positionMs(tick);
      const delay = latest.processingMs + Math.abs(C.get(on)! - p);
      let best = rule.edges[0];
      for (const e of rule.edges) if (Math.abs(e[1] - p) < Math.abs(best[1] - p)) best = e;
      const fires = delay > THRESHOLD_MS && best[0] !== on;
      if (best[0] !== on && Math.abs(delay - THRESHOLD_MS) < 1e-6) either = true;
      if (fires) want = best[0];
      if (either) {
        ambiguous++;
        want = sim ? best[0] : null;
      }
    }
    const did = sim ? sim.to : null;
    if (sim && sim.from !== on) mismatches.push(`${tick} s: the simulator moved from ${sim.from}, ShareOn's container is on ${on}`);
    if (did !== want) mismatches.push(`${tick} s: ShareOn ${want ? `moves ${on} -> ${want}` : `stays on ${on}`}, the simulator ${did ? `moved to ${did}` : 'did not move'}`);
    if (want) {
      expected.push({ tickS: tick, from: on, to: want });
      on = want;
    }
  }
  return { expected, mismatches, ambiguous };
}

function runThreshold(s: Scenario, seed: number): { moves: Move[]; trace: RequestRecord[] } {
  const trace: RequestRecord[] = [];
  const ref = s.policies.find((p) => p.name === 'threshold');
  if (!ref) throw new Error(`${s.name} lists no threshold policy`);
  const r = simulate(s, createBuiltinPolicy(ref), seed, { requestSink: (x) => trace.push(x) });
  expect(r.migrations.every((m) => m.status === 'ok')).toBe(true);
  return { moves: r.migrations.map((m) => ({ tickS: m.startS, from: m.from, to: m.to })), trace };
}

async function geni(): Promise<Scenario> {
  const s = await loadScenario(scenarioFile('shareon-geni'));
  // The scenario is the setting the rule above assumes.
  expect(s.latency).toEqual({ kind: 'linear', edgeConstantsMs: Object.fromEntries(GENI_EDGES), msPerM: 1 });
  expect(s.controlIntervalS).toBe(POLL_S);
  expect(s.qosThresholdMs).toBe(THRESHOLD_MS);
  expect(s.users[0].mobility).toMatchObject({ kind: 'straight-path', from: { xM: 0, yM: 0 }, to: { xM: 100, yM: 0 }, speedMps: 0.5 });
  expect(s.containers[0].node).toBe('edge1');
  return s;
}

const geniRule = (s: Scenario): Rule => ({ edges: GENI_EDGES, positionMs: (t) => Math.min(100, 0.5 * t), startEdge: 'edge1', durationS: s.durationS });

describe("shareon-geni decides as ShareOn's decision.py", () => {
  // 63.3 ms: the user crosses the threshold on edge1 and on edge3 only; 79.3 ms: on every edge.
  // Both keep every delay and distance off exact ties (positions are multiples of 0.5 ms).
  it.each([
    { serviceMs: 63.3, expected: [[84, 'edge1', 'edge3'], [164, 'edge3', 'edge5']] },
    { serviceMs: 79.3, expected: [[52, 'edge1', 'edge2'], [92, 'edge2', 'edge3'], [132, 'edge3', 'edge4'], [142, 'edge4', 'edge5']] },
  ])('deterministic ALPR time $serviceMs ms', async ({ serviceMs, expected }) => {
    const s = await geni();
    s.containers[0].serviceTime = { kind: 'deterministic', valueMs: serviceMs };
    const { moves, trace } = runThreshold(s, 1);
    expect(trace.every((r) => r.queueMs === 0 && r.serviceMs === serviceMs)).toBe(true);
    const rule = checkAgainstShareOn(geniRule(s), reportsOf(trace), moves);
    expect(rule.ambiguous).toBe(0);
    // The rule, worked by hand: on edge e it fires at the first tick with S + p - C_e > 100.
    expect(rule.expected.map((m) => [m.tickS, m.from, m.to])).toEqual(expected);
    expect(rule.mismatches).toEqual([]);
    expect(moves).toEqual(rule.expected);
  });

  it.each([1, 2, 3, 4, 5, 6, 7, 8])('empirical ALPR times (the scenario as shipped), seed %i', async (seed) => {
    const s = await geni();
    expect(s.containers[0].serviceTime).toEqual(ALPR_SERVICE_TIME);
    const { moves, trace } = runThreshold(s, seed);
    const samples = new Set(ALPR_SAMPLES_MS);
    expect(trace.length).toBeGreaterThan(150);
    expect(trace.every((r) => samples.has(r.serviceMs))).toBe(true);
    const rule = checkAgainstShareOn(geniRule(s), reportsOf(trace), moves);
    expect(rule.expected.length).toBeGreaterThanOrEqual(2);
    expect(rule.mismatches).toEqual([]);
    expect(moves).toEqual(rule.expected);
  });
});

describe('shareon-live (simulated) decides as ShareOn would on the testbed', () => {
  it.each([1, 2, 3])('seed %i', async (seed) => {
    const s = await loadScenario(scenarioFile('shareon-live'));
    expect(s.latency).toEqual({ kind: 'linear', edgeConstantsMs: Object.fromEntries(LIVE_EDGES), msPerM: 1 });
    expect(s.controlIntervalS).toBe(POLL_S);
    expect(s.users[0].mobility).toMatchObject({ kind: 'straight-path', from: { xM: 0, yM: 0 }, to: { xM: 120, yM: 0 }, speedMps: 1 });
    const { moves, trace } = runThreshold(s, seed);
    const rule = checkAgainstShareOn(
      { edges: LIVE_EDGES, positionMs: (t) => Math.min(120, t), startEdge: 'node1', durationS: s.durationS },
      reportsOf(trace),
      moves,
    );
    // OCR takes longer than 100 ms: ShareOn follows the nearest node, one poll after each midpoint
    // (35 and 85 m, where the two nodes tie and the container stays).
    expect(rule.expected.map((m) => [m.tickS, m.from, m.to])).toEqual([
      [36, 'node1', 'node2'],
      [86, 'node2', 'node3'],
    ]);
    expect(rule.mismatches).toEqual([]);
    expect(moves).toEqual(rule.expected);
  });
});
