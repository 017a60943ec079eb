/**
 * The column contract of each CSV file of a run folder (see
 * src/model/results.ts): column order, number format and allowed values.
 * Writers print these columns in this order; readers require them (in any
 * order; extra columns are ignored).
 */
import type {
  HistogramBucketRow,
  MigrationRecord,
  NodeLoadRow,
  RequestRecord,
  RunData,
  TimeseriesRow,
  UserSeriesRow,
} from '../model/results.ts';
import { roundAsCsv, type ColumnSpec } from './csv.ts';

export const RESULT_FILES = {
  summary: 'summary.json',
  timeseries: 'timeseries.csv',
  histogram: 'latency-hist.csv',
  migrations: 'migrations.csv',
  nodeLoad: 'node-load.csv',
  userSeries: 'user-series.csv',
  requests: 'requests.csv',
} as const;

export const TIMESERIES_COLUMNS: readonly ColumnSpec<TimeseriesRow>[] = [
  { key: 'windowStartS', kind: 'time' },
  { key: 'requests', kind: 'int' },
  { key: 'failed', kind: 'int' },
  { key: 'meanMs', kind: 'num' },
  { key: 'p50Ms', kind: 'num' },
  { key: 'p95Ms', kind: 'num' },
  { key: 'p99Ms', kind: 'num' },
  { key: 'networkMeanMs', kind: 'num' },
  { key: 'queueMeanMs', kind: 'num' },
  { key: 'serviceMeanMs', kind: 'num' },
  { key: 'migrationWaitMeanMs', kind: 'num' },
  { key: 'overQosFraction', kind: 'num' },
  { key: 'migrationsStarted', kind: 'int' },
];

export const HISTOGRAM_COLUMNS: readonly ColumnSpec<HistogramBucketRow>[] = [
  { key: 'lowerMs', kind: 'exact' },
  { key: 'upperMs', kind: 'exact' },
  { key: 'count', kind: 'int' },
];

export const MIGRATION_COLUMNS: readonly ColumnSpec<MigrationRecord>[] = [
  { key: 'id', kind: 'int' },
  { key: 'containerId', kind: 'str' },
  { key: 'from', kind: 'str' },
  { key: 'to', kind: 'str' },
  { key: 'mode', kind: 'enum', values: ['cold', 'precopy', 'postcopy'] },
  { key: 'reason', kind: 'str' },
  { key: 'startS', kind: 'time' },
  { key: 'precopyRounds', kind: 'int' },
  { key: 'precopyMs', kind: 'num' },
  { key: 'checkpointMs', kind: 'num' },
  { key: 'transferMs', kind: 'num' },
  { key: 'restoreMs', kind: 'num' },
  { key: 'lazyPagesMs', kind: 'num' },
  { key: 'downtimeMs', kind: 'num' },
  { key: 'totalMs', kind: 'num' },
  { key: 'bytes', kind: 'int' },
  { key: 'status', kind: 'enum', values: ['ok', 'failed', 'rolled-back', 'unfinished'] },
  { key: 'transport', kind: 'enum', values: ['disk', 'stream'], optional: true },
];

export const NODE_LOAD_COLUMNS: readonly ColumnSpec<NodeLoadRow>[] = [
  { key: 'windowStartS', kind: 'time' },
  { key: 'nodeId', kind: 'str' },
  { key: 'utilisation', kind: 'num' },
  { key: 'requests', kind: 'int' },
  { key: 'containers', kind: 'int' },
  { key: 'memoryUsedMiB', kind: 'num' },
  { key: 'meanQueueMs', kind: 'num' },
];

export const USER_SERIES_COLUMNS: readonly ColumnSpec<UserSeriesRow>[] = [
  { key: 'windowStartS', kind: 'time' },
  { key: 'userId', kind: 'str' },
  { key: 'requests', kind: 'int' },
  { key: 'meanMs', kind: 'num' },
  { key: 'nodeId', kind: 'str' },
];

export const REQUEST_COLUMNS: readonly ColumnSpec<RequestRecord>[] = [
  { key: 'userId', kind: 'str' },
  { key: 'containerId', kind: 'str' },
  { key: 'nodeId', kind: 'str' },
  { key: 'sentS', kind: 'time' },
  { key: 'status', kind: 'enum', values: ['served', 'failed'] },
  { key: 'responseMs', kind: 'num' },
  { key: 'networkMs', kind: 'num' },
  { key: 'queueMs', kind: 'num' },
  { key: 'serviceMs', kind: 'num' },
  { key: 'migrationWaitMs', kind: 'num' },
];

function roundRows<T>(rows: readonly T[], columns: readonly ColumnSpec<T>[]): T[] {
  return rows.map((r) => {
    const out = { ...r };
    for (const c of columns) {
      const v = out[c.key] as unknown;
      if (typeof v === 'number') (out as Record<string, unknown>)[c.key] = roundAsCsv(v, c.kind);
    }
    return out;
  });
}

/**
 * RunData as it will read back after writeRun: CSV numbers rounded the way
 * the files print them (summary.json keeps full precision; NaN/±Infinity in
 * it read back as NaN). Lets a producer compare its in-memory result with a folder.
 */
export function normalizeRunData(data: RunData): RunData {
  return {
    summary: data.summary,
    timeseries: roundRows(data.timeseries, TIMESERIES_COLUMNS),
    histogram: roundRows(data.histogram, HISTOGRAM_COLUMNS),
    migrations: roundRows(data.migrations, MIGRATION_COLUMNS),
    nodeLoad: roundRows(data.nodeLoad, NODE_LOAD_COLUMNS),
    userSeries: data.userSeries === null ? null : roundRows(data.userSeries, USER_SERIES_COLUMNS),
  };
}
