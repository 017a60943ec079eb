/**
 * Units and their conversions, in one place. Names carry their unit
 * (memoryMiB, bytes, latencyMs, timeUs); simulated time is integer
 * microseconds, and these constants convert between the units names say.
 */

export const BYTES_PER_KIB = 1024;
export const BYTES_PER_MIB = 1024 * 1024;

export const US_PER_MS = 1000;
export const US_PER_S = 1_000_000;
export const MS_PER_S = 1000;

/** MiB -> Mbit, exactly (1 MiB = 8 * 1.048576 Mbit). */
export function mibToMegabits(mib: number): number {
  return mib * 8 * 1.048576;
}

/** Bytes -> MiB. */
export function bytesToMiB(bytes: number): number {
  return bytes / BYTES_PER_MIB;
}
