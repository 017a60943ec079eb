/**
 * Compare runs of one scenario (pure): any mix of simulated and live results.
 *
 * The first run is the reference (put the live run first): every other run's
 * percentiles, distribution and migration costs are judged against it.
 *
 *  - Percentiles p50/p90/p95/p99 per run with a 95% CI: exact order statistics
 *    when the run carries its served response times (`samplesMs`, from
 *    requests.csv), otherwise from latency-hist.csv (binomial ranks mapped to
 *    bucket bounds; see stats.ts).
 *  - Verdict per percentile: |relative error vs the reference| <= percentileRel.
 *  - Distribution: two-sample KS D (exact when both runs carry samples, else
 *    on the bucket CDFs, a lower bound). Verdict on D <= ksD, not on the
 *    p-value: with thousands of requests any real difference is "significant",
 *    and the question here is whether it is small.
 *  - Migrations: the k-th migration of container c in one run is paired with
 *    the k-th migration of c in the other (status ok only). Verdict on the mean
 *    |relative error| of downtime <= downtimeRel; the worst is reported.
 */
import { ConmigError } from '../model/errors.ts';
import {
  COMPARED_PERCENTILES,
  type ComparableRun,
  type CompareOptions,
  type ComparisonResult,
  type KsComparison,
  type MigrationComparison,
  type PercentileComparison,
  type RunStats,
  type ScenarioDifference,
  type Verdict,
  type VerdictValue,
} from './compare-types.ts';
import { pairMigrations } from './pairing.ts';
import { ksHistograms, ksTwoSample, pairedRelativeErrors, percentileFromHistogram, percentileFromSamples, relativeError } from './stats.ts';
import { DEFAULT_TOLERANCE, type CompareTolerance } from './tolerance.ts';

export * from './compare-types.ts';
export { pairMigrations } from './pairing.ts';
export { DEFAULT_TOLERANCE, type CompareTolerance } from './tolerance.ts';

export function percentileName(q: number): string {
  return `p${Math.round(q * 100)}`;
}

function pct(x: number, digits = 1): string {
  return `${(x * 100).toFixed(digits)}%`;
}

/** Tolerances print without trailing zeros: 0.1 -> "10%", 0.125 -> "12.5%". */
function tolPct(x: number): string {
  return `${Number((x * 100).toFixed(3))}%`;
}

function verdictWord(v: VerdictValue): string {
  return v === 'agree' ? 'the runs agree' : 'the runs disagree';
}

/** How the runs' scenarios differ (fields with more than one distinct value). */
export function scenarioDifferences(runs: readonly ComparableRun[]): ScenarioDifference[] {
  const fields: Array<[ScenarioDifference['field'], (r: ComparableRun) => string]> = [
    ['hash', (r) => r.summary.scenario.hash],
    ['name', (r) => r.summary.scenario.name],
    ['policy', (r) => `${r.summary.policy.name}${Object.keys(r.summary.policy.params).length ? ' ' + JSON.stringify(r.summary.policy.params) : ''}`],
    ['seed', (r) => String(r.summary.seed)],
    ['durationS', (r) => String(r.summary.durationS)],
    ['mode', (r) => r.summary.mode],
  ];
  const out: ScenarioDifference[] = [];
  for (const [field, get] of fields) {
    const values = runs.map(get);
    if (new Set(values).size > 1) out.push({ field, values });
  }
  return out;
}

function runStats(run: ComparableRun, level: number): RunStats {
  const s = run.summary;
  const useSamples = run.samplesMs !== undefined && run.samplesMs.length > 0;
  const exact = { minMs: s.responseMs.minMs, maxMs: s.responseMs.maxMs };
  const percentiles = COMPARED_PERCENTILES.map((q) =>
    useSamples ? percentileFromSamples(run.samplesMs as Float64Array, q, level) : percentileFromHistogram(run.histogram, q, level, exact),
  );
  return {
    label: run.label,
    dir: run.dir,
    mode: s.mode,
    policy: s.policy.name,
    seed: s.seed,
    count: useSamples ? (run.samplesMs as Float64Array).length : s.responseMs.count,
    meanMs: s.responseMs.meanMs,
    source: useSamples ? 'samples' : 'histogram',
    percentiles,
    migrations: s.migrations.count,
  };
}

