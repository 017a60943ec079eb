/**
 * Requests in the simulator: the merged Poisson arrival stream (Walker alias
 * over the users' rates), requests held while their container is down and
 * re-sent when it answers, the trip to the node, FCFS on the node's cores,
 * background jobs, and each completion filed for the view (observed) and the
 * results (collector). No allocation per request: requests travel in slots.
 */
import type { ClusterState } from '../cluster/state.ts';
import type { ObservedMetrics } from '../cluster/observed.ts';
import type { ResultCollector } from '../cluster/collector.ts';
import { AliasTable } from '../model/alias.ts';
import { createRng, exponential, type Rng } from '../model/random.ts';
import type { RequestRecord } from '../model/results.ts';
import { cfsFinishUs, newCfsState } from '../model/cpu-bandwidth.ts';
import { createServiceTimeSampler } from '../model/service-time.ts';
import type { Scenario } from '../model/types.ts';
import { US_PER_S } from '../model/units.ts';
import { Priority, type Engine } from './engine.ts';
import { LEG, USER_CONTAINER, USER_TIMEOUT, type SimMotion } from './motion.ts';

/** Mean service time of one background job (other tenants' work). */
export const BACKGROUND_JOB_MS = 100;

/** Fields of a request slot (a request travelling to its node). */
const SLOT = 8;
const S_USER = 0;
const S_CONTAINER = 1;
const S_NODE = 2;
const S_ORIG = 3;
const S_SEND = 4;
const S_RTT = 5;
const S_SVC = 6;
/** Fields of a container's times (SimRequests.containerTimesUs). */
const T_DEPART = 0;
const T_LAZY = 1;
/** Arguments of the request handler (onEvent) that are not slots. */
const ARG_ARRIVAL = -1;
const ARG_BACKGROUND = -2;

export interface RequestsContext {
  readonly scenario: Scenario;
  readonly seed: number;
  readonly engine: Engine;
  readonly state: ClusterState;
  readonly collector: ResultCollector;
  readonly motion: SimMotion;
  readonly endUs: number;
  readonly warmupUs: number;
  /** Receives every request after warm-up (for requests.csv). */
  readonly requestSink?: (r: RequestRecord) => void;
}

export class SimRequests {
  private readonly scenario: Scenario;
  private readonly engine: Engine;
  private readonly collector: ResultCollector;
  private readonly motion: SimMotion;
  private readonly observed: ObservedMetrics;
  private readonly endUs: number;
  private readonly warmupUs: number;
  private readonly requestSink: ((r: RequestRecord) => void) | undefined;
  private readonly containerNode: Int32Array;
  private readonly userContainer: Int32Array;

  // --- nodes ---
  private readonly nodeSpeed: Float64Array;
  /** Free time of each core, flat: cores of node n at [coreStart[n], coreStart[n+1]). */
  private readonly coreFreeUs: Float64Array;
  private readonly coreStart: Int32Array;
  /** Per node: CFS period (µs) and per-core quota (µs per period) of a CPU-limited node, 0 when unlimited. */
  private readonly cfsPeriodUs: Float64Array;
  private readonly cfsQuotaUs: Float64Array;
  /** Per core: the period of its last use and the quota used in it (cpu-bandwidth.ts). */
  private readonly cfsState: Float64Array;
  /** Departure of the job takeLimitedCore placed last (its second result, without an allocation). */
  private limitedDepartUs = 0;

  // --- containers ---
  /** 1 while the container does not admit requests (migration downtime). */
  readonly containerDown: Uint8Array;
  /**
   * Per container, interleaved: the latest departure of an admitted request (a
   * checkpoint drains up to here) at 2c + T_DEPART, and, post-copy, the time until
   * which pages still stream (requests pay a penalty) at 2c + T_LAZY. A request
   * admitted on its node reads both: one cache line, not two arrays.
   */
  private readonly containerTimesUs: Float64Array;
  private readonly held: number[][]; // per container: [user, origSentUs, serviceUs]*
  private readonly samplers: Array<() => number>;
  /** The one sampler when every container has the same service-time spec (no per-container read), else null. */
  private readonly onlySampler: (() => number) | null;
  /** The mean (ms) when that one spec is exponential (drawn inline), else 0. */
  private readonly onlyExpMeanMs: number;
  private readonly userTimeoutUs: Float64Array;
  /**
   * Per user, in SimMotion's per-user record (see LEG in motion.ts): the container at
   * u * LEG + USER_CONTAINER and the timeout (µs) at u * LEG + USER_TIMEOUT, beside the
   * leg and access point a request's RTT reads.
   */
  private readonly userRec: Float64Array;
  private readonly postcopyPenaltyUs: number;

