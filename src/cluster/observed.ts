/**
 * What a real controller can observe: metrics of requests that have COMPLETED,
 * over a sliding window of the last `metricsWindowS`, per container and per
 * node. The simulator knows every request's response time when the request
 * reaches the node, but files it here under its completion time, and the
 * controller only sees completions before the current control step. The view
 * given to policies is therefore causal, exactly as in live mode.
 *
 * Around a migration: a request the client held back while its container
 * was down (and re-sent once it answered again) has a migration wait. That
 * wait measures the migration's downtime, not the node or the network, so it
 * is kept apart: the response aggregates (mean and last) are of the response
 * WITHOUT the request's own migration wait (network + queue + service, on
 * the node that finally served it), and the wait has aggregates of its own.
 * Response without wait + wait = what the user experienced.
 *
 * Layout: a completion is summed at once into the pending aggregates of its
 * control interval (a small ring of future intervals; completions further
 * ahead, after long waits, go to an overflow list). Closing an interval moves
 * its aggregates into one slot of the window ring, and running totals over
 * the ring make every windowed read O(1). No allocation per request.
 */
const FIELDS = 9; // overflow records: completionUs, container, node, responseUs, networkUs, serviceUs, queueUs, refServiceUs, waitUs
/** Fields of one container's pending aggregates (ObservedMetrics.pend). */
const PF = 9;
const P_COUNT = 0;
const P_RESP = 1;
const P_NET = 2;
const P_SVC = 3;
const P_WAIT = 4;
const P_LAST_AT = 5;
const P_LAST_MS = 6;
const P_LAST_NET = 7;
const P_LAST_WAIT = 8;
/** Future control intervals with pending aggregates; later completions overflow. */
const PENDING = 8;

export class ObservedMetrics {
  readonly slots: number;
  private readonly intervalUs: number;
  // Completions beyond the pending ring, per control interval index.
  private readonly overflow = new Map<number, number[]>();
  private closedUpTo = 0; // intervals < this are closed
  // Pending aggregates of a container, interleaved (one completion touches them
  // together: one or two cache lines, not nine arrays): pend[(pendingSlot * C + c) * PF + P_*].
  private readonly pend: Float64Array;
  // Pending aggregates of a node [pendingSlot * N + n].
  private readonly pnCount: Float64Array;
  private readonly pnBusy: Float64Array;
  private readonly pnQueue: Float64Array;
  private readonly pnSvc: Float64Array;

  // Per-container ring [slot * C + c] and running totals [c].
  private readonly cCount: Float64Array;
  private readonly cResp: Float64Array;
  private readonly cNet: Float64Array;
  private readonly cSvc: Float64Array;
  private readonly cWait: Float64Array;
  readonly cCountTot: Float64Array;
  /** Sum of responses without their migration wait. */
  readonly cRespTot: Float64Array;
  readonly cNetTot: Float64Array;
  readonly cSvcTot: Float64Array;
  /** Sum of migration waits. */
  readonly cWaitTot: Float64Array;
  /** Latest completion per container (NaN if none): response without its migration wait (ms), network part and migration wait (µs). */
  /**
   * Per container: bumped whenever any of its windowed or last-request values
   * changes (an interval closes with its completions, or one leaves the window),
   * so a view can tell which containers' observations changed (ViewChanges).
   */
  readonly cVersion: Uint32Array;
  readonly cLastMs: Float64Array;
  readonly cLastNetUs: Float64Array;
  readonly cLastWaitUs: Float64Array;
  private readonly cLastAtUs: Float64Array;

  // Per-node ring and totals.
  private readonly nCount: Float64Array;
  private readonly nBusy: Float64Array;
  private readonly nQueue: Float64Array;
  private readonly nSvc: Float64Array;
  readonly nCountTot: Float64Array;
  readonly nBusyTot: Float64Array;
  readonly nQueueTot: Float64Array;
  readonly nSvcTot: Float64Array;

