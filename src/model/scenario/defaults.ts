/**
 * Defaults of the scenario file format: the values a field takes when the
 * file leaves it out. The JSON Schema descriptions in schema.ts state the same
 * values; the test suite checks that resolving a minimal file yields these.
 */
import type { GeometricLatencyParams, MigrationMode, RequestSpec } from '../types.ts';

/** The migration cost constants are owned by the cost model; re-exported here for scenario readers. */
export { DEFAULT_MIGRATION_COST } from '../migration-cost.ts';

export const BUILTIN_POLICY_NAMES = ['never', 'nearest', 'threshold', 'traffic-aware'] as const;

export const SCENARIO_DEFAULTS = Object.freeze({
  description: '',
  mode: 'sim' as 'sim' | 'live',
  seed: 1,
  warmupS: 0,
  controlIntervalS: 1,
  metricsWindowS: 10,
  reportIntervalS: 10,
  qosThresholdMs: 100,
  migrationMode: 'cold' as MigrationMode,
  requestTrace: false,
  /** perUserSeries: auto = on when the scenario has at most this many users. */
  perUserSeriesAutoMaxUsers: 100,
});

export const DEFAULT_LATENCY: Readonly<GeometricLatencyParams> = Object.freeze({
  kind: 'geometric',
  accessBaseMs: 4,
  accessMsPerKm: 2,
});

export const NODE_DEFAULTS = Object.freeze({ backgroundLoad: 0, speedFactor: 1 });

export const USER_DEFAULTS = Object.freeze({ count: 1 });

export const DEFAULT_REQUESTS: Readonly<RequestSpec> = Object.freeze({
  ratePerS: 1,
  requestKiB: 50,
  responseKiB: 1,
  timeoutMs: 10_000,
});

export const MOBILITY_DEFAULTS = Object.freeze({
  pauseS: [0, 0] as readonly [number, number],
  turnProbability: 0.5,
  atEnd: 'stop' as 'stop' | 'bounce',
  traceFormat: 'csv' as 'csv' | 'cabspotting',
});

export const CONTAINER_DEFAULTS = Object.freeze({
  imageMiB: 0,
  dirtyRateMiBps: 0,
  idPrefix: 'c',
  placement: 'nearest' as const,
});

export const LIVE_DEFAULTS = Object.freeze({ timeScale: 1, onDowntime: 'retry' as 'retry' | 'fail' });