  // --- request slots (requests travelling to a node), a record of SLOT numbers each ---
  private slots = new Float64Array(64 * SLOT);
  /** Stack of free slot indices: freeSlots[0 .. freeCount). */
  private freeSlots = new Int32Array(64);
  private freeCount = 0;
  /** Slots ever handed out (slot indices < this are in use or free). */
  private slotCount = 0;

  // --- random streams ---
  private readonly arrivalRng: Rng;
  private readonly serviceRng: Rng;
  private readonly backgroundRng: Rng;
  private readonly userAlias: AliasTable;
  private readonly userByAlias: Int32Array;
  private readonly uniformUsers: boolean;
  private readonly totalRatePerUs: number;
  /** 1 / totalRatePerUs: the mean gap between arrivals, as exponential() is given it. */
  private readonly arrivalMeanUs: number;
  private readonly bgAlias: AliasTable;
  private readonly bgNodes: Int32Array;
  private readonly bgRatePerUs: number;
  private readonly bgMeanGapUs: number;
  private readonly bgJobUs: number;

  /** Requests generated (warm-up included). */
  requestCount = 0;
  /** The engine's timers of the two Poisson streams (one next event each): arrivals, background jobs. */
  private readonly arrivalTimer: number;
  private readonly backgroundTimer: number;

  constructor(x: RequestsContext) {
    const s = x.scenario;
    const seed = x.seed;
    this.scenario = s;
    this.engine = x.engine;
    this.collector = x.collector;
    this.motion = x.motion;
    this.observed = x.state.observed;
    this.endUs = x.endUs;
    this.warmupUs = x.warmupUs;
    this.requestSink = x.requestSink;
    this.containerNode = x.state.containerNode;
    this.userContainer = x.state.userContainer;
    const topo = s.topology;

    // Nodes.
    const N = topo.nodes.length;
    this.nodeSpeed = new Float64Array(N);
    this.coreStart = new Int32Array(N + 1);
    this.cfsPeriodUs = new Float64Array(N);
    this.cfsQuotaUs = new Float64Array(N);
    topo.nodes.forEach((n, i) => {
      this.nodeSpeed[i] = n.speedFactor;
      this.coreStart[i + 1] = this.coreStart[i] + n.cpuCores;
      if (n.cpuPeriodMs !== undefined) {
        this.cfsPeriodUs[i] = Math.round(n.cpuPeriodMs * 1000);
        this.cfsQuotaUs[i] = Math.max(1, Math.round(n.cpuPeriodMs * 1000 * n.speedFactor));
      }
    });
    this.coreFreeUs = new Float64Array(this.coreStart[N]);
    this.cfsState = newCfsState(this.coreStart[N]);

    // Containers.
    const C = s.containers.length;
    this.containerDown = new Uint8Array(C);
    this.containerTimesUs = new Float64Array(2 * C);
    this.held = [];
    this.serviceRng = createRng(seed, 'service');
    this.samplers = [];
    // One sampler per distinct service-time spec: with one closure per
    // container (10,000 in metro) the call site goes megamorphic and slow.
    const samplerBySpec = new Map<string, () => number>();
    s.containers.forEach((c) => {
      this.held.push([]);
      const key = JSON.stringify(c.serviceTime);
      let sampler = samplerBySpec.get(key);
      if (sampler === undefined) {
        sampler = createServiceTimeSampler(c.serviceTime, this.serviceRng);
        samplerBySpec.set(key, sampler);
      }
      this.samplers.push(sampler);
    });
    this.onlySampler = samplerBySpec.size === 1 ? this.samplers[0] : null;
    const spec0 = s.containers[0]?.serviceTime;
    this.onlyExpMeanMs = samplerBySpec.size === 1 && spec0?.kind === 'exponential' ? spec0.meanMs : 0;
    this.userTimeoutUs = Float64Array.from(s.users, (u) => Math.round(u.requests.timeoutMs * 1000));
    this.userRec = x.motion.leg;
    for (let u = 0; u < s.users.length; u++) {
      this.userRec[u * LEG + USER_CONTAINER] = this.userContainer[u];
      this.userRec[u * LEG + USER_TIMEOUT] = this.userTimeoutUs[u];
    }
    this.postcopyPenaltyUs = Math.round(s.migration.cost.postcopyFaultPenaltyMs * 1000);
    this.arrivalTimer = this.engine.timer(this.onEvent, ARG_ARRIVAL);
    this.backgroundTimer = this.engine.timer(this.onEvent, ARG_BACKGROUND);

    // Merged arrival process.
    this.arrivalRng = createRng(seed, 'arrivals');
    const active = s.users.map((u, i) => ({ i, rate: u.requests.ratePerS })).filter((x) => x.rate > 0);
    this.userAlias = new AliasTable(active.map((x) => x.rate));
    this.userByAlias = Int32Array.from(active.map((x) => x.i));
    // Every user active at one rate: the alias table's every probability is 1, so a
    // pick is floor(u * n) (the same draw, the same user) and the tables need not be read.
    this.uniformUsers = active.length === s.users.length && active.length > 0 && active.every((x) => x.rate === active[0].rate);
    this.totalRatePerUs = active.reduce((a, x) => a + x.rate, 0) / US_PER_S;
    this.arrivalMeanUs = 1 / this.totalRatePerUs;

    // Background jobs.
    this.backgroundRng = createRng(seed, 'background');
    this.bgJobUs = BACKGROUND_JOB_MS * 1000;
    const bg = topo.nodes
      .map((n, i) => ({ i, rate: (n.backgroundLoad * n.cpuCores) / (BACKGROUND_JOB_MS / n.speedFactor / 1000) }))
      .filter((x) => x.rate > 0);
    this.bgAlias = new AliasTable(bg.map((x) => x.rate));
    this.bgNodes = Int32Array.from(bg.map((x) => x.i));
    this.bgRatePerUs = bg.reduce((a, x) => a + x.rate, 0) / US_PER_S;
    this.bgMeanGapUs = 1 / this.bgRatePerUs;
  }

