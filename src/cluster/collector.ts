/**
 * Ground-truth results of a simulated run, in bounded memory: per report
 * window a latency histogram and component sums, one histogram for the whole
 * run, per-node load and (optionally) per-user series. Requests are filed
 * under the window in which they were SENT; only requests sent after warm-up
 * count.
 *
 * QoS violations are counted over every request whose outcome is known: a
 * served request slower than the threshold, every failed request, and every
 * request still unanswered at the end that was sent more than the threshold
 * before it (it is too late already). Only an unfinished request sent within
 * the last threshold of the run is left out: it may still have been in time.
 */
import { LatencyHistogram } from '../model/histogram.ts';
import type {
  HistogramBucketRow,
  MigrationRecord,
  NodeLoadRow,
  TimeseriesRow,
  UserSeriesRow,
} from '../model/results.ts';

export class ResultCollector {
  readonly windows: number;
  private readonly hist: LatencyHistogram[] = [];
  private readonly count: Float64Array;
  private readonly failed: Float64Array;
  private readonly sumNet: Float64Array;
  private readonly sumQueue: Float64Array;
  private readonly sumSvc: Float64Array;
  private readonly sumWait: Float64Array;
  private readonly overQos: Float64Array;
  /** Unfinished requests already older than the QoS threshold when the run ended. */
  private readonly lateUnfinished: Float64Array;
  private readonly migStarted: Float64Array;
  // Node load per (window, node), filed by completion time.
  private readonly nodeBusyUs: Float64Array;
  private readonly nodeReq: Float64Array;
  private readonly nodeQueueUs: Float64Array;
  private readonly nodeContainers: Float64Array;
  private readonly nodeMemMiB: Float64Array;
  // Optional per (window, user).
  private readonly userCount: Float64Array | null;
  private readonly userSum: Float64Array | null;
  private readonly userNode: Int32Array | null;

  generated = 0;
  served = 0;
  failedTotal = 0;
  unfinished = 0;
  sumNetworkMs = 0;
  sumQueueMs = 0;
  sumServiceMs = 0;
  sumWaitMs = 0;
  overQosTotal = 0;
  /** Of `unfinished`: those sent more than the QoS threshold before the end (violations already). */
  lateUnfinishedTotal = 0;
  readonly migrations: MigrationRecord[] = [];

  constructor(
    private readonly reportIntervalUs: number,
    private readonly durationUs: number,
    private readonly warmupUs: number,
    private readonly qosThresholdMs: number,
    private readonly nodeIds: readonly string[],
    private readonly nodeCores: readonly number[],
    private readonly userIds: readonly string[] | null,
  ) {
    this.windows = Math.ceil(durationUs / reportIntervalUs);
    const W = this.windows;
    for (let i = 0; i < W; i++) this.hist.push(new LatencyHistogram());
    this.count = new Float64Array(W);
    this.failed = new Float64Array(W);
    this.sumNet = new Float64Array(W);
    this.sumQueue = new Float64Array(W);
    this.sumSvc = new Float64Array(W);
    this.sumWait = new Float64Array(W);
    this.overQos = new Float64Array(W);
    this.lateUnfinished = new Float64Array(W);
    this.migStarted = new Float64Array(W);
    const WN = W * nodeIds.length;
    this.nodeBusyUs = new Float64Array(WN);
    this.nodeReq = new Float64Array(WN);
    this.nodeQueueUs = new Float64Array(WN);
    this.nodeContainers = new Float64Array(WN);
    this.nodeMemMiB = new Float64Array(WN);
    if (userIds) {
      this.userCount = new Float64Array(W * userIds.length);
      this.userSum = new Float64Array(W * userIds.length);
      this.userNode = new Int32Array(W * userIds.length).fill(-1);
    } else {
      this.userCount = null;
      this.userSum = null;
      this.userNode = null;
    }
  }

  private windowOf(timeUs: number): number {
    const w = Math.floor(timeUs / this.reportIntervalUs);
    return w < this.windows ? w : this.windows - 1;
  }

  counts(sentUs: number): boolean {
    return sentUs >= this.warmupUs;
  }

