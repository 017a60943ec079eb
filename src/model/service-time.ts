/**
 * Service-time distributions: samplers for the simulator, and the first two
 * moments for queueing estimates.
 *
 *   exponential(mean)     E = mean,   SCV = 1
 *   deterministic(v)      E = v,      SCV = 0
 *   lognormal(mean, sd)   moment matching: σ² = ln(1 + sd²/mean²), μ = ln(mean) − σ²/2;
 *                         E = mean,   SCV = sd²/mean²
 *   empirical(samples)    uniform pick of a sample; E = sample mean,
 *                         SCV = population variance / mean²
 */
import { ConmigError } from './errors.ts';
import { exponential, standardNormal, type Rng } from './random.ts';
import type { ServiceTimeSpec } from './types.ts';

function invalid(message: string, spec: ServiceTimeSpec): ConmigError {
  return new ConmigError('SCENARIO_INVALID', `service time: ${message}`, { context: { kind: spec.kind } });
}

function checkSpec(spec: ServiceTimeSpec): void {
  switch (spec.kind) {
    case 'exponential':
      if (!(spec.meanMs > 0)) throw invalid(`meanMs must be > 0, got ${spec.meanMs}`, spec);
      return;
    case 'deterministic':
      if (!(spec.valueMs >= 0)) throw invalid(`valueMs must be >= 0, got ${spec.valueMs}`, spec);
      return;
    case 'lognormal':
      if (!(spec.meanMs > 0) || !(spec.sdMs >= 0)) {
        throw invalid(`lognormal needs meanMs > 0 and sdMs >= 0, got ${spec.meanMs}/${spec.sdMs}`, spec);
      }
      return;
    case 'empirical':
      if (spec.samplesMs.length === 0) throw invalid('empirical samplesMs is empty', spec);
      if (spec.samplesMs.some((x) => !(x >= 0))) throw invalid('empirical samples must be finite and >= 0', spec);
      return;
  }
}

/** A sampler of service times (ms, reference CPU) drawing from `rng`. */
export function createServiceTimeSampler(spec: ServiceTimeSpec, rng: Rng): () => number {
  checkSpec(spec);
  switch (spec.kind) {
    case 'exponential': {
      const mean = spec.meanMs;
      return () => exponential(rng, mean);
    }
    case 'deterministic': {
      const v = spec.valueMs;
      return () => v;
    }
    case 'lognormal': {
      const s2 = Math.log(1 + (spec.sdMs * spec.sdMs) / (spec.meanMs * spec.meanMs));
      const mu = Math.log(spec.meanMs) - s2 / 2;
      const sigma = Math.sqrt(s2);
      return () => Math.exp(mu + sigma * standardNormal(rng));
    }
    case 'empirical': {
      // Copy once: the sampler must not see later edits to the scenario's array.
      const xs = Float64Array.from(spec.samplesMs);
      const n = xs.length;
      return () => xs[Math.floor(rng() * n)];
    }
  }
}

export function serviceTimeMeanMs(spec: ServiceTimeSpec): number {
  switch (spec.kind) {
    case 'exponential':
    case 'lognormal':
      return spec.meanMs;
    case 'deterministic':
      return spec.valueMs;
    case 'empirical': {
      let sum = 0;
      for (const x of spec.samplesMs) sum += x;
      return sum / spec.samplesMs.length;
    }
  }
}

/** Squared coefficient of variation (variance / mean²). */
export function serviceTimeScv(spec: ServiceTimeSpec): number {
  switch (spec.kind) {
    case 'exponential':
      return 1;
    case 'deterministic':
      return 0;
    case 'lognormal':
      return (spec.sdMs * spec.sdMs) / (spec.meanMs * spec.meanMs);
    case 'empirical': {
      const mean = serviceTimeMeanMs(spec);
      let ss = 0;
      for (const x of spec.samplesMs) ss += (x - mean) * (x - mean);
      return ss / spec.samplesMs.length / (mean * mean);
    }
  }
}
