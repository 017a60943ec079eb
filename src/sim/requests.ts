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
import { createServiceTimeSampler } from '../model/service-time.ts';
import type { Scenario } from '../model/types.ts';
import { US_PER_S } from '../model/units.ts';
import { Priority, type Engine } from './engine.ts';
import type { SimMotion } from './motion.ts';

/** Mean service time of one background job (other tenants' work). */
export const BACKGROUND_JOB_MS = 100;

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

  // --- containers ---
  /** 1 while the container does not admit requests (migration downtime). */
  readonly containerDown: Uint8Array;
  /** Latest departure of an admitted request: a checkpoint drains up to here. */
  readonly lastDepartureUs: Float64Array;
  /** Post-copy: pages still streaming until this time (requests pay a penalty). */
  readonly lazyUntilUs: Float64Array;
  private readonly held: number[][]; // per container: [user, origSentUs, serviceUs]*
  private readonly samplers: Array<() => number>;
  private readonly userTimeoutUs: Float64Array;

  // --- request slots (requests travelling to a node) ---
  private slotUser: number[] = [];
  private slotContainer: number[] = [];
  private slotNode: number[] = [];
  private slotOrigUs: number[] = [];
  private slotSendUs: number[] = [];
  private slotRttUs: number[] = [];
  private slotSvcUs: number[] = [];
  private freeSlots: number[] = [];
  private inFlight = 0;

  // --- random streams ---
  private readonly arrivalRng: Rng;
  private readonly serviceRng: Rng;
  private readonly backgroundRng: Rng;
  private readonly userAlias: AliasTable;
  private readonly userByAlias: Int32Array;
  private readonly totalRatePerUs: number;
  private readonly bgAlias: AliasTable;
  private readonly bgNodes: Int32Array;
  private readonly bgRatePerUs: number;
  private readonly bgJobUs: number;

  /** Requests generated (warm-up included). */
  requestCount = 0;

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
    topo.nodes.forEach((n, i) => {
      this.nodeSpeed[i] = n.speedFactor;
      this.coreStart[i + 1] = this.coreStart[i] + n.cpuCores;
    });
    this.coreFreeUs = new Float64Array(this.coreStart[N]);

    // Containers.
    const C = s.containers.length;
    this.containerDown = new Uint8Array(C);
    this.lastDepartureUs = new Float64Array(C);
    this.lazyUntilUs = new Float64Array(C);
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
    this.userTimeoutUs = Float64Array.from(s.users, (u) => Math.round(u.requests.timeoutMs * 1000));

    // Merged arrival process.
    this.arrivalRng = createRng(seed, 'arrivals');
    const active = s.users.map((u, i) => ({ i, rate: u.requests.ratePerS })).filter((x) => x.rate > 0);
    this.userAlias = new AliasTable(active.map((x) => x.rate));
    this.userByAlias = Int32Array.from(active.map((x) => x.i));
    this.totalRatePerUs = active.reduce((a, x) => a + x.rate, 0) / US_PER_S;

    // Background jobs.
    this.backgroundRng = createRng(seed, 'background');
    this.bgJobUs = BACKGROUND_JOB_MS * 1000;
    const bg = topo.nodes
      .map((n, i) => ({ i, rate: (n.backgroundLoad * n.cpuCores) / (BACKGROUND_JOB_MS / n.speedFactor / 1000) }))
      .filter((x) => x.rate > 0);
    this.bgAlias = new AliasTable(bg.map((x) => x.rate));
    this.bgNodes = Int32Array.from(bg.map((x) => x.i));
    this.bgRatePerUs = bg.reduce((a, x) => a + x.rate, 0) / US_PER_S;
  }

  /** The first arrival and the first background job. */
  start(): void {
    const e = this.engine;
    if (this.totalRatePerUs > 0) e.schedule(this.nextGapUs(this.arrivalRng, this.totalRatePerUs), Priority.arrival, this.onArrival);
    if (this.bgRatePerUs > 0) e.schedule(this.nextGapUs(this.backgroundRng, this.bgRatePerUs), Priority.arrival, this.onBackground);
  }

  private nextGapUs(rng: Rng, ratePerUs: number): number {
    // At least 1 us apart: integer time cannot hold two arrivals of one stream in the same instant.
    return Math.max(1, Math.round(exponential(rng, 1 / ratePerUs)));
  }

  private readonly onArrival = (): void => {
    const now = this.engine.now;
    this.engine.schedule(this.nextGapUs(this.arrivalRng, this.totalRatePerUs), Priority.arrival, this.onArrival);
    const u = this.userByAlias[this.userAlias.pick(this.arrivalRng)];
    const c = this.userContainer[u];
    const svcUs = Math.max(1, Math.round(this.samplers[c]() * 1000));
    this.requestCount++;
    if (now >= this.warmupUs) this.collector.generated++;
    if (this.containerDown[c] === 1) this.hold(c, u, now, svcUs);
    else this.send(u, c, now, now, svcUs);
  };

  private hold(c: number, u: number, origUs: number, svcUs: number): void {
    this.held[c].push(u, origUs, svcUs);
  }

  /** The container answers again: re-send what its users held back. */
  releaseHeld(c: number): void {
    const list = this.held[c];
    if (list.length === 0) return;
    this.held[c] = [];
    const now = this.engine.now;
    for (let i = 0; i < list.length; i += 3) {
      const u = list[i];
      const orig = list[i + 1];
      if (now - orig > this.userTimeoutUs[u]) {
        if (orig >= this.warmupUs) this.collector.failed1(orig);
        continue;
      }
      this.send(u, c, now, orig, list[i + 2]);
    }
  }

  private send(u: number, c: number, sendUs: number, origUs: number, svcUs: number): void {
    const n = this.containerNode[c];
    const rttUs = Math.round(this.motion.rttMs(u, n, sendUs) * 1000);
    let slot = this.freeSlots.pop();
    if (slot === undefined) {
      slot = this.slotUser.length;
      this.slotUser.push(0);
      this.slotContainer.push(0);
      this.slotNode.push(0);
      this.slotOrigUs.push(0);
      this.slotSendUs.push(0);
      this.slotRttUs.push(0);
      this.slotSvcUs.push(0);
    }
    this.slotUser[slot] = u;
    this.slotContainer[slot] = c;
    this.slotNode[slot] = n;
    this.slotOrigUs[slot] = origUs;
    this.slotSendUs[slot] = sendUs;
    this.slotRttUs[slot] = rttUs;
    this.slotSvcUs[slot] = svcUs;
    this.inFlight++;
    this.engine.schedule(rttUs >> 1, Priority.arrival, this.onNodeArrival, slot);
  }

  private readonly onNodeArrival = (slot: number): void => {
    const now = this.engine.now;
    const u = this.slotUser[slot];
    const c = this.slotContainer[slot];
    const n = this.slotNode[slot];
    const origUs = this.slotOrigUs[slot];
    const sendUs = this.slotSendUs[slot];
    const rttUs = this.slotRttUs[slot];
    let svcUs = this.slotSvcUs[slot];
    this.freeSlots.push(slot);
    this.inFlight--;

    // The container stopped or moved while the request travelled: the client re-sends.
    if (this.containerDown[c] === 1) {
      this.hold(c, u, origUs, svcUs);
      return;
    }
    if (this.containerNode[c] !== n) {
      this.send(u, c, now, origUs, svcUs);
      return;
    }

    svcUs = Math.max(1, Math.round(svcUs / this.nodeSpeed[n]));
    if (now < this.lazyUntilUs[c]) svcUs += Math.round(this.scenario.migration.cost.postcopyFaultPenaltyMs * 1000);
    const start = this.takeCore(n, now, svcUs);
    const depart = start + svcUs;
    if (depart > this.lastDepartureUs[c]) this.lastDepartureUs[c] = depart;
    const completion = depart + (rttUs - (rttUs >> 1));
    const responseUs = completion - origUs;
    const queueUs = start - now;
    const waitUs = sendUs - origUs;
    this.observed.add(completion, c, n, responseUs, rttUs, svcUs, queueUs, svcUs * this.nodeSpeed[n], waitUs);
    this.collector.nodeWork(start, n, svcUs, queueUs, true);
    if (origUs < this.warmupUs) return;
    const failed = responseUs > this.userTimeoutUs[u];
    if (completion > this.endUs) {
      // Still on the node at the end: failed if its client gave up before then, else unfinished.
      if (failed && this.endUs - origUs > this.userTimeoutUs[u]) this.collector.failed1(origUs);
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
  };

  /** FCFS on c cores: the earliest free core takes the job. Returns its start time. */
  private takeCore(n: number, now: number, svcUs: number): number {
    const free = this.coreFreeUs;
    let best = this.coreStart[n];
    const end = this.coreStart[n + 1];
    for (let k = best + 1; k < end; k++) if (free[k] < free[best]) best = k;
    const start = free[best] > now ? free[best] : now;
    free[best] = start + svcUs;
    return start;
  }

  private readonly onBackground = (): void => {
    const now = this.engine.now;
    this.engine.schedule(this.nextGapUs(this.backgroundRng, this.bgRatePerUs), Priority.arrival, this.onBackground);
    const n = this.bgNodes[this.bgAlias.pick(this.backgroundRng)];
    const svcUs = Math.max(1, Math.round(exponential(this.backgroundRng, this.bgJobUs) / this.nodeSpeed[n]));
    const start = this.takeCore(n, now, svcUs);
    this.observed.add(start + svcUs, -1, n, 0, 0, svcUs, start - now, svcUs * this.nodeSpeed[n], 0);
    this.collector.nodeWork(start, n, svcUs, start - now, false);
  };

  /** At the end of the run: requests still travelling or held back are unfinished (unless already timed out). */
  fileOutstanding(): void {
    const freeSet = new Set(this.freeSlots);
    for (let slot = 0; slot < this.slotUser.length; slot++) {
      const orig = this.slotOrigUs[slot];
      if (freeSet.has(slot) || orig < this.warmupUs) continue;
      if (this.endUs - orig > this.userTimeoutUs[this.slotUser[slot]]) this.collector.failed1(orig);
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