  served1(
    sentUs: number,
    user: number,
    responseUs: number,
    networkUs: number,
    queueUs: number,
    serviceUs: number,
    waitUs: number,
  ): void {
    const w = this.windowOf(sentUs);
    const ms = responseUs / 1000;
    this.hist[w].record(ms);
    this.count[w]++;
    this.sumNet[w] += networkUs;
    this.sumQueue[w] += queueUs;
    this.sumSvc[w] += serviceUs;
    this.sumWait[w] += waitUs;
    this.served++;
    this.sumNetworkMs += networkUs / 1000;
    this.sumQueueMs += queueUs / 1000;
    this.sumServiceMs += serviceUs / 1000;
    this.sumWaitMs += waitUs / 1000;
    if (ms > this.qosThresholdMs) {
      this.overQos[w]++;
      this.overQosTotal++;
    }
    if (this.userCount && this.userSum) {
      const i = w * this.userIds!.length + user;
      this.userCount[i]++;
      this.userSum[i] += ms;
    }
  }

  failed1(sentUs: number): void {
    this.failed[this.windowOf(sentUs)]++;
    this.failedTotal++;
  }

  /** A request sent at sentUs had no answer when the run ended (at durationUs, or an interrupted live run's `endUs`). */
  unfinished1(sentUs: number, endUs: number = this.durationUs): void {
    this.unfinished++;
    if (endUs - sentUs > this.qosThresholdMs * 1000) {
      this.lateUnfinished[this.windowOf(sentUs)]++;
      this.lateUnfinishedTotal++;
    }
  }

  /**
   * The QoS figures of the whole run: violations (served over the threshold,
   * failed, unfinished and already late) over the requests whose outcome is
   * known (all but the unfinished ones sent within the last threshold).
   */
  qos(): { violations: number; counted: number; fractionOver: number } {
    const violations = this.overQosTotal + this.failedTotal + this.lateUnfinishedTotal;
    const counted = this.served + this.failedTotal + this.lateUnfinishedTotal;
    return { violations, counted, fractionOver: counted > 0 ? violations / counted : Number.NaN };
  }

  /**
   * A job occupied a core of `node` from startUs to startUs + serviceUs. Busy
   * time is split over the report windows the service spans and cut at the
   * end of the run (durationUs, which may fall inside the last window), so a
   * window's utilisation never exceeds 1; request count and queueing go to
   * the window the job leaves the core in.
   */
  nodeWork(startUs: number, node: number, serviceUs: number, queueUs: number, isRequest: boolean): void {
    const N = this.nodeIds.length;
    const I = this.reportIntervalUs;
    const endUs = Math.min(startUs + serviceUs, this.durationUs);
    if (endUs <= startUs) return;
    let w = Math.floor(startUs / I);
    const wEnd = Math.floor((endUs - 1) / I);
    if (w === wEnd) {
      this.nodeBusyUs[w * N + node] += endUs - startUs;
    } else {
      let t = startUs;
      for (; w <= wEnd; w++) {
        const next = Math.min(endUs, (w + 1) * I);
        this.nodeBusyUs[w * N + node] += next - t;
        t = next;
      }
    }
    if (isRequest) {
      const i = wEnd * N + node;
      this.nodeReq[i]++;
      this.nodeQueueUs[i] += queueUs;
    }
  }

  migrationStarted(startUs: number): void {
    this.migStarted[this.windowOf(startUs)]++;
  }

  /** Called at the end of each report window with the placement at that instant. */
  sampleWindowEnd(
    windowIndex: number,
    containersPerNode: ArrayLike<number>,
    memoryPerNodeMiB: ArrayLike<number>,
    userNode: ArrayLike<number> | null,
  ): void {
    if (windowIndex < 0 || windowIndex >= this.windows) return;
    const N = this.nodeIds.length;
    for (let n = 0; n < N; n++) {
      this.nodeContainers[windowIndex * N + n] = containersPerNode[n];
      this.nodeMemMiB[windowIndex * N + n] = memoryPerNodeMiB[n];
    }
    if (userNode && this.userNode && this.userIds) {
      const U = this.userIds.length;
      for (let u = 0; u < U; u++) this.userNode[windowIndex * U + u] = userNode[u];
    }
  }

  private firstWindow(): number {
    return Math.min(this.windows, Math.floor(this.warmupUs / this.reportIntervalUs));
  }

  /** Length of report window w: the last one ends with the run, not at a whole interval. */
  private windowLengthUs(w: number): number {
    const I = this.reportIntervalUs;
    return Math.max(0, Math.min(I, this.durationUs - w * I));
  }

