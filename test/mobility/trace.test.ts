import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConmigError, isConmigError } from '../../src/model/errors.ts';
import type { UserSpec } from '../../src/model/types.ts';
import {
  EARTH_RADIUS_M,
  createLegSource,
  createMemoryTraceStore,
  createTraceStore,
  loadTraceFile,
  parseCabspottingFixes,
  parseCsvTrace,
  positionAt,
  projectCabs,
  resolveTraceUser,
  traceSource,
  type GeoFix,
  type Leg,
  type LegSource,
} from '../../src/mobility/index.ts';

const FIX = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/traces');
const REQ = { ratePerS: 1, requestKiB: 1, responseKiB: 1, timeoutMs: 1000 };

function all(src: LegSource, max = 10_000): Leg[] {
  const legs: Leg[] = [];
  for (let leg = src.next(); leg !== null && legs.length < max; leg = src.next()) legs.push(leg);
  return legs;
}

function caught(f: () => unknown): ConmigError {
  try {
    f();
  } catch (e) {
    if (isConmigError(e)) return e;
    throw e;
  }
  throw new Error('expected a ConmigError');
}

/** Spherical destination point: distance d along bearing θ from (lat, lon). */
function destination(latDeg: number, lonDeg: number, dM: number, bearingDeg: number): { latDeg: number; lonDeg: number } {
  const r = Math.PI / 180;
  const φ1 = latDeg * r;
  const δ = dM / EARTH_RADIUS_M;
  const θ = bearingDeg * r;
  const φ2 = Math.asin(Math.sin(φ1) * Math.cos(δ) + Math.cos(φ1) * Math.sin(δ) * Math.cos(θ));
  const λ2 = lonDeg * r + Math.atan2(Math.sin(θ) * Math.sin(δ) * Math.cos(φ1), Math.cos(δ) - Math.sin(φ1) * Math.sin(φ2));
  return { latDeg: φ2 / r, lonDeg: λ2 / r };
}

describe('csv traces', () => {
  it('parses, groups by user in order of first appearance, sorts by time and handles CRLF and blank lines', () => {
    const data = loadTraceFile(join(FIX, 'users.csv'), 'csv');
    expect([...data.keys()]).toEqual(['bob', 'alice']);
    expect(data.get('alice')).toEqual([
      { timeUs: 0, xM: 0, yM: 0 },
      { timeUs: 10_000_000, xM: 100, yM: 50 },
      { timeUs: 20_000_000, xM: 200, yM: 100 },
    ]);
    expect(data.get('bob')?.map((p) => p.timeUs)).toEqual([0, 10_000_000, 20_000_000]);
  });

  it('drops a second fix at the same µs (the first wins)', () => {
    const data = parseCsvTrace('user,time,x,y\nu,1,5,5\nu,1.0000001,9,9\nu,2,6,6\n', 'mem.csv');
    expect(data.get('u')).toEqual([
      { timeUs: 1_000_000, xM: 5, yM: 5 },
      { timeUs: 2_000_000, xM: 6, yM: 6 },
    ]);
  });

  it('names the file, the line and what was expected on a bad line', () => {
    const file = join(FIX, 'bad-time.csv');
    const e = caught(() => loadTraceFile(file, 'csv'));
    expect(e.code).toBe('TRACE_INVALID');
    expect(e.message).toContain(`${file}:4:`);
    expect(e.message).toContain('time in seconds');
    expect(e.message).toContain('"u1,two,5,5"');
    expect(e.context).toMatchObject({ file, line: 4 });
  });

  it('rejects a wrong header, a wrong field count, a negative time and an empty file', () => {
    expect(caught(() => loadTraceFile(join(FIX, 'bad-header.csv'), 'csv')).message).toMatch(/bad-header\.csv:1: expected the header "user,time,x,y"/);
    expect(caught(() => parseCsvTrace('user,time,x,y\nu,1,2\n', 'f.csv')).message).toMatch(/^f\.csv:2: expected 4 comma-separated fields/);
    expect(caught(() => parseCsvTrace('user,time,x,y\n\nu,-1,2,3\n', 'f.csv')).message).toMatch(/^f\.csv:3: expected time in seconds in \[0, 9007199254\]/);
    // extreme but finite values: bounded like a scenario's positions, and times kept exact in integer µs
    expect(caught(() => parseCsvTrace('user,time,x,y\nu,1,1e308,3\n', 'f.csv')).message).toMatch(/^f\.csv:2: expected x in metres within ±10000000/);
    expect(caught(() => parseCsvTrace('user,time,x,y\nu,1,3,-2e7\n', 'f.csv')).message).toMatch(/^f\.csv:2: expected y in metres within/);
    expect(caught(() => parseCsvTrace('user,time,x,y\nu,1e12,3,3\n', 'f.csv')).message).toMatch(/^f\.csv:2: expected time in seconds/);
    expect(parseCsvTrace('user,time,x,y\nu,1700000000,1e7,-1e7\n', 'f.csv').get('u')?.length).toBe(1);
    expect(caught(() => parseCsvTrace('user,time,x,y\nu,1,,3\n', 'f.csv')).message).toMatch(/^f\.csv:2: expected x in metres/);
    expect(caught(() => parseCsvTrace('\n\n', 'f.csv')).code).toBe('TRACE_INVALID');
  });

  it('a missing file is TRACE_INVALID naming it', () => {
    const e = caught(() => loadTraceFile(join(FIX, 'nope.csv'), 'csv'));
    expect(e.code).toBe('TRACE_INVALID');
    expect(e.context).toMatchObject({ file: join(FIX, 'nope.csv') });
  });
});