  /** The first arrival and the first background job. */
  start(): void {
    const e = this.engine;
    if (this.totalRatePerUs > 0) e.arm(this.arrivalTimer, this.nextGapUs(this.arrivalRng, this.totalRatePerUs), Priority.arrival);
    if (this.bgRatePerUs > 0) e.arm(this.backgroundTimer, this.nextGapUs(this.backgroundRng, this.bgRatePerUs), Priority.arrival);
  }

  private nextGapUs(rng: Rng, ratePerUs: number): number {
    // At least 1 us apart: integer time cannot hold two arrivals of one stream in the same instant.
    return Math.max(1, Math.round(exponential(rng, 1 / ratePerUs)));
  }

  // The hot path draws its exponentials inline, with exponential()'s own
  // expression (-mean * log(1 - u)) and stream, so the values are the same
  // bits: a double returned from a call that is not inlined is boxed, which
  // was the one allocation per request left (two per arrival).

  /** nextGapUs(arrivalRng, totalRatePerUs). */
  private arrivalGapUs(): number {
    return Math.max(1, Math.round(-this.arrivalMeanUs * Math.log(1 - this.arrivalRng())));
  }

  /** nextGapUs(backgroundRng, bgRatePerUs). */
  private backgroundGapUs(): number {
    return Math.max(1, Math.round(-this.bgMeanGapUs * Math.log(1 - this.backgroundRng())));
  }

  /**
   * The one handler of every request event (a single function at the engine's
   * hot call site, so V8 can inline the request path): arg >= 0 is a slot
   * reaching its node, else an arrival or a background job.
   */
  private readonly onEvent = (arg: number): void => {
    if (arg >= 0) this.onNodeArrival(arg);
    else if (arg === ARG_ARRIVAL) this.onArrival();
    else this.onBackground();
  };

  private onArrival(): void {
    const now = this.engine.now;
    this.engine.arm(this.arrivalTimer, this.arrivalGapUs(), Priority.arrival);
    const u = this.uniformUsers ? Math.floor(this.arrivalRng() * this.userByAlias.length) | 0 : this.userByAlias[this.userAlias.pick(this.arrivalRng)];
    // Indices read from a Float64Array are doubles: | 0 keeps them small integers, so the
    // functions they are passed to are not deoptimised for a double ("not a Smi").
    const c = this.userRec[u * LEG + USER_CONTAINER] | 0;
    const sampler = this.onlySampler;
    const ms =
      this.onlyExpMeanMs > 0
        ? -this.onlyExpMeanMs * Math.log(1 - this.serviceRng()) // = the exponential sampler's draw
        : sampler !== null
          ? sampler()
          : this.samplers[c]();
    const svcUs = Math.max(1, Math.round(ms * 1000));
    this.requestCount++;
    if (now >= this.warmupUs) this.collector.generated++;
    if (this.containerDown[c] === 1) this.hold(c, u, now, svcUs);
    else this.send(u, c, now, now, svcUs);
  }

  private hold(c: number, u: number, origUs: number, svcUs: number): void {
    this.held[c].push(u, origUs, svcUs);
  }