  timeseries(): TimeseriesRow[] {
    const rows: TimeseriesRow[] = [];
    for (let w = this.firstWindow(); w < this.windows; w++) {
      const n = this.count[w];
      const h = this.hist[w];
      const known = n + this.failed[w] + this.lateUnfinished[w];
      rows.push({
        windowStartS: (w * this.reportIntervalUs) / 1e6,
        requests: n,
        failed: this.failed[w],
        meanMs: n > 0 ? h.mean : Number.NaN,
        p50Ms: n > 0 ? h.quantile(0.5) : Number.NaN,
        p95Ms: n > 0 ? h.quantile(0.95) : Number.NaN,
        p99Ms: n > 0 ? h.quantile(0.99) : Number.NaN,
        networkMeanMs: n > 0 ? this.sumNet[w] / n / 1000 : Number.NaN,
        queueMeanMs: n > 0 ? this.sumQueue[w] / n / 1000 : Number.NaN,
        serviceMeanMs: n > 0 ? this.sumSvc[w] / n / 1000 : Number.NaN,
        migrationWaitMeanMs: n > 0 ? this.sumWait[w] / n / 1000 : Number.NaN,
        overQosFraction: known > 0 ? (this.overQos[w] + this.failed[w] + this.lateUnfinished[w]) / known : Number.NaN,
        migrationsStarted: this.migStarted[w],
      });
    }
    return rows;
  }

  /** The whole run's histogram: the merge of the windows (each request is recorded once). */
  overall(): LatencyHistogram {
    const all = new LatencyHistogram();
    for (const h of this.hist) all.merge(h);
    return all;
  }

  nodeLoad(): NodeLoadRow[] {
    const rows: NodeLoadRow[] = [];
    const N = this.nodeIds.length;
    const intervalUs = this.reportIntervalUs;
    for (let w = this.firstWindow(); w < this.windows; w++) {
      for (let n = 0; n < N; n++) {
        const i = w * N + n;
        const req = this.nodeReq[i];
        rows.push({
          windowStartS: (w * intervalUs) / 1e6,
          nodeId: this.nodeIds[n],
          utilisation: this.nodeBusyUs[i] / (this.windowLengthUs(w) * this.nodeCores[n]),
          requests: req,
          containers: this.nodeContainers[i],
          memoryUsedMiB: this.nodeMemMiB[i],
          meanQueueMs: req > 0 ? this.nodeQueueUs[i] / req / 1000 : Number.NaN,
        });
      }
    }
    return rows;
  }

  userSeries(): UserSeriesRow[] | null {
    if (!this.userIds || !this.userCount || !this.userSum || !this.userNode) return null;
    const rows: UserSeriesRow[] = [];
    const U = this.userIds.length;
    for (let w = this.firstWindow(); w < this.windows; w++) {
      for (let u = 0; u < U; u++) {
        const i = w * U + u;
        const n = this.userCount[i];
        const node = this.userNode[i];
        rows.push({
          windowStartS: (w * this.reportIntervalUs) / 1e6,
          userId: this.userIds[u],
          requests: n,
          meanMs: n > 0 ? this.userSum[i] / n : Number.NaN,
          nodeId: node >= 0 ? this.nodeIds[node] : '',
        });
      }
    }
    return rows;
  }

  /**
   * Utilisation of each node over the measured part of the run: busy core
   * time from the first reported window's start to `coveredUs` (the end of
   * the run, or where an interrupted live run stopped), over that span times
   * the cores. The span is the run's own length, not a whole number of report
   * windows: dividing by whole windows under-reported every run whose
   * duration is not a multiple of reportIntervalS.
   */
  nodeUtilisation(coveredUs: number = this.durationUs): number[] {
    const N = this.nodeIds.length;
    const out = new Array<number>(N).fill(0);
    const first = this.firstWindow();
    const I = this.reportIntervalUs;
    const endUs = Math.min(coveredUs, this.durationUs);
    const spanUs = endUs - first * I;
    if (spanUs <= 0) return out;
    const last = Math.min(this.windows, Math.ceil(endUs / I));
    for (let n = 0; n < N; n++) {
      let busy = 0;
      for (let w = first; w < last; w++) busy += this.nodeBusyUs[w * N + n];
      out[n] = busy / (spanUs * this.nodeCores[n]);
    }
    return out;
  }
}