export function compareRuns(runs: readonly ComparableRun[], opts: CompareOptions = {}): ComparisonResult {
  if (runs.length < 2) {
    throw new ConmigError('USAGE', `compare needs at least two runs, got ${runs.length}`, {
      context: { runs: runs.map((r) => r.dir) },
    });
  }
  const tolerance: CompareTolerance = { ...DEFAULT_TOLERANCE, ...opts.tolerance };
  for (const [k, v] of Object.entries(tolerance)) {
    if (!(v > 0)) throw new ConmigError('USAGE', `tolerance ${k} must be a positive number, got ${v}`, { context: { [k]: v } });
  }
  const level = opts.level ?? 0.95;
  const differences = scenarioDifferences(runs);
  const sameScenario = !differences.some((d) => d.field === 'hash');
  if (!sameScenario && !opts.allowMismatch) {
    throw mismatchError(runs, differences);
  }
  for (const r of runs) {
    if (r.summary.responseMs.count === 0 && !(r.samplesMs && r.samplesMs.length > 0)) {
      throw new ConmigError('RESULT_INVALID', `run ${r.label} served no requests after warm-up: nothing to compare`, {
        context: { dir: r.dir },
      });
    }
  }

  const ref = runs[0];
  const stats = runs.map((r) => runStats(r, level));
  const percentiles: PercentileComparison[] = [];
  const ks: KsComparison[] = [];
  const migrations: MigrationComparison[] = [];
  const verdicts: Verdict[] = [];

  for (let i = 1; i < runs.length; i++) {
    const run = runs[i];
    const base = { run: run.label, reference: ref.label };
    // Percentiles.
    COMPARED_PERCENTILES.forEach((q, qi) => {
      const refMs = stats[0].percentiles[qi].valueMs;
      const valueMs = stats[i].percentiles[qi].valueMs;
      const relError = relativeError(valueMs, refMs);
      percentiles.push({ q, run: run.label, referenceMs: refMs, valueMs, relError });
      const name = percentileName(q);
      const verdict: VerdictValue = !Number.isFinite(relError) ? 'n/a' : Math.abs(relError) <= tolerance.percentileRel ? 'agree' : 'disagree';
      verdicts.push({
        metric: name,
        ...base,
        verdict,
        value: relError,
        tolerance: tolerance.percentileRel,
        sentence:
          verdict === 'n/a'
            ? `${name} of the reference is 0 ms: no relative error`
            : `${name} differs by ${pct(Math.abs(relError))} (tolerance ${tolPct(tolerance.percentileRel)}): ${verdictWord(verdict)}`,
      });
    });
    // Distribution.
    const bothSamples = (ref.samplesMs?.length ?? 0) > 0 && (run.samplesMs?.length ?? 0) > 0;
    const k = bothSamples ? ksTwoSample(ref.samplesMs as Float64Array, run.samplesMs as Float64Array) : ksHistograms(ref.histogram, run.histogram);
    ks.push({ ...k, ...base });
    const kv: VerdictValue = k.d <= tolerance.ksD ? 'agree' : 'disagree';
    verdicts.push({
      metric: 'distribution',
      ...base,
      verdict: kv,
      value: k.d,
      tolerance: tolerance.ksD,
      sentence:
        `response-time distributions differ by KS D = ${k.d.toFixed(3)}` +
        `${k.method === 'histogram-lower-bound' ? ' (from histograms, a lower bound)' : ''}` +
        ` (tolerance ${tolerance.ksD}, p = ${formatP(k.pValue)}): ${verdictWord(kv)}`,
    });
    // Migrations.
    const paired = pairMigrations(ref.migrations, run.migrations);
    const refOf = paired.pairs.map((p) => p.reference);
    const othOf = paired.pairs.map((p) => p.other);
    const mc: MigrationComparison = {
      ...base,
      ...paired,
      downtime: pairedRelativeErrors(othOf.map((m) => m.downtimeMs), refOf.map((m) => m.downtimeMs)),
      total: pairedRelativeErrors(othOf.map((m) => m.totalMs), refOf.map((m) => m.totalMs)),
      bytes: pairedRelativeErrors(othOf.map((m) => m.bytes), refOf.map((m) => m.bytes)),
    };
    migrations.push(mc);
    const unpaired = paired.unpairedReference + paired.unpairedOther;
    const unpairedNote = unpaired > 0 ? `; ${paired.unpairedReference} + ${paired.unpairedOther} migrations had no partner` : '';
    if (mc.downtime.n === 0) {
      verdicts.push({
        metric: 'downtime',
        ...base,
        verdict: 'n/a',
        value: NaN,
        tolerance: tolerance.downtimeRel,
        sentence: `no migrations to pair${unpairedNote}`,
      });
    } else {
      const dv: VerdictValue = mc.downtime.meanAbsRel <= tolerance.downtimeRel ? 'agree' : 'disagree';
      verdicts.push({
        metric: 'downtime',
        ...base,
        verdict: dv,
        value: mc.downtime.meanAbsRel,
        tolerance: tolerance.downtimeRel,
        sentence:
          `migration downtime differs by ${pct(mc.downtime.meanAbsRel)} on average, ${pct(mc.downtime.worstAbsRel)} at worst, ` +
          `over ${mc.downtime.n} paired migrations (tolerance ${tolPct(tolerance.downtimeRel)}): ${verdictWord(dv)}${unpairedNote}`,
      });
    }
  }

  return {
    reference: ref.label,
    sameScenario,
    differences,
    tolerance,
    level,
    runs: stats,
    percentiles,
    ks,
    migrations,
    verdicts,
    agree: verdicts.every((v) => v.verdict !== 'disagree'),
  };
}

function formatP(p: number): string {
  if (p >= 0.001) return p.toFixed(3);
  return p === 0 ? '< 1e-300' : p.toExponential(1);
}

function mismatchError(runs: readonly ComparableRun[], differences: ScenarioDifference[]): ConmigError {
  const hash = differences.find((d) => d.field === 'hash') as ScenarioDifference;
  const ref = runs[0];
  const odd = runs.find((r) => r.summary.scenario.hash !== ref.summary.scenario.hash) as ComparableRun;
  const listed = differences
    .filter((d) => d.field !== 'hash')
    .map((d) => `${d.field} (${d.values.join(' vs ')})`)
    .join(', ');
  return new ConmigError(
    'RESULT_MISMATCH',
    `${ref.dir} and ${odd.dir} are runs of different scenarios (scenario hash ${short(ref.summary.scenario.hash)} vs ${short(odd.summary.scenario.hash)})` +
      `${listed ? `; they differ in ${listed}` : ''}. Use --allow-mismatch to compare them anyway.`,
    {
      context: {
        runs: runs.map((r) => r.dir),
        hashes: hash.values,
        differences: Object.fromEntries(differences.map((d) => [d.field, d.values])),
      },
    },
  );
}

function short(hash: string): string {
  return hash.length > 12 ? hash.slice(0, 12) : hash;
}
