/**
 * summary.json: a fixed key order for writing and a zod schema for reading.
 * Numbers are printed as JS prints them; NaN and ±Infinity become null and
 * read back as NaN (e.g. the mean latency of a run that served nothing).
 *
 * Still conmig-result/1 with qos.violations, qos.counted and
 * migrations.unfinished added: the additions are new keys (a reader that does
 * not know them ignores them, as zod objects do), and a folder written before
 * them reads here with what can be said of it: its fractionOver was over the
 * served requests, so counted = served and violations = fractionOver x served;
 * migrations.unfinished is NaN (readRun counts it from migrations.csv).
 */
import { z } from 'zod';
import { RESULT_SCHEMA, type LatencySummary, type RunSummary } from '../model/results.ts';

/** A number that may have been written as null (NaN/Infinity); reads back as NaN. */
const num = z
  .number()
  .nullable()
  .transform((v) => (v === null ? NaN : v));
const count = z.number().int().nonnegative();
const record = z.record(z.string(), z.unknown());

const latencySummary = z.object({
  count,
  meanMs: num,
  minMs: num,
  p50Ms: num,
  p90Ms: num,
  p95Ms: num,
  p99Ms: num,
  maxMs: num,
});

export const runSummarySchema = z.object({
  schema: z.literal(RESULT_SCHEMA),
  mode: z.enum(['sim', 'live']),
  scenario: z.object({ name: z.string(), hash: z.string(), file: z.string() }),
  policy: z.object({ name: z.string(), params: record }),
  seed: z.number().int(),
  durationS: num,
  warmupS: num,
  qosThresholdMs: num,
  requests: z.object({ generated: count, served: count, failed: count, unfinished: count }),
  responseMs: latencySummary,
  componentsMeanMs: z.object({ network: num, queue: num, service: num, migrationWait: num }),
  qos: z.object({ thresholdMs: num, fractionOver: num, violations: count.optional(), counted: count.optional() }),
  migrations: z.object({
    count,
    failed: count,
    unfinished: count.optional(),
    bytesTotal: z.number().nonnegative(),
    downtimeMs: z.object({ mean: num, p95: num, max: num }),
    totalMs: z.object({ mean: num, max: num }),
  }),
  nodes: z.object({ meanUtilisation: num, maxUtilisation: num }),
  environment: record.optional(),
}).transform((s) => {
  const { violations, counted, ...qos } = s.qos;
  const { unfinished, ...migrations } = s.migrations;
  // An older folder (see above): its fraction was over the served requests.
  const old = violations === undefined || counted === undefined;
  return {
    ...s,
    qos: {
      ...qos,
      violations: old ? Math.round(qos.fractionOver * s.requests.served) || 0 : violations,
      counted: old ? s.requests.served : counted,
    },
    migrations: { ...migrations, unfinished: unfinished ?? Number.NaN },
  };
});

// Compile-time check that the schema's output is exactly a RunSummary.
type Parsed = z.output<typeof runSummarySchema>;
const _schemaMatches: [Parsed extends RunSummary ? true : false, RunSummary extends Parsed ? true : false] = [true, true];
void _schemaMatches;

/** Objects of unknown shape (policy params, environment): keys sorted, recursively. */
function sortKeysDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeysDeep);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeysDeep((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

function orderLatency(l: LatencySummary): LatencySummary {
  return {
    count: l.count,
    meanMs: l.meanMs,
    minMs: l.minMs,
    p50Ms: l.p50Ms,
    p90Ms: l.p90Ms,
    p95Ms: l.p95Ms,
    p99Ms: l.p99Ms,
    maxMs: l.maxMs,
  };
}

/** A copy of the summary with keys in the documented order (the order of RunSummary). */
export function orderSummary(s: RunSummary): RunSummary {
  const out: RunSummary = {
    schema: s.schema,
    mode: s.mode,
    scenario: { name: s.scenario.name, hash: s.scenario.hash, file: s.scenario.file },
    policy: { name: s.policy.name, params: sortKeysDeep(s.policy.params) as Record<string, unknown> },
    seed: s.seed,
    durationS: s.durationS,
    warmupS: s.warmupS,
    qosThresholdMs: s.qosThresholdMs,
    requests: {
      generated: s.requests.generated,
      served: s.requests.served,
      failed: s.requests.failed,
      unfinished: s.requests.unfinished,
    },
    responseMs: orderLatency(s.responseMs),
    componentsMeanMs: {
      network: s.componentsMeanMs.network,
      queue: s.componentsMeanMs.queue,
      service: s.componentsMeanMs.service,
      migrationWait: s.componentsMeanMs.migrationWait,
    },
    qos: { thresholdMs: s.qos.thresholdMs, fractionOver: s.qos.fractionOver, violations: s.qos.violations, counted: s.qos.counted },
    migrations: {
      count: s.migrations.count,
      failed: s.migrations.failed,
      unfinished: s.migrations.unfinished,
      bytesTotal: s.migrations.bytesTotal,
      downtimeMs: {
        mean: s.migrations.downtimeMs.mean,
        p95: s.migrations.downtimeMs.p95,
        max: s.migrations.downtimeMs.max,
      },
      totalMs: { mean: s.migrations.totalMs.mean, max: s.migrations.totalMs.max },
    },
    nodes: { meanUtilisation: s.nodes.meanUtilisation, maxUtilisation: s.nodes.maxUtilisation },
  };
  if (s.environment !== undefined) out.environment = sortKeysDeep(s.environment) as Record<string, unknown>;
  return out;
}

/** summary.json text: 2-space JSON, fixed key order, NaN/±Infinity as null, `\n` at the end. */
export function formatSummaryJson(s: RunSummary): string {
  return JSON.stringify(orderSummary(s), null, 2) + '\n';
}
