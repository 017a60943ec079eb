/**
 * Fixture runs built in code: one scenario, two policies ('never', 'nearest'),
 * 6 report windows of 10 s, 3 nodes, 2 users / 2 containers, a few migrations.
 * Deterministic; numbers have few digits so a CSV round trip is exact.
 */
import { LatencyHistogram, latencySummary } from '../../src/model/histogram.ts';
import { RESULT_SCHEMA, type MigrationRecord, type RunData, type TimeseriesRow } from '../../src/model/results.ts';

const NODES = ['edge-a', 'edge-b', 'edge-c'];
const USERS = ['u1', 'u2'];
const WINDOWS = 6;
const REPORT_S = 10;
export const FIXTURE_QOS_MS = 50;

function round(x: number, digits = 3): number {
  return Number(x.toFixed(digits));
}

export function fixtureRun(policy: 'never' | 'nearest'): RunData {
  const migrate = policy === 'nearest';
  const hist = new LatencyHistogram();
  const timeseries: TimeseriesRow[] = [];
  let lcg = policy === 'never' ? 7 : 11;
  const rand = (): number => {
    lcg = (lcg * 1103515245 + 12345) % 2147483648;
    return lcg / 2147483648;
  };
  for (let w = 0; w < WINDOWS; w++) {
    const wh = new LatencyHistogram();
    const base = migrate ? 20 + (w === 2 ? 30 : 0) : 20 + 8 * w;
    for (let i = 0; i < 200; i++) wh.record(round(base + 40 * rand() ** 3, 2));
    hist.merge(wh);
    timeseries.push({
      windowStartS: w * REPORT_S,
      requests: wh.count,
      failed: migrate && w === 2 ? 3 : 0,
      meanMs: round(wh.mean),
      p50Ms: round(wh.quantile(0.5)),
      p95Ms: round(wh.quantile(0.95)),
      p99Ms: round(wh.quantile(0.99)),
      networkMeanMs: round(wh.mean * 0.5),
      queueMeanMs: round(wh.mean * 0.2),
      serviceMeanMs: round(wh.mean * 0.25),
      migrationWaitMeanMs: round(wh.mean * 0.05),
      overQosFraction: round(wh.fractionAbove(FIXTURE_QOS_MS), 4),
      migrationsStarted: migrate && (w === 1 || w === 3) ? 1 : 0,
    });
  }
  const migrations: MigrationRecord[] = migrate
    ? [
        mig(1, 'c1', 'edge-a', 'edge-b', 12.5, 'ok', 'user u1 closer to edge-b'),
        mig(2, 'c2', 'edge-b', 'edge-c', 31.25, 'ok', 'user u2 closer to edge-c'),
        mig(3, 'c1', 'edge-b', 'edge-c', 38, 'failed', 'user u1, "fast" path, retry'),
      ]
    : [];
  const nodeLoad = [];
  for (let w = 0; w < WINDOWS; w++) {
    for (const [n, nodeId] of NODES.entries()) {
      nodeLoad.push({
        windowStartS: w * REPORT_S,
        nodeId,
        utilisation: round(0.1 + 0.2 * n + (migrate ? 0.05 * (w % 3) : 0.03 * w), 4),
        requests: 100 + 10 * n + w,
        containers: n === 2 ? 0 : 1,
        memoryUsedMiB: 256 * (n === 2 ? 0 : 1),
        meanQueueMs: round(2 + n + 0.5 * w, 2),
      });
    }
  }
  const userSeries = [];
  for (let w = 0; w < WINDOWS; w++) {
    for (const [u, userId] of USERS.entries()) {
      userSeries.push({
        windowStartS: w * REPORT_S,
        userId,
        requests: 100,
        meanMs: round(timeseries[w].meanMs + 3 * u, 2),
        nodeId: migrate && w >= 2 ? NODES[u + 1] : NODES[u],
      });
    }
  }
  const served = hist.count;
  const failed = timeseries.reduce((a, t) => a + t.failed, 0);
  const okMigs = migrations.filter((m) => m.status === 'ok');
  return {
    summary: {
      schema: RESULT_SCHEMA,
      mode: 'sim',
      scenario: { name: 'fixture-corridor', hash: 'f'.repeat(64), file: '/scenarios/fixture.yaml' },
      policy: { name: policy, params: migrate ? { hysteresisMs: 5, minIntervalS: 10 } : {} },
      seed: 42,
      durationS: WINDOWS * REPORT_S,
      warmupS: 0,
      qosThresholdMs: FIXTURE_QOS_MS,
      requests: { generated: served + failed + 1, served, failed, unfinished: 1 },
      responseMs: latencySummary(hist),
      componentsMeanMs: {
        network: hist.mean * 0.5,
        queue: hist.mean * 0.2,
        service: hist.mean * 0.25,
        migrationWait: hist.mean * 0.05,
      },
      // The unfinished request is taken as sent within the last threshold of the run (not counted).
      qos: {
        thresholdMs: FIXTURE_QOS_MS,
        fractionOver: (Math.round(hist.fractionAbove(FIXTURE_QOS_MS) * served) + failed) / (served + failed),
        violations: Math.round(hist.fractionAbove(FIXTURE_QOS_MS) * served) + failed,
        counted: served + failed,
      },
      migrations: {
        count: migrations.length,
        failed: migrations.length - okMigs.length,
        unfinished: migrations.filter((m) => m.status === 'unfinished').length,
        bytesTotal: migrations.reduce((a, m) => a + m.bytes, 0),
        // Over successful migrations (825, 925 ms downtime; 2400, 2600 ms total).
        downtimeMs: migrate ? { mean: 875, p95: 925, max: 925 } : { mean: NaN, p95: NaN, max: NaN },
        totalMs: migrate ? { mean: 2500, max: 2600 } : { mean: NaN, max: NaN },
      },
      nodes: {
        meanUtilisation: nodeLoad.reduce((a, x) => a + x.utilisation, 0) / nodeLoad.length,
        maxUtilisation: Math.max(...nodeLoad.map((x) => x.utilisation)),
      },
    },
    timeseries,
    histogram: hist.nonEmptyBuckets(),
    migrations,
    nodeLoad,
    userSeries,
  };
}

function mig(
  id: number,
  containerId: string,
  from: string,
  to: string,
  startS: number,
  status: MigrationRecord['status'],
  reason: string,
): MigrationRecord {
  return {
    id,
    containerId,
    from,
    to,
    mode: 'precopy',
    reason,
    startS,
    precopyRounds: 2,
    precopyMs: 1200,
    checkpointMs: 150.5,
    transferMs: 600,
    restoreMs: 225,
    lazyPagesMs: 0,
    downtimeMs: status === 'ok' ? 725 + 100 * id : 0,
    totalMs: 2200 + 200 * id,
    bytes: 268435456 + id,
    status,
  };
}
