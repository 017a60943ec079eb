/**
 * Steady-state queueing formulas (Poisson arrivals). Rates are per ms and times
 * in ms so that λ·S is the offered load in Erlangs. Every mean wait or response
 * is Infinity when the utilisation ρ = λS/c is ≥ 1 (no steady state).
 *
 *   Erlang B recursion   B(0) = 1,  B(k) = a B(k−1) / (k + a B(k−1))
 *   Erlang C             C(c, a) = c B(c) / (c − a (1 − B(c)))          (a < c)
 *   M/M/c                Wq = C(c, a) S / (c − a),   W = Wq + S
 *   M/M/1                W = S / (1 − ρ)
 *   M/G/c (Allen–Cunneen, Poisson arrivals so c_a² = 1)
 *                        Wq ≈ Wq(M/M/c) · (1 + c_s²) / 2,   W = Wq + S
 *
 * The recursion avoids the factorials of the textbook form, so it is stable for
 * hundreds of servers.
 */
import { ConmigError } from './errors.ts';

function checkServers(c: number): void {
  if (!Number.isInteger(c) || c < 1) {
    throw new ConmigError('SIM_INVARIANT', `queueing: server count must be a positive integer, got ${c}`, {
      context: { servers: c },
    });
  }
}

/** Probability that an arrival waits in M/M/c with offered load a = λS Erlangs (1 when a ≥ c). */
export function erlangC(c: number, offeredLoadErlangs: number): number {
  checkServers(c);
  const a = offeredLoadErlangs;
  if (a <= 0) return 0;
  if (a >= c) return 1;
  let b = 1;
  for (let k = 1; k <= c; k++) b = (a * b) / (k + a * b);
  return (c * b) / (c - a * (1 - b));
}

export function mmcMeanWaitMs(c: number, lambdaPerMs: number, meanServiceMs: number): number {
  const a = lambdaPerMs * meanServiceMs;
  checkServers(c);
  if (a >= c) return Infinity;
  if (a <= 0) return 0;
  return (erlangC(c, a) * meanServiceMs) / (c - a);
}

export function mmcMeanResponseMs(c: number, lambdaPerMs: number, meanServiceMs: number): number {
  return mmcMeanWaitMs(c, lambdaPerMs, meanServiceMs) + meanServiceMs;
}

export function mm1MeanResponseMs(lambdaPerMs: number, meanServiceMs: number): number {
  const rho = lambdaPerMs * meanServiceMs;
  if (rho >= 1) return Infinity;
  return meanServiceMs / (1 - rho);
}

/** Allen–Cunneen M/G/c mean wait; `scv` is the service time's squared coefficient of variation. */
export function mgcMeanWaitMs(c: number, lambdaPerMs: number, meanServiceMs: number, scv: number): number {
  const wq = mmcMeanWaitMs(c, lambdaPerMs, meanServiceMs);
  return wq === Infinity ? Infinity : (wq * (1 + scv)) / 2;
}

export function mgcMeanResponseMs(c: number, lambdaPerMs: number, meanServiceMs: number, scv: number): number {
  return mgcMeanWaitMs(c, lambdaPerMs, meanServiceMs, scv) + meanServiceMs;
}
