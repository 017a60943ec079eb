/**
 * Trace replay: parsing of the two trace formats (pure: text in, points out),
 * the cabspotting projection, the mapping of scenario users to trace users,
 * and the leg source that interpolates between fixes.
 *
 * Formats
 * - csv: header `user,time,x,y`; time in seconds from scenario start (>= 0),
 *   x/y in metres. Rows of different users may interleave and need not be
 *   sorted. Blank lines are ignored.
 * - cabspotting (San Francisco taxis, CRAWDAD epfl/mobility): one file per
 *   cab, lines `lat lon occupied unix_time`, newest first. Points are sorted
 *   by time, projected to metres with an equirectangular projection around
 *   the mean latitude, then shifted so that min x = min y = 0 and the
 *   earliest time is t = 0. The user key is the cab name (file name without
 *   `new_` and `.txt`).
 *
 * Within a user, fixes are sorted by time (stable) and a fix whose time in
 * whole µs equals the previous fix's is dropped (the first one at a time wins).
 */
import { ConmigError } from '../model/errors.ts';
import { LIMITS } from '../model/scenario/limits.ts';
import type { UserSpec } from '../model/types.ts';
import { LegCursor, US_PER_S } from './legs.ts';
import type { Leg, LegSource, TraceData, TracePoint } from './types.ts';

/** Mean Earth radius (IUGG), metres. */
export const EARTH_RADIUS_M = 6_371_008.8;

function traceError(file: string, line: number, expected: string, got: string): never {
  const shown = got.length > 80 ? `${got.slice(0, 77)}...` : got;
  throw new ConmigError('TRACE_INVALID', `${file}:${line}: expected ${expected}, got "${shown}"`, {
    context: { file, line, expected },
  });
}

function finite(s: string): number {
  // Number('') is 0: reject empty fields explicitly.
  return s.trim() === '' ? Number.NaN : Number(s);
}

function sortAndDedupe(points: TracePoint[]): TracePoint[] {
  points.sort((a, b) => a.timeUs - b.timeUs); // stable since ES2019
  const out: TracePoint[] = [];
  for (const pt of points) {
    if (out.length === 0 || out[out.length - 1].timeUs < pt.timeUs) out.push(pt);
  }
  return out;
}

/** Parse a csv trace (see file header). `file` is only used in error messages. */
/** The latest trace time whose integer µs are exact (2^53 µs, about 285 years). */
const MAX_TRACE_TIME_S = Math.floor(Number.MAX_SAFE_INTEGER / US_PER_S);

export function parseCsvTrace(text: string, file: string): TraceData {
  const lines = text.split('\n');
  const raw = new Map<string, TracePoint[]>();
  let headerSeen = false;
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n].endsWith('\r') ? lines[n].slice(0, -1) : lines[n];
    if (line.trim() === '') continue;
    const lineNo = n + 1;
    const fields = line.split(',');
    if (!headerSeen) {
      const header = fields.map((f) => f.trim().toLowerCase()).join(',');
      if (header !== 'user,time,x,y') traceError(file, lineNo, 'the header "user,time,x,y"', line);
      headerSeen = true;
      continue;
    }
    if (fields.length !== 4) traceError(file, lineNo, '4 comma-separated fields user,time,x,y', line);
    const user = fields[0].trim();
    const timeS = finite(fields[1]);
    const xM = finite(fields[2]);
    const yM = finite(fields[3]);
    if (user === '') traceError(file, lineNo, 'a non-empty user in field 1', line);
    // Bounded like a scenario's own positions and times: integer µs must stay exact, and
    // distances finite when squared (a trace at x = 1e308 gave Infinity latencies).
    if (!Number.isFinite(timeS) || timeS < 0 || timeS > MAX_TRACE_TIME_S) traceError(file, lineNo, `time in seconds in [0, ${MAX_TRACE_TIME_S}] in field 2`, line);
    if (!Number.isFinite(xM) || Math.abs(xM) > LIMITS.coordinateM) traceError(file, lineNo, `x in metres within ±${LIMITS.coordinateM} in field 3`, line);
    if (!Number.isFinite(yM) || Math.abs(yM) > LIMITS.coordinateM) traceError(file, lineNo, `y in metres within ±${LIMITS.coordinateM} in field 4`, line);
    let list = raw.get(user);
    if (list === undefined) raw.set(user, (list = []));
    list.push({ timeUs: Math.round(timeS * US_PER_S), xM, yM });
  }
  if (!headerSeen) traceError(file, 1, 'the header "user,time,x,y"', '(empty file)');
  const out: TraceData = new Map();
  for (const [user, pts] of raw) out.set(user, sortAndDedupe(pts));
  return out;
}

/** One raw cabspotting fix, before projection. */
export interface GeoFix {
  latDeg: number;
  lonDeg: number;
  unixS: number;
}