describe('trace legs', () => {
  it('waits at the first point until its time, interpolates between fixes, then stays', () => {
    const src = traceSource([
      { timeUs: 5_000_000, xM: 10, yM: 10 },
      { timeUs: 7_000_000, xM: 30, yM: 10 },
      { timeUs: 9_000_000, xM: 30, yM: 10 },
      { timeUs: 10_000_000, xM: 30, yM: 20 },
    ]);
    expect(src.start).toEqual({ xM: 10, yM: 10 });
    const legs = all(src);
    expect(legs.map((l) => [l.startUs, l.endUs, l.from.xM, l.from.yM, l.to.xM, l.to.yM])).toEqual([
      [0, 5_000_000, 10, 10, 10, 10],
      [5_000_000, 7_000_000, 10, 10, 30, 10],
      [7_000_000, 9_000_000, 30, 10, 30, 10],
      [9_000_000, 10_000_000, 30, 10, 30, 20],
    ]);
    expect(legs[0].from).toBe(legs[0].to); // a pause
    expect(positionAt(legs[1], 6_000_000)).toEqual({ xM: 20, yM: 10 });
    for (let k = 1; k < legs.length; k++) expect(legs[k].from).toBe(legs[k - 1].to);
    expect(src.next()).toBeNull();
  });

  it('a fix at t = 0 gives no initial pause', () => {
    const legs = all(traceSource([{ timeUs: 0, xM: 1, yM: 1 }, { timeUs: 1, xM: 2, yM: 1 }]));
    expect(legs).toEqual([{ startUs: 0, endUs: 1, from: { xM: 1, yM: 1 }, to: { xM: 2, yM: 1 } }]);
  });

  it('createLegSource replays the matching trace user through the store', () => {
    const store = createTraceStore(FIX);
    const user: UserSpec = { id: 'alice', start: { xM: 0, yM: 0 }, mobility: { kind: 'trace', file: 'users.csv', format: 'csv' }, requests: REQ };
    const src = createLegSource(user, { areaM: { width: 1, height: 1 }, seed: 1, traces: store });
    expect(all(src).map((l) => l.to)).toEqual([{ xM: 100, yM: 50 }, { xM: 200, yM: 100 }]);
    // Parsed once: the store returns the same object.
    expect(store.get('users.csv', 'csv')).toBe(store.get(join(FIX, 'users.csv'), 'csv'));
  });
});

describe('resolveTraceUser', () => {
  const keys = ['bob', 'alice', 'carol'];
  it('maps by exact id, then a single-user trace, then the 0-based -<n> suffix', () => {
    expect(resolveTraceUser('alice', keys, 'f')).toBe('alice');
    expect(resolveTraceUser('taxi-7', ['only'], 'f')).toBe('only');
    expect(resolveTraceUser('taxi-0', keys, 'f')).toBe('bob');
    expect(resolveTraceUser('taxi-2', keys, 'f')).toBe('carol');
  });
  it('fails with TRACE_INVALID naming file and user when nothing matches', () => {
    const a = caught(() => resolveTraceUser('taxi-3', keys, 'f.csv'));
    expect(a.code).toBe('TRACE_INVALID');
    expect(a.message).toContain('only 3 users');
    const b = caught(() => resolveTraceUser('dave', keys, 'f.csv'));
    expect(b.context).toMatchObject({ file: 'f.csv', user: 'dave' });
  });
  it('is what createLegSource uses', () => {
    const store = createMemoryTraceStore({ 'mem.csv': parseCsvTrace('user,time,x,y\nx,0,1,1\ny,0,2,2\n', 'mem.csv') });
    const user: UserSpec = { id: 'taxi-1', start: { xM: 0, yM: 0 }, mobility: { kind: 'trace', file: 'mem.csv', format: 'csv' }, requests: REQ };
    expect(createLegSource(user, { areaM: { width: 1, height: 1 }, seed: 1, traces: store }).start).toEqual({ xM: 2, yM: 2 });
  });
});