  /** Latest departure of a request admitted at container c (a checkpoint drains up to here). */
  lastDepartureUs(c: number): number {
    return this.containerTimesUs[2 * c + T_DEPART];
  }

  /** Post-copy: container c's pages stream until `timeUs` (its requests pay the fault penalty until then). */
  setLazyUntilUs(c: number, timeUs: number): void {
    this.containerTimesUs[2 * c + T_LAZY] = timeUs;
  }

  /** The container answers again: re-send what its users held back. */
  releaseHeld(c: number): void {
    const list = this.held[c];
    if (list.length === 0) return;
    this.held[c] = [];
    const now = this.engine.now;
    for (let i = 0; i < list.length; i += 3) {
      const u = list[i] | 0; // the list holds doubles too: keep the index an integer
      const orig = list[i + 1];
      if (now - orig > this.userRec[u * LEG + USER_TIMEOUT]) {
        if (orig >= this.warmupUs) this.collector.failed1(orig);
        continue;
      }
      this.send(u, c, now, orig, list[i + 2]);
    }
  }

  private send(u: number, c: number, sendUs: number, origUs: number, svcUs: number): void {
    const n = this.containerNode[c];
    const rttUs = this.motion.rttUs(u, n, sendUs);
    const slot = this.freeCount > 0 ? this.freeSlots[--this.freeCount] : this.newSlot();
    const r = this.slots;
    const b = slot * SLOT;
    r[b + S_USER] = u;
    r[b + S_CONTAINER] = c;
    r[b + S_NODE] = n;
    r[b + S_ORIG] = origUs;
    r[b + S_SEND] = sendUs;
    r[b + S_RTT] = rttUs;
    r[b + S_SVC] = svcUs;
    this.engine.schedule(rttUs >> 1, Priority.arrival, this.onEvent, slot);
  }

  /** A slot never used before (the records and the free stack grow by doubling). */
  private newSlot(): number {
    const slot = this.slotCount++;
    if (slot * SLOT >= this.slots.length) {
      const grown = new Float64Array(this.slots.length * 2);
      grown.set(this.slots);
      this.slots = grown;
      const free = new Int32Array(this.freeSlots.length * 2);
      free.set(this.freeSlots);
      this.freeSlots = free;
    }
    return slot;
  }

  private onNodeArrival(slot: number): void {
    const now = this.engine.now;
    const r = this.slots;
    const b = slot * SLOT;
    const u = r[b + S_USER] | 0;
    const c = r[b + S_CONTAINER] | 0;
    const n = r[b + S_NODE] | 0;
    const origUs = r[b + S_ORIG];
    const sendUs = r[b + S_SEND];
    const rttUs = r[b + S_RTT];
    let svcUs = r[b + S_SVC];
    r[b + S_ORIG] = Number.NaN; // free (fileOutstanding skips it)
    this.freeSlots[this.freeCount++] = slot;

    // The container stopped or moved while the request travelled: the client re-sends.
    if (this.containerDown[c] === 1) {
      this.hold(c, u, origUs, svcUs);
      return;
    }
    if (this.containerNode[c] !== n) {
      this.send(u, c, now, origUs, svcUs);
      return;
    }

    const times = this.containerTimesUs;
    const penaltyUs = now < times[2 * c + T_LAZY] ? this.postcopyPenaltyUs : 0;
    let start: number;
    let refUs: number; // reference CPU of the job
    let busyUs: number; // capacity it used: time at the node's speed
    if (this.cfsPeriodUs[n] === 0) {
      svcUs = Math.max(1, Math.round(svcUs / this.nodeSpeed[n])) + penaltyUs;
      start = this.takeCore(n, now, svcUs);
      refUs = svcUs * this.nodeSpeed[n];
      busyUs = svcUs;
    } else {
      refUs = Math.max(1, Math.round(svcUs));
      start = this.takeLimitedCore(n, now, refUs, penaltyUs);
      svcUs = this.limitedDepartUs - start; // on the core, throttled periods included
      busyUs = Math.round(refUs / this.nodeSpeed[n]) + penaltyUs;
    }
    const depart = start + svcUs;
    if (depart > times[2 * c + T_DEPART]) times[2 * c + T_DEPART] = depart;
    const completion = depart + (rttUs - (rttUs >> 1));
    const responseUs = completion - origUs;
    const queueUs = start - now;
    const waitUs = sendUs - origUs;
    this.observed.add(completion, c, n, responseUs, rttUs, busyUs, queueUs, refUs, waitUs);
    this.collector.nodeWork(start, n, busyUs, queueUs, true);
    if (origUs < this.warmupUs) return;
    const timeoutUs = this.userRec[u * LEG + USER_TIMEOUT];
    const failed = responseUs > timeoutUs;
    if (completion > this.endUs) {
      // Still on the node at the end: failed if its client gave up before then, else unfinished.
      if (failed && this.endUs - origUs > timeoutUs) this.collector.failed1(origUs);
      else this.collector.unfinished1(origUs, this.endUs);
    } else if (failed) this.collector.failed1(origUs);
    else this.collector.served1(origUs, u, responseUs, rttUs, queueUs, svcUs, waitUs);
    const sink = this.requestSink;
    if (sink !== undefined && completion <= this.endUs) {
      sink({
        userId: this.scenario.users[u].id,
        containerId: this.scenario.containers[c].id,
        nodeId: this.scenario.topology.nodes[n].id,
        sentS: origUs / US_PER_S,
        status: failed ? 'failed' : 'served',
        responseMs: responseUs / 1000,
        networkMs: rttUs / 1000,
        queueMs: queueUs / 1000,
        serviceMs: svcUs / 1000,
        migrationWaitMs: waitUs / 1000,
      });
    }
  }

