/**
 * Fuzz: seeded bad scenarios (type flips, missing and unknown keys, extreme
 * numbers, unicode and control characters, garbage bytes) through
 * validation and, when accepted, a short simulated run. Every case must end
 * in a ConmigError (never another exception: that is what the CLI reports as
 * `internal error`) or a sane run (no NaN, every request accounted for).
 */
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { isConmigError } from '../../src/model/errors.ts';
import { createBuiltinPolicy } from '../../src/model/policies/index.ts';
import { createRng } from '../../src/model/random.ts';
import { checkScenarioText } from '../../src/scenario-io/parse.ts';
import { simulate } from '../../src/sim/simulator.ts';

const BASE = {
  name: 'tiny', durationS: 5, controlIntervalS: 1, metricsWindowS: 2, reportIntervalS: 1,
  topology: {
    areaM: { width: 1000, height: 1000 },
    nodes: [{ id: 'a', x: 100, y: 100, cpuCores: 2, memoryMiB: 4096, backgroundLoad: 0.1 }, { id: 'b', x: 900, y: 900, cpuCores: 2, memoryMiB: 4096 }],
    links: [{ a: 'a', b: 'b', latencyMs: 2, bandwidthMbps: 1000 }],
  },
  users: [{ id: 'u', count: 3, mobility: { kind: 'random-waypoint', speedMps: [1, 5] }, requests: { ratePerS: 2 } }],
  containers: [{ perUser: true, memoryMiB: 128, serviceTime: { kind: 'lognormal', meanMs: 20, sdMs: 5 } }],
  migration: { mode: 'precopy' },
  policies: ['nearest'],
};

const EXTREMES: unknown[] = [1e308, -1e308, 2 ** 53 + 1, 1e-6, 5e-324, 0, -1, 'NaN', '.nan', 'Infinity', '1e308', '', '\u0000', '😀\u202e', true, null, [], {}, 1e15, 2 ** 31, 0.5, 3];

function leaves(v: unknown, path: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) leaves(x, [...path, Array.isArray(v) ? Number(k) : k], out);
  out.push(path);
  return out;
}

function mutate(rng: () => number): string {
  const s = structuredClone(BASE) as Record<string, unknown>;
  const paths = leaves(s).filter((p) => p.length > 0);
  const n = 1 + Math.floor(rng() * 3);
  for (let i = 0; i < n; i++) {
    const p = paths[Math.floor(rng() * paths.length)];
    let o = s as Record<string | number, unknown>;
    for (const seg of p.slice(0, -1)) o = (o?.[seg] ?? {}) as Record<string | number, unknown>;
    if (typeof o !== 'object' || o === null) continue;
    const last = p[p.length - 1];
    const r = rng();
    if (r < 0.6) o[last] = EXTREMES[Math.floor(rng() * EXTREMES.length)];
    else if (r < 0.8) delete o[last];
    else o[`x${Math.floor(rng() * 9)}`] = 1;
  }
  let text = JSON.stringify(s);
  if (rng() < 0.1) {
    const at = Math.floor(rng() * text.length);
    text = text.slice(0, at) + String.fromCharCode(Math.floor(rng() * 256)) + text.slice(at + 1);
  }
  return parseDocument(text).errors.length > 0 ? text : text;
}

describe('scenario fuzz', () => {
  it('1,000 seeded bad scenarios end in a ConmigError or a sane run, never an internal error', () => {
    const rng = createRng(8, 'fuzz');
    const t0 = Date.now();
    let accepted = 0;
    for (let i = 0; i < 1000; i++) {
      const text = mutate(rng);
      try {
        const out = checkScenarioText(text, `case-${i}.yaml`);
        if (out.scenario) {
          accepted++;
          const s = { ...out.scenario, durationS: Math.min(out.scenario.durationS, 5) };
          const r = simulate(s, createBuiltinPolicy(s.policies[0]), s.seed);
          const c = r.summary.requests;
          expect(c.served + c.failed + c.unfinished, text).toBe(c.generated);
          expect(JSON.stringify(r.summary), text).not.toMatch(/NaN/);
        } else {
          expect(out.problems.length, text).toBeGreaterThan(0);
          for (const p of out.problems) expect(p.file, text).toMatch(/^case-\d+\.yaml:\d+/);
        }
      } catch (e) {
        if (!isConmigError(e)) throw new Error(`internal error on case ${i}: ${String(e)}\n${text}`);
      }
    }
    expect(accepted).toBeGreaterThan(0);
    expect(Date.now() - t0).toBeLessThan(60_000);
  }, 90_000);
});
