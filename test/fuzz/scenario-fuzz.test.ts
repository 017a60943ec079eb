/**
 * Fuzz: seeded bad scenarios (type flips, missing and unknown keys, extreme
 * numbers, unicode and control characters, duplicate ids, dangling
 * references, YAML bombs, garbage bytes) through
 * validation and, when accepted, a short simulated run. Every case must end
 * in a ConmigError (never another exception: that is what the CLI reports as
 * `internal error`) or a sane run (no NaN, every request accounted for).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { isConmigError } from '../../src/model/errors.ts';
import { createBuiltinPolicy } from '../../src/model/policies/index.ts';
import { createRng } from '../../src/model/random.ts';
import { checkScenarioText } from '../../src/scenario-io/parse.ts';
import { simulate } from '../../src/sim/simulator.ts';
import { conmig } from '../helpers/cli.ts';

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
  structural(s, rng);
  let text = JSON.stringify(s);
  const y = rng();
  if (y < 0.04) return YAML_ATTACKS[Math.floor(rng() * YAML_ATTACKS.length)];
  if (y < 0.06) return Array.from({ length: 1 + Math.floor(rng() * 400) }, () => String.fromCharCode(Math.floor(rng() * 256))).join('');
  if (rng() < 0.1) {
    const at = Math.floor(rng() * text.length);
    text = text.slice(0, at) + String.fromCharCode(Math.floor(rng() * 256)) + text.slice(at + 1);
  }
  return parseDocument(text).errors.length > 0 ? text : text;
}

const BOMB = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
  .concat(['b', 'c', 'd', 'e', 'f', 'g'].map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdef'[i]}`).join(',')}]`))
  .join('\n');
const YAML_ATTACKS = [
  BOMB,
  `name: x\nusers: *nowhere\n`,
  `a: ${'['.repeat(500)}${']'.repeat(500)}\n`,
  `name: &n x\ntopology: { nodes: [*n, *n] }\n`,
  `{${Array.from({ length: 300 }, (_, i) => `k${i}: 1`).join(', ')}, k1: 2}`,
  '\u0000\u0001\u0002 name: \u001b[31mred',
  '--- !!binary AAAA\n',
  'name: x\n---\nname: y\n',
];

type Obj = Record<string, unknown>;

/** Paths of every NaN or infinite number in a value (JSON.stringify would hide them as null). */
function nonFinite(v: unknown, at = '$', out: string[] = []): string[] {
  if (typeof v === 'number' && !Number.isFinite(v)) out.push(`${at} = ${v}`);
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) nonFinite(x, `${at}.${k}`, out);
  return out;
}
/** Duplicate ids and dangling references: mistakes of structure, not of value. */
function structural(s: Obj, rng: () => number): void {
  const topo = s.topology as { nodes?: Obj[]; links?: Obj[] } | undefined;
  const r = rng();
  if (r < 0.05 && Array.isArray(topo?.nodes) && topo.nodes.length > 0) topo.nodes.push({ ...topo.nodes[0] }); // duplicate node id
  else if (r < 0.1 && Array.isArray(topo?.links) && topo.links.length > 0) topo.links[0] = { ...topo.links[0], b: 'nowhere' }; // link to no node
  else if (r < 0.13 && Array.isArray(s.users) && s.users.length > 0) (s.users as Obj[]).push({ ...(s.users as Obj[])[0] }); // duplicate user id
  else if (r < 0.16 && Array.isArray(topo?.links) && topo.links.length > 0) topo.links.push({ ...topo.links[0] }); // the same link twice
  else if (r < 0.19) s.policies = [rng() < 0.5 ? 'no-such-policy' : { name: 'x', module: './nowhere.ts' }];
  else if (r < 0.22) s.name = rng() < 0.5 ? '../../escape' : '\u001b[2J\u0007';
}

describe('scenario fuzz', () => {
  it('1,000 seeded bad scenarios end in a ConmigError or a sane run, never an internal error', () => {
    const rng = createRng(8, 'fuzz');
    const t0 = Date.now();
    const rss0 = process.memoryUsage().rss;
    let accepted = 0;
    let slowestMs = 0;
    for (let i = 0; i < 1000; i++) {
      const text = mutate(rng);
      const c0 = Date.now();
      try {
        const out = checkScenarioText(text, `case-${i}.yaml`);
        if (out.scenario) {
          accepted++;
          const s = { ...out.scenario, durationS: Math.min(out.scenario.durationS, 5) };
          const r = simulate(s, createBuiltinPolicy(s.policies[0]), s.seed);
          const c = r.summary.requests;
          expect(c.served + c.failed + c.unfinished, text).toBe(c.generated);
          // A statistic of an empty sample (no request served, no migration finished) is NaN by
          // design and written blank; any other NaN or Infinity is a bug.
          const sum = r.summary;
          const empty = (p: string): boolean =>
            p.endsWith(' = NaN') &&
            ((/^\$\.(responseMs|componentsMeanMs)\./.test(p) && c.served === 0) ||
              (p.startsWith('$.qos.') && sum.qos.counted === 0) ||
              (/^\$\.migrations\.(downtimeMs|totalMs)\./.test(p) && sum.migrations.count - sum.migrations.failed - sum.migrations.unfinished <= 0));
          expect(nonFinite(sum).filter((p) => !empty(p)), text).toEqual([]);
        } else {
          expect(out.problems.length, text).toBeGreaterThan(0);
          for (const p of out.problems) expect(p.file, text).toMatch(/^case-\d+\.yaml:\d+/);
        }
      } catch (e) {
        if (!isConmigError(e)) throw new Error(`internal error on case ${i}: ${String(e)}\n${text}`);
      }
      slowestMs = Math.max(slowestMs, Date.now() - c0);
    }
    // Hang and blow-up guards, not performance figures: one case may not take 10 s nor the
    // whole run grow the process by a GiB.
    expect(slowestMs).toBeLessThan(10_000);
    expect(process.memoryUsage().rss - rss0).toBeLessThan(1024 ** 3);
    expect(accepted).toBeGreaterThan(0);
    expect(Date.now() - t0).toBeLessThan(60_000);
  }, 90_000);
});

describe('scenario fuzz through the command line', () => {
  it('every 10th case as a file given to conmig validate: exit 0 or 2, no internal error, no stack trace', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'conmig-fuzz-'));
    const rng = createRng(9, 'fuzz-cli');
    let refused = 0;
    for (let i = 0; i < 1000; i++) {
      const text = mutate(rng);
      if (i % 10 !== 0) continue;
      const file = path.join(dir, `case-${i}.yaml`);
      writeFileSync(file, text);
      const r = await conmig(['validate', file]);
      expect(r.stderr, text).not.toMatch(/internal error|^\s+at /m);
      expect([0, 2], `${text}\n${r.stderr}`).toContain(r.status);
      if (r.status === 2) {
        refused++;
        expect(r.stderr, text).toMatch(/^conmig: /);
        // names never reach the terminal raw
        expect(r.stderr, text).not.toMatch(/\u001b/);
      }
    }
    expect(refused).toBeGreaterThan(50);
  }, 120_000);
});
