/**
 * Synthetic traces in both file formats, for the sample traces shipped with
 * the scenarios (scenarios/traces/, written by scenarios/traces/generate.ts)
 * and for tests. Pure: returns file contents; deterministic by seed.
 *
 * Users start at a seeded uniform position, drive a Manhattan grid (the
 * manhattan model of this package) and are sampled at a fixed interval, like
 * a GPS logger.
 */
import { createRng } from '../model/random.ts';
import type { Point } from '../model/types.ts';
import { positionAt, US_PER_S } from './legs.ts';
import { createLegSource } from './source.ts';
import { EARTH_RADIUS_M } from './trace.ts';
import type { Leg, LegSource } from './types.ts';

export interface SyntheticTraceOptions {
  seed: number;
  users: number;
  /** User keys are `${prefix}${k}`, k = 0..users-1. */
  prefix: string;
  areaM: { width: number; height: number };
  blockM: number;
  speedMps: [number, number];
  durationS: number;
  sampleEveryS: number;
}

/** Positions of one synthetic user at t = 0, Δ, 2Δ, ... <= durationS. */
function sampleUser(opts: SyntheticTraceOptions, key: string): Array<{ timeS: number; p: Point }> {
  const startRng = createRng(opts.seed, `synthetic-start:${key}`);
  const src: LegSource = createLegSource(
    {
      id: key,
      start: { xM: startRng() * opts.areaM.width, yM: startRng() * opts.areaM.height },
      mobility: { kind: 'manhattan', blockM: opts.blockM, speedMps: opts.speedMps, turnProbability: 0.5, pauseS: [0, 20] },
      requests: { ratePerS: 0, requestKiB: 0, responseKiB: 0, timeoutMs: 0 },
    },
    { areaM: opts.areaM, seed: opts.seed },
  );
  const out: Array<{ timeS: number; p: Point }> = [];
  let leg: Leg | null = src.next();
  let last = src.start;
  for (let timeS = 0; timeS <= opts.durationS; timeS += opts.sampleEveryS) {
    const tUs = Math.round(timeS * US_PER_S);
    while (leg !== null && leg.endUs < tUs) {
      last = leg.to;
      leg = src.next();
    }
    out.push({ timeS, p: leg === null || tUs < leg.startUs ? last : positionAt(leg, tUs) });
  }
  return out;
}

const r2 = (v: number): string => (Math.round(v * 100) / 100).toString();

/** A csv trace (`user,time,x,y`), rows ordered by time then user. */
export function synthesizeCsvTrace(opts: SyntheticTraceOptions): string {
  const perUser = Array.from({ length: opts.users }, (_, k) => sampleUser(opts, `${opts.prefix}${k}`));
  const lines = ['user,time,x,y'];
  const n = perUser[0]?.length ?? 0;
  for (let s = 0; s < n; s++) {
    perUser.forEach((samples, k) => {
      const { timeS, p } = samples[s];
      lines.push(`${opts.prefix}${k},${timeS},${r2(p.xM)},${r2(p.yM)}`);
    });
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Cabspotting files (`lat lon occupied unix_time`, newest first), one per
 * cab, keyed by file name `new_<prefix><k>.txt`. Metres are placed around
 * (originLat, originLon) with the inverse of the equirectangular projection;
 * the occupied flag toggles every 10 samples.
 */
export function synthesizeCabspotting(
  opts: SyntheticTraceOptions & { originLatDeg: number; originLonDeg: number; startUnixS: number },
): Map<string, string> {
  const rad = Math.PI / 180;
  const kx = EARTH_RADIUS_M * Math.cos(opts.originLatDeg * rad) * rad;
  const ky = EARTH_RADIUS_M * rad;
  const files = new Map<string, string>();
  for (let k = 0; k < opts.users; k++) {
    const key = `${opts.prefix}${k}`;
    const lines = sampleUser(opts, key).map(({ timeS, p }, s) => {
      const lat = opts.originLatDeg + p.yM / ky;
      const lon = opts.originLonDeg + p.xM / kx;
      const occupied = Math.floor(s / 10) % 2;
      return `${lat.toFixed(5)} ${lon.toFixed(5)} ${occupied} ${opts.startUnixS + Math.round(timeS)}`;
    });
    files.set(`new_${key}.txt`, `${lines.reverse().join('\n')}\n`);
  }
  return files;
}

/** Options of the shipped sample scenarios/traces/city-taxis.csv. */
export const SAMPLE_CSV: SyntheticTraceOptions = {
  seed: 1,
  users: 10,
  prefix: 'taxi-',
  areaM: { width: 4000, height: 4000 },
  blockM: 250,
  speedMps: [5, 15],
  durationS: 600,
  sampleEveryS: 10,
};

/** Options of the shipped sample scenarios/traces/cabspotting/. */
export const SAMPLE_CABSPOTTING = {
  seed: 2,
  users: 3,
  prefix: 'cab',
  areaM: { width: 4000, height: 4000 },
  blockM: 250,
  speedMps: [5, 15] as [number, number],
  durationS: 900,
  sampleEveryS: 30,
  originLatDeg: 37.7599,
  originLonDeg: -122.4448,
  startUnixS: 1_211_018_404,
};
