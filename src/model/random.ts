/**
 * Seeded random streams. Each consumer (arrivals, service times, mobility of
 * one user, placement) draws from its own named stream, so adding a consumer
 * or changing one policy does not shift the numbers another consumer sees:
 * runs of different policies share their random inputs (common random numbers).
 */
import seedrandom from 'seedrandom';

/** Uniform on [0, 1). */
export type Rng = () => number;

export function createRng(seed: number, stream: string): Rng {
  // Alea: fast, good statistical quality, and stable across platforms.
  const prng = seedrandom.alea(`conmig:${seed}:${stream}`);
  return () => prng();
}

export function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng();
}

/** Exponential with the given mean; uses 1 - u so the log never sees 0. */
export function exponential(rng: Rng, mean: number): number {
  return -mean * Math.log(1 - rng());
}

/** Standard normal by Box-Muller (one of the pair is discarded for simplicity). */
export function standardNormal(rng: Rng): number {
  const u1 = 1 - rng();
  const u2 = rng();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}