/** Parse the lines of one cabspotting file (any order); `file` is only used in error messages. */
export function parseCabspottingFixes(text: string, file: string): GeoFix[] {
  const lines = text.split('\n');
  const fixes: GeoFix[] = [];
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n].trim();
    if (line === '') continue;
    const lineNo = n + 1;
    const f = line.split(/\s+/);
    const expected = '"lat lon occupied unix_time" (4 space-separated numbers)';
    if (f.length !== 4) traceError(file, lineNo, expected, line);
    const latDeg = Number(f[0]);
    const lonDeg = Number(f[1]);
    const unixS = Number(f[3]);
    if (!(latDeg >= -90 && latDeg <= 90)) traceError(file, lineNo, 'latitude in degrees in [-90, 90] in field 1', line);
    if (!(lonDeg >= -180 && lonDeg <= 180)) traceError(file, lineNo, 'longitude in degrees in [-180, 180] in field 2', line);
    if (f[2] !== '0' && f[2] !== '1') traceError(file, lineNo, 'occupied flag 0 or 1 in field 3', line);
    if (!Number.isFinite(unixS)) traceError(file, lineNo, 'unix time in seconds in field 4', line);
    fixes.push({ latDeg, lonDeg, unixS });
  }
  if (fixes.length === 0) traceError(file, 1, 'at least one fix "lat lon occupied unix_time"', '(empty file)');
  return fixes;
}

/**
 * Project cabs' fixes to metres with ONE equirectangular projection around
 * the mean latitude φ0 of all fixes (x = R·cos φ0·λ, y = R·φ), shifted so
 * that min x = min y = 0 over all cabs and the earliest fix of all cabs is
 * t = 0 (so several cabs keep their relative positions and timing).
 *
 * Error: east-west distances are scaled by cos φ / cos φ0 - 1 ≈ -tan φ0·Δφ;
 * for San Francisco (φ0 ≈ 37.8°) and points 10 km north or south of the mean
 * latitude that is 0.07%, plus up to 0.5% from treating the Earth as a sphere.
 * North-south distances are exact on the sphere.
 */
export function projectCabs(cabs: ReadonlyMap<string, readonly GeoFix[]>): TraceData {
  let latSum = 0;
  let count = 0;
  let minT = Infinity;
  for (const fixes of cabs.values()) {
    for (const f of fixes) {
      latSum += f.latDeg;
      count++;
      if (f.unixS < minT) minT = f.unixS;
    }
  }
  const rad = Math.PI / 180;
  const kx = EARTH_RADIUS_M * Math.cos((latSum / Math.max(count, 1)) * rad) * rad;
  const ky = EARTH_RADIUS_M * rad;
  let minX = Infinity;
  let minY = Infinity;
  for (const fixes of cabs.values()) {
    for (const f of fixes) {
      minX = Math.min(minX, f.lonDeg * kx);
      minY = Math.min(minY, f.latDeg * ky);
    }
  }
  const out: TraceData = new Map();
  for (const [cab, fixes] of cabs) {
    const pts = fixes.map((f) => ({
      timeUs: Math.round((f.unixS - minT) * US_PER_S),
      xM: f.lonDeg * kx - minX,
      yM: f.latDeg * ky - minY,
    }));
    out.set(cab, sortAndDedupe(pts));
  }
  return out;
}

/** Cab name of a cabspotting file name: `new_abboip.txt` -> `abboip`. */
export function cabName(fileName: string): string {
  return fileName.replace(/^new_/, '').replace(/\.txt$/, '');
}

/**
 * Which trace user a scenario user replays. The rule, in order:
 * 1. a trace user whose key equals the scenario user's id;
 * 2. if the trace has exactly one user, that one (every scenario user on the file replays it);
 * 3. if the id ends in `-<n>` (an expanded group, e.g. `taxi-3`), the trace
 *    user at 0-based position n in the file's key order (csv: order of first
 *    appearance; cabspotting directory: cab names sorted);
 * otherwise TRACE_INVALID.
 */
export function resolveTraceUser(userId: string, keys: readonly string[], file: string): string {
  if (keys.includes(userId)) return userId;
  if (keys.length === 1) return keys[0];
  const m = /-(\d+)$/.exec(userId);
  if (m !== null) {
    const n = Number(m[1]);
    if (n < keys.length) return keys[n];
    throw new ConmigError(
      'TRACE_INVALID',
      `${file}: user ${userId} maps to trace user number ${n} (0-based), but the trace has only ${keys.length} users`,
      { context: { file, user: userId, traceUsers: keys.length } },
    );
  }
  const shown = keys.slice(0, 5).join(', ') + (keys.length > 5 ? ', ...' : '');
  throw new ConmigError(
    'TRACE_INVALID',
    `${file}: no trace user for scenario user ${userId}; expected a trace user of that name or an id ending in -<n> (trace users: ${shown})`,
    { context: { file, user: userId } },
  );
}

/**
 * Replays `points` (sorted, strictly increasing times): at the first point
 * until its time (a pause leg if it is after t = 0), then linear legs between
 * consecutive points, then null (the user stays at the last point). Fixes
 * before t = 0 cannot occur (times are >= 0 after parsing).
 */
export function traceSource(points: readonly TracePoint[]): LegSource {
  if (points.length === 0) throw new ConmigError('TRACE_INVALID', 'trace user has no points', {});
  const p0 = points[0];
  const start = { xM: p0.xM, yM: p0.yM };
  const cursor = new LegCursor(start);
  let k = 0; // index of the next point to arrive at
  return {
    start,
    next(): Leg | null {
      while (k < points.length) {
        const pt = points[k++];
        const to = pt.xM === cursor.pos.xM && pt.yM === cursor.pos.yM ? cursor.pos : { xM: pt.xM, yM: pt.yM };
        const leg = cursor.arriveAt(to, pt.timeUs);
        if (leg !== null) return leg;
      }
      return null;
    },
  };
}