  /** FCFS on c cores: the earliest free core takes the job. Returns its start time. */
  private takeCore(n: number, now: number, svcUs: number): number {
    const free = this.coreFreeUs;
    const best = this.earliestCore(n);
    const start = free[best] > now ? free[best] : now;
    free[best] = start + svcUs;
    return start;
  }

  /** The core of node n that is free first (the lowest index among equals). */
  private earliestCore(n: number): number {
    const free = this.coreFreeUs;
    let best = this.coreStart[n];
    const end = this.coreStart[n + 1];
    for (let k = best + 1; k < end; k++) if (free[k] < free[best]) best = k;
    return best;
  }

  /**
   * FCFS on the cores of a CPU-limited node (CFS bandwidth): the earliest free core takes
   * the job and runs its `refUs` of CPU at the reference speed within each period's quota,
   * then `extraUs` more (post-copy faults wait, they use no quota). Returns the start; the
   * departure is left in limitedDepartUs.
   */
  private takeLimitedCore(n: number, now: number, refUs: number, extraUs: number): number {
    const free = this.coreFreeUs;
    const best = this.earliestCore(n);
    const start = free[best] > now ? free[best] : now;
    const depart = cfsFinishUs(start, refUs, this.cfsPeriodUs[n], this.cfsQuotaUs[n], this.cfsState, best) + extraUs;
    free[best] = depart;
    this.limitedDepartUs = depart;
    return start;
  }

  private onBackground(): void {
    const now = this.engine.now;
    this.engine.arm(this.backgroundTimer, this.backgroundGapUs(), Priority.arrival);
    const n = this.bgNodes[this.bgAlias.pick(this.backgroundRng)];
    const jobUs = -this.bgJobUs * Math.log(1 - this.backgroundRng());
    if (this.cfsPeriodUs[n] !== 0) {
      const refUs = Math.max(1, Math.round(jobUs));
      const start = this.takeLimitedCore(n, now, refUs, 0);
      const busyUs = Math.round(refUs / this.nodeSpeed[n]);
      this.observed.add(this.limitedDepartUs, -1, n, 0, 0, busyUs, start - now, refUs, 0);
      this.collector.nodeWork(start, n, busyUs, start - now, false);
      return;
    }
    const svcUs = Math.max(1, Math.round(jobUs / this.nodeSpeed[n]));
    const start = this.takeCore(n, now, svcUs);
    this.observed.add(start + svcUs, -1, n, 0, 0, svcUs, start - now, svcUs * this.nodeSpeed[n], 0);
    this.collector.nodeWork(start, n, svcUs, start - now, false);
  }

  /** At the end of the run: requests still travelling or held back are unfinished (unless already timed out). */
  fileOutstanding(): void {
    for (let slot = 0; slot < this.slotCount; slot++) {
      const orig = this.slots[slot * SLOT + S_ORIG];
      if (Number.isNaN(orig) || orig < this.warmupUs) continue; // free, or sent in the warm-up
      if (this.endUs - orig > this.userTimeoutUs[this.slots[slot * SLOT + S_USER]]) this.collector.failed1(orig);
      else this.collector.unfinished1(orig, this.endUs);
    }
    for (let c = 0; c < this.held.length; c++) {
      const list = this.held[c];
      for (let i = 0; i < list.length; i += 3) {
        const u = list[i];
        const orig = list[i + 1];
        if (orig < this.warmupUs) continue;
        if (this.endUs - orig > this.userTimeoutUs[u]) this.collector.failed1(orig);
        else this.collector.unfinished1(orig, this.endUs);
      }
    }
  }
}