  constructor(
    private readonly containers: number,
    private readonly nodes: number,
    controlIntervalUs: number,
    metricsWindowUs: number,
  ) {
    this.intervalUs = controlIntervalUs;
    this.slots = Math.max(1, Math.ceil(metricsWindowUs / controlIntervalUs));
    const C = containers * this.slots;
    const N = nodes * this.slots;
    this.cCount = new Float64Array(C);
    this.cResp = new Float64Array(C);
    this.cNet = new Float64Array(C);
    this.cSvc = new Float64Array(C);
    this.cWait = new Float64Array(C);
    this.cWaitTot = new Float64Array(containers);
    this.cLastNetUs = new Float64Array(containers).fill(Number.NaN);
    this.cLastWaitUs = new Float64Array(containers).fill(Number.NaN);
    this.cCountTot = new Float64Array(containers);
    this.cRespTot = new Float64Array(containers);
    this.cNetTot = new Float64Array(containers);
    this.cSvcTot = new Float64Array(containers);
    this.cVersion = new Uint32Array(containers);
    this.cLastMs = new Float64Array(containers).fill(Number.NaN);
    this.cLastAtUs = new Float64Array(containers).fill(-1);
    this.nCount = new Float64Array(N);
    this.nBusy = new Float64Array(N);
    this.nQueue = new Float64Array(N);
    this.nSvc = new Float64Array(N);
    this.nCountTot = new Float64Array(nodes);
    this.nBusyTot = new Float64Array(nodes);
    this.nQueueTot = new Float64Array(nodes);
    this.nSvcTot = new Float64Array(nodes);
    this.pend = new Float64Array(PENDING * containers * PF);
    for (let i = P_LAST_AT; i < this.pend.length; i += PF) this.pend[i] = -1;
    this.pnCount = new Float64Array(PENDING * nodes);
    this.pnBusy = new Float64Array(PENDING * nodes);
    this.pnQueue = new Float64Array(PENDING * nodes);
    this.pnSvc = new Float64Array(PENDING * nodes);
  }

  /** Window length actually covered at time `nowUs` (shorter at the start of a run). */
  windowUs(nowUs: number): number {
    return Math.min(this.slots * this.intervalUs, Math.max(this.intervalUs, nowUs));
  }

  /**
   * A request (container >= 0) or background job (container = -1) that
   * completes at `completionUs`.
   */
  add(
    completionUs: number,
    container: number,
    node: number,
    /** Response time as the user saw it, migration wait included. */
    responseUs: number,
    networkUs: number,
    serviceUs: number,
    queueUs: number,
    /** Service time scaled to the reference CPU (serviceUs * speedFactor). */
    refServiceUs: number,
    /** Time the request was held while its container migrated (0 if it was not). */
    waitUs: number,
  ): void {
    const k = Math.floor(completionUs / this.intervalUs);
    if (k >= this.closedUpTo + PENDING) {
      let list = this.overflow.get(k);
      if (list === undefined) {
        list = [];
        this.overflow.set(k, list);
      }
      list.push(completionUs, container, node, responseUs, networkUs, serviceUs, queueUs, refServiceUs, waitUs);
      return;
    }
    const slot = k % PENDING;
    const ni = slot * this.nodes + node;
    this.pnBusy[ni] += serviceUs;
    if (container < 0) return;
    const ci = slot * this.containers + container;
    const ownUs = responseUs - waitUs;
    const pend = this.pend;
    const b = ci * PF;
    pend[b + P_COUNT]++;
    pend[b + P_RESP] += ownUs;
    pend[b + P_NET] += networkUs;
    pend[b + P_SVC] += refServiceUs;
    if (waitUs !== 0) pend[b + P_WAIT] += waitUs; // rare: a request held during a migration
    if (completionUs >= pend[b + P_LAST_AT]) {
      pend[b + P_LAST_AT] = completionUs;
      pend[b + P_LAST_MS] = ownUs / 1000;
      pend[b + P_LAST_NET] = networkUs;
      pend[b + P_LAST_WAIT] = waitUs;
    }
    this.pnCount[ni]++;
    this.pnQueue[ni] += queueUs;
    this.pnSvc[ni] += refServiceUs;
  }

  /** Close every control interval that ended at or before `nowUs`. */
  closeIntervals(nowUs: number): void {
    const upTo = Math.floor(nowUs / this.intervalUs);
    for (let k = this.closedUpTo; k < upTo; k++) this.closeOne(k);
    this.closedUpTo = Math.max(this.closedUpTo, upTo);
  }

