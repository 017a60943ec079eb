/**
 * The simulator against queueing theory. One node, c cores, Poisson arrivals,
 * network RTT exactly 0 (users on the node, zero access latency, zero payload),
 * no migrations: a request's response time is its FCFS queueing delay plus its
 * service time, so the mean must match M/M/1, M/M/c (Erlang C) and M/D/1
 * (Pollaczek–Khinchine).
 *
 * Tolerance: each run measures ~200,000 requests after a 100 s warm-up. The
 * response times of successive requests are correlated, so the standard error
 * (SE) of their mean is estimated by 20 batch means; the test accepts
 * |mean − theory| ≤ 4 SE (a false alarm has probability ~6e-5 per check) and
 * also requires SE ≤ 2.5% of the theoretical mean, so the check stays sharp
 * (4 SE ≤ 10%; in practice SE is 0.5–2%: ~2% at ρ = 0.8, where M/M/1 is
 * slowest to average). Each run takes well under a second.
 */
import { describe, expect, it } from 'vitest';
import { neverPolicy } from '../../src/model/policies/index.ts';
import { erlangC, mm1MeanResponseMs, mmcMeanResponseMs } from '../../src/model/queueing.ts';
import type { ServiceTimeSpec } from '../../src/model/types.ts';
import { batchMeans, makeScenario, simulateWithTrace } from './helpers.ts';

const MEAN_SERVICE_MS = 10;
const REQUESTS = 200_000;
const WARMUP_S = 100;
const SEED = 7;

function runQueue(cores: number, rho: number, serviceTime: ServiceTimeSpec) {
  const ratePerS = (rho * cores * 1000) / MEAN_SERVICE_MS;
  const scenario = makeScenario({
    cores,
    ratePerS,
    serviceTime,
    warmupS: WARMUP_S,
    durationS: WARMUP_S + Math.round(REQUESTS / ratePerS),
    reportIntervalS: 100,
    controlIntervalS: 10,
  });
  const { result, requests } = simulateWithTrace(scenario, neverPolicy.create(), SEED);
  const responses = requests.map((r) => r.responseMs);
  return { result, requests, lambdaPerMs: ratePerS / 1000, ...batchMeans(responses, 20) };
}

function expectWithinSe(mean: number, se: number, theory: number): void {
  expect(se).toBeLessThanOrEqual(0.025 * theory);
  expect(Math.abs(mean - theory)).toBeLessThanOrEqual(4 * se);
}

describe('queueing validation (network RTT 0, one container, never migrate)', () => {
  it.each([0.5, 0.8])('M/M/1 at rho = %s: mean response = S / (1 - rho)', (rho) => {
    const run = runQueue(1, rho, { kind: 'exponential', meanMs: MEAN_SERVICE_MS });
    const s = run.result.summary;
    // The set-up is what the formulas assume.
    expect(s.componentsMeanMs.network).toBe(0);
    expect(s.componentsMeanMs.migrationWait).toBe(0);
    expect(s.requests.failed).toBe(0);
    expect(run.requests.length).toBeGreaterThan(0.95 * REQUESTS);
    // The summary's mean is the exact mean of the served requests.
    expect(s.responseMs.meanMs).toBeCloseTo(run.requests.reduce((a, r) => a + r.responseMs, 0) / run.requests.length, 6);
    const theory = mm1MeanResponseMs(run.lambdaPerMs, MEAN_SERVICE_MS);
    expect(theory).toBeCloseTo(MEAN_SERVICE_MS / (1 - rho), 9);
    expectWithinSe(run.mean, run.se, theory);
    // Service demand and utilisation: exact up to sampling noise (SE of the mean service ≈ S/sqrt(n) ≈ 0.2%).
    expect(Math.abs(s.componentsMeanMs.service / MEAN_SERVICE_MS - 1)).toBeLessThan(0.01);
    expect(Math.abs(s.nodes.meanUtilisation / rho - 1)).toBeLessThan(0.03);
  });

  it('M/M/c with c = 4 at rho = 0.7: mean response from Erlang C', () => {
    const run = runQueue(4, 0.7, { kind: 'exponential', meanMs: MEAN_SERVICE_MS });
    const theory = mmcMeanResponseMs(4, run.lambdaPerMs, MEAN_SERVICE_MS);
    // Hand check of the formula at this point: a = 2.8 Erlangs, C(4, 2.8) = (a^4/4!)(4/1.2) / (Σ_{k<4} a^k/k! + (a^4/4!)(4/1.2)) = 8.537 / 19.916 ≈ 0.42866, W = 10 + C·10/1.2.
    expect(erlangC(4, 2.8)).toBeCloseTo(0.42866, 4);
    expect(theory).toBeCloseTo(10 + (erlangC(4, 2.8) * 10) / 1.2, 9);
    expectWithinSe(run.mean, run.se, theory);
    // Far from four separate M/M/1 queues at the same load (W = 33 ms): the cores share one queue.
    expect(run.mean).toBeLessThan(20);
    // Probability of waiting at all ≈ Erlang C (a binomial proportion, but correlated: allow 0.03).
    const waited = run.requests.filter((r) => r.queueMs > 0).length / run.requests.length;
    expect(Math.abs(waited - erlangC(4, 2.8))).toBeLessThan(0.03);
  });

  it('M/D/1 at rho = 0.7: Pollaczek–Khinchine W = rho S / (2 (1 - rho)) + S', () => {
    const rho = 0.7;
    const run = runQueue(1, rho, { kind: 'deterministic', valueMs: MEAN_SERVICE_MS });
    const theory = (rho * MEAN_SERVICE_MS) / (2 * (1 - rho)) + MEAN_SERVICE_MS;
    expectWithinSe(run.mean, run.se, theory);
    // Deterministic service is exactly S for every request, so the queueing part alone carries the variance.
    expect(run.requests.every((r) => r.serviceMs === MEAN_SERVICE_MS)).toBe(true);
    // And it is half the M/M/1 wait: clearly below M/M/1's 33.3 ms.
    expect(run.mean).toBeLessThan(mm1MeanResponseMs(run.lambdaPerMs, MEAN_SERVICE_MS) - 8);
  });
});