describe('cabspotting', () => {
  it('projects two points 1 km apart to 1000 m (±1%) in any direction', () => {
    for (const bearing of [0, 45, 90, 135]) {
      const b = destination(37.7749, -122.4194, 1000, bearing);
      const data = projectCabs(new Map([['c', [{ latDeg: 37.7749, lonDeg: -122.4194, unixS: 0 }, { latDeg: b.latDeg, lonDeg: b.lonDeg, unixS: 60 }]]]));
      const [p, q] = data.get('c') ?? [];
      const d = Math.hypot(q.xM - p.xM, q.yM - p.yM);
      expect(Math.abs(d - 1000)).toBeLessThan(10);
    }
  });

  it('sorts newest-first input by time, shifts to min x = min y = 0 and t = 0', () => {
    const fixes = parseCabspottingFixes('37.78 -122.40 1 1213084800\n37.775 -122.41 0 1213084740\n\n37.77 -122.42 0 1213084680\n', 'cab.txt');
    const pts = projectCabs(new Map([['cab', fixes]])).get('cab') ?? [];
    expect(pts.map((p) => p.timeUs)).toEqual([0, 60_000_000, 120_000_000]);
    expect(pts[0].xM).toBeCloseTo(0, 6);
    expect(pts[0].yM).toBeCloseTo(0, 6);
    // Moving north-east: x and y increase; 0.01° of latitude is about 1112 m.
    expect(pts[2].yM).toBeCloseTo(0.01 * (Math.PI / 180) * EARTH_RADIUS_M, 3);
    expect(pts[1].xM).toBeGreaterThan(0);
    expect(pts[2].xM).toBeGreaterThan(pts[1].xM);
  });

  it('loads a directory of cabs with one common origin and t = 0, keyed by cab name', () => {
    const data = loadTraceFile(join(FIX, 'cabs'), 'cabspotting');
    expect([...data.keys()]).toEqual(['alpha', 'beta']);
    const alpha = data.get('alpha') ?? [];
    const beta = data.get('beta') ?? [];
    expect(alpha[0].timeUs).toBe(0);
    expect(beta[0].timeUs).toBe(10_000_000);
    const xs = [...alpha, ...beta].map((p) => p.xM);
    const ys = [...alpha, ...beta].map((p) => p.yM);
    expect(Math.min(...xs)).toBeCloseTo(0, 6);
    expect(Math.min(...ys)).toBeCloseTo(0, 6);
    // A single file is one cab on its own origin.
    const one = loadTraceFile(join(FIX, 'cabs', 'new_beta.txt'), 'cabspotting');
    expect([...one.keys()]).toEqual(['beta']);
    expect(one.get('beta')?.[0]).toEqual({ timeUs: 0, xM: expect.closeTo(0, 6), yM: expect.closeTo(0, 6) });
  });

  it('names file and line of a bad fix', () => {
    const file = join(FIX, 'bad-cab.txt');
    const e = caught(() => loadTraceFile(file, 'cabspotting'));
    expect(e.code).toBe('TRACE_INVALID');
    expect(e.message).toContain(`${file}:2: expected occupied flag 0 or 1`);
    expect(caught(() => parseCabspottingFixes('91 0 0 1\n', 'c.txt')).message).toMatch(/^c\.txt:1: expected latitude/);
    expect(caught(() => parseCabspottingFixes('1 2 0\n', 'c.txt')).message).toMatch(/^c\.txt:1: expected "lat lon occupied unix_time"/);
  });

  it('keeps the GeoFix type usable by callers', () => {
    const f: GeoFix = { latDeg: 1, lonDeg: 2, unixS: 3 };
    expect(projectCabs(new Map([['z', [f]]])).get('z')).toEqual([{ timeUs: 0, xM: 0, yM: 0 }]);
  });
});