  private closeOne(k: number): void {
    const slot = k % this.slots;
    this.clearSlot(slot);
    // Move the interval's pending aggregates into the window slot.
    const C = this.containers;
    const N = this.nodes;
    const p = k % PENDING;
    for (let c = 0; c < C; c++) {
      const pi = p * C + c;
      const n = this.pend[pi * PF + P_COUNT];
      if (n === 0) continue;
      const ci = slot * C + c;
      this.cVersion[c]++;
      this.cCount[ci] += n;
      this.cCountTot[c] += n;
      this.cResp[ci] += this.pend[pi * PF + P_RESP];
      this.cRespTot[c] += this.pend[pi * PF + P_RESP];
      this.cNet[ci] += this.pend[pi * PF + P_NET];
      this.cNetTot[c] += this.pend[pi * PF + P_NET];
      this.cSvc[ci] += this.pend[pi * PF + P_SVC];
      this.cSvcTot[c] += this.pend[pi * PF + P_SVC];
      this.cWait[ci] += this.pend[pi * PF + P_WAIT];
      this.cWaitTot[c] += this.pend[pi * PF + P_WAIT];
      if (this.pend[pi * PF + P_LAST_AT] >= this.cLastAtUs[c]) {
        this.cLastAtUs[c] = this.pend[pi * PF + P_LAST_AT];
        this.cLastMs[c] = this.pend[pi * PF + P_LAST_MS];
        this.cLastNetUs[c] = this.pend[pi * PF + P_LAST_NET];
        this.cLastWaitUs[c] = this.pend[pi * PF + P_LAST_WAIT];
      }
      this.pend[pi * PF + P_COUNT] = 0;
      this.pend[pi * PF + P_RESP] = 0;
      this.pend[pi * PF + P_NET] = 0;
      this.pend[pi * PF + P_SVC] = 0;
      this.pend[pi * PF + P_WAIT] = 0;
      this.pend[pi * PF + P_LAST_AT] = -1;
    }
    for (let n = 0; n < N; n++) {
      const pi = p * N + n;
      const ni = slot * N + n;
      this.nBusy[ni] += this.pnBusy[pi];
      this.nBusyTot[n] += this.pnBusy[pi];
      this.nCount[ni] += this.pnCount[pi];
      this.nCountTot[n] += this.pnCount[pi];
      this.nQueue[ni] += this.pnQueue[pi];
      this.nQueueTot[n] += this.pnQueue[pi];
      this.nSvc[ni] += this.pnSvc[pi];
      this.nSvcTot[n] += this.pnSvc[pi];
      this.pnBusy[pi] = 0;
      this.pnCount[pi] = 0;
      this.pnQueue[pi] = 0;
      this.pnSvc[pi] = 0;
    }
    // Completions that were too far ahead when they were filed.
    const list = this.overflow.get(k);
    if (list === undefined) return;
    this.overflow.delete(k);
    for (let i = 0; i < list.length; i += FIELDS) {
      const at = list[i];
      const c = list[i + 1];
      const n = list[i + 2];
      const resp = list[i + 3];
      const net = list[i + 4];
      const svc = list[i + 5];
      const queue = list[i + 6];
      const refSvc = list[i + 7];
      const wait = list[i + 8];
      const ni = slot * N + n;
      this.nBusy[ni] += svc;
      this.nBusyTot[n] += svc;
      if (c < 0) continue;
      const own = resp - wait;
      const ci = slot * C + c;
      this.cVersion[c]++;
      this.cCount[ci]++;
      this.cCountTot[c]++;
      this.cResp[ci] += own;
      this.cRespTot[c] += own;
      this.cNet[ci] += net;
      this.cNetTot[c] += net;
      this.cSvc[ci] += refSvc;
      this.cSvcTot[c] += refSvc;
      this.cWait[ci] += wait;
      this.cWaitTot[c] += wait;
      if (at >= this.cLastAtUs[c]) {
        this.cLastAtUs[c] = at;
        this.cLastMs[c] = own / 1000;
        this.cLastNetUs[c] = net;
        this.cLastWaitUs[c] = wait;
      }
      this.nCount[ni]++;
      this.nCountTot[n]++;
      this.nQueue[ni] += queue;
      this.nQueueTot[n] += queue;
      this.nSvc[ni] += refSvc;
      this.nSvcTot[n] += refSvc;
    }
  }

  private clearSlot(slot: number): void {
    const C = this.containers;
    const base = slot * C;
    for (let c = 0; c < C; c++) {
      const i = base + c;
      if (this.cCount[i] !== 0) {
        this.cVersion[c]++;
        this.cCountTot[c] -= this.cCount[i];
        this.cRespTot[c] -= this.cResp[i];
        this.cNetTot[c] -= this.cNet[i];
        this.cSvcTot[c] -= this.cSvc[i];
        this.cWaitTot[c] -= this.cWait[i];
        this.cWait[i] = 0;
        this.cCount[i] = 0;
        this.cResp[i] = 0;
        this.cNet[i] = 0;
        this.cSvc[i] = 0;
      }
    }
    const N = this.nodes;
    const nbase = slot * N;
    for (let n = 0; n < N; n++) {
      const i = nbase + n;
      this.nCountTot[n] -= this.nCount[i];
      this.nBusyTot[n] -= this.nBusy[i];
      this.nQueueTot[n] -= this.nQueue[i];
      this.nSvcTot[n] -= this.nSvc[i];
      this.nCount[i] = 0;
      this.nBusy[i] = 0;
      this.nQueue[i] = 0;
      this.nSvc[i] = 0;
    }
  }
}
