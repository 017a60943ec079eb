/**
 * The discrete-event simulation of one (scenario, policy, seed).
 *
 * Model (the README's "Simulator" section states it for citation):
 *  - Requests: every user sends a Poisson stream (its rate); the streams are
 *    merged into one Poisson process and each arrival is assigned to a user
 *    with probability rate_u / total rate (Walker alias). A request reaches
 *    the container's node after half the network RTT and its answer returns
 *    after the other half.
 *  - Nodes: c cores and one FIFO queue shared by all containers on the node
 *    and by background jobs; a request takes the earliest free core in arrival
 *    order (FCFS M/G/c). Service time = sample / speedFactor.
 *  - Background load: other tenants' jobs, Poisson with exponential service of
 *    mean BACKGROUND_JOB_MS, at a rate that keeps `backgroundLoad` of the cores busy.
 *  - Migrations: see migration.ts (drain, checkpoint, transfer as a max-min
 *    fair flow over the backhaul, restore). Requests sent while the container
 *    is stopped are held by the client and re-sent when it answers again; the
 *    hold is the request's migration wait. A request whose response time
 *    exceeds its timeout counts as failed.
 *  - Control: every controlIntervalS the policy sees a ClusterView built from
 *    windowed metrics of COMPLETED requests (observed.ts) and returns decisions,
 *    validated by the shared validateDecisions.
 *
 * Random streams (common random numbers): arrivals and the user picked,
 * service times, background jobs and each user's mobility draw from separate
 * named streams, so two policies run with the same seed see the same users,
 * paths, requests and service demands.
 */
import { ConmigError } from '../model/errors.ts';
import type { BackhaulGraph, LatencyModel } from '../model/latency.ts';
import type { Policy } from '../model/policy.ts';
import { createRng, exponential, type Rng } from '../model/random.ts';
import { createServiceTimeSampler } from '../model/service-time.ts';
import type { Point, Scenario } from '../model/types.ts';
import type { MigrationInFlightView } from '../model/view.ts';
import { controlStep, type ControlPort } from '../model/control.ts';
import type { RequestRecord, RunData } from '../model/results.ts';
import { AliasTable } from '../model/alias.ts';
import { buildRunData } from '../cluster/run-data.ts';
import { ResultCollector } from '../cluster/collector.ts';
import { Engine, Priority, US_PER_S } from './engine.ts';
import { FlowNetwork } from './flows.ts';
import { MigrationRunner } from './migration.ts';
import { ApIndex, createLegSource, handoversAlongLeg, type LegSource, type TraceStore } from '../mobility/index.ts';
import type { ObservedMetrics } from '../cluster/observed.ts';
import { ClusterState } from '../cluster/state.ts';
import { SimClusterView } from './view.ts';

/** Mean service time of one background job (other tenants' work). */
export const BACKGROUND_JOB_MS = 100;

/** A handover event's argument packs (user, access point) into one number: user * AP_SLOTS + ap. */
const AP_SLOTS = 65536;

export interface SimulateOptions {
  /** Called now and then with the fraction of simulated time done (0..1). */
  onProgress?: (fraction: number) => void;
  /** Receives every request after warm-up (for requests.csv). */
  requestSink?: (r: RequestRecord) => void;
  /** Trace files for trace-driven mobility. */
  traces?: TraceStore;
}

export interface SimulateResult extends RunData {
  /** Engine statistics (not written into results: they are not part of the model). */
  stats: { events: number; requests: number; rejectedDecisions: number };
}

export { scenarioHash } from '../cluster/scenario-hash.ts';

export function simulate(scenario: Scenario, policy: Policy, seed: number, opts: SimulateOptions = {}): SimulateResult {
  return new Simulator(scenario, policy, seed, opts).run();
}

export class Simulator {
  readonly engine = new Engine();
  readonly endUs: number;
  readonly warmupUs: number;
  /** The cluster state the view reads (shared with the live backend's layout); the fields below alias its arrays. */
  readonly state: ClusterState;
  readonly latency: LatencyModel;
  readonly graph: BackhaulGraph;
  readonly flows: FlowNetwork;
  readonly observed: ObservedMetrics;
  readonly collector: ResultCollector;
  readonly view: SimClusterView;
  private readonly migrations: MigrationRunner;

  // --- nodes ---
  readonly nodeIndex: ReadonlyMap<string, number>;
  readonly nodeCores: Int32Array;
  readonly nodeSpeed: Float64Array;
  /** Free time of each core, flat: cores of node n at [coreStart[n], coreStart[n+1]). */
  private readonly coreFreeUs: Float64Array;
  private readonly coreStart: Int32Array;
  readonly memUsedMiB: Float64Array;
  readonly memReservedMiB: Float64Array;
  readonly containersOn: Float64Array;

  // --- users ---
  readonly userIndex: ReadonlyMap<string, number>;
  readonly userAp: Int32Array;
  readonly userContainer: Int32Array;
  private readonly userPayloadKiB: Float64Array;
  private readonly userTimeoutUs: Float64Array;
  // Current leg of each user as numbers (a pause or no leg: both ends equal).
  private readonly legT0: Float64Array;
  private readonly legT1: Float64Array;
  private readonly legX0: Float64Array;
  private readonly legY0: Float64Array;
  private readonly legX1: Float64Array;
  private readonly legY1: Float64Array;
  /** Scratch output of locate(): no Point allocated per request. */
  private posX = 0;
  private posY = 0;
  private readonly legSources: LegSource[];
  private readonly apIndex: ApIndex;

  // --- containers ---
  readonly containerIndex: ReadonlyMap<string, number>;
  readonly containerNode: Int32Array;
  /** 1 while the container does not admit requests (migration downtime). */
  readonly containerDown: Uint8Array;
  readonly containerMigrating: Uint8Array;
  readonly lastMigrationEndMs: Float64Array;
  /** Latest departure of an admitted request: a checkpoint drains up to here. */
  readonly lastDepartureUs: Float64Array;
  /** Post-copy: pages still streaming until this time (requests pay a penalty). */
  readonly lazyUntilUs: Float64Array;
  private readonly held: number[][]; // per container: [user, origSentUs, serviceUs]*
  private readonly samplers: Array<() => number>;

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

  private requestCount = 0;
  private rejected = 0;
  private readonly bgJobUs: number;

  constructor(
    readonly scenario: Scenario,
    readonly policy: Policy,
    readonly seed: number,
    private readonly opts: SimulateOptions = {},
  ) {
    const s = scenario;
    this.endUs = Math.round(s.durationS * US_PER_S);
    this.warmupUs = Math.round(s.warmupS * US_PER_S);
    const topo = s.topology;
    const st = new ClusterState(s);
    this.state = st;
    this.graph = st.graph;
    this.latency = st.latency;
    this.observed = st.observed;
    this.nodeIndex = st.nodeIndex;
    this.containerIndex = st.containerIndex;
    this.userIndex = st.userIndex;
    this.memUsedMiB = st.memUsedMiB;
    this.memReservedMiB = st.memReservedMiB;
    this.containerNode = st.containerNode;
    this.containerMigrating = st.containerMigrating;
    this.lastMigrationEndMs = st.lastMigrationEndMs;
    this.userContainer = st.userContainer;
    this.userPayloadKiB = st.userPayloadKiB;
    this.flows = new FlowNetwork(this.engine, topo.links.map((l) => l.bandwidthMbps));

    // Nodes.
    const N = topo.nodes.length;
    this.nodeCores = new Int32Array(N);
    this.nodeSpeed = new Float64Array(N);
    this.coreStart = new Int32Array(N + 1);
    topo.nodes.forEach((n, i) => {
      this.nodeCores[i] = n.cpuCores;
      this.nodeSpeed[i] = n.speedFactor;
      this.coreStart[i + 1] = this.coreStart[i] + n.cpuCores;
    });
    this.coreFreeUs = new Float64Array(this.coreStart[N]);
    this.containersOn = new Float64Array(N);

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
    s.containers.forEach((c, i) => {
      this.containersOn[this.containerNode[i]]++;
      this.held.push([]);
      const key = JSON.stringify(c.serviceTime);
      let sampler = samplerBySpec.get(key);
      if (sampler === undefined) {
        sampler = createServiceTimeSampler(c.serviceTime, this.serviceRng);
        samplerBySpec.set(key, sampler);
      }
      this.samplers.push(sampler);
    });

    // Users.
    const U = s.users.length;
    // Handover events pack (user, access point) into one exact integer: both must fit.
    if (topo.accessPoints.length > AP_SLOTS || U * AP_SLOTS > Number.MAX_SAFE_INTEGER) {
      throw new ConmigError('SCENARIO_INVALID', `the simulator handles at most ${AP_SLOTS} access points and ${Math.floor(Number.MAX_SAFE_INTEGER / AP_SLOTS)} users, got ${topo.accessPoints.length} and ${U}`, {
        problems: [{ path: 'topology.accessPoints', message: `expected at most ${AP_SLOTS} access points` }],
      });
    }
    this.userAp = new Int32Array(U);
    this.userTimeoutUs = new Float64Array(U);
    this.legT0 = new Float64Array(U);
    this.legT1 = new Float64Array(U);
    this.legX0 = new Float64Array(U);
    this.legY0 = new Float64Array(U);
    this.legX1 = new Float64Array(U);
    this.legY1 = new Float64Array(U);
    this.legSources = [];
    this.apIndex = new ApIndex(topo.accessPoints);
    s.users.forEach((u, i) => {
      this.userTimeoutUs[i] = Math.round(u.requests.timeoutMs * 1000);
      const src = createLegSource(u, { areaM: topo.areaM, seed, traces: opts.traces });
      this.legSources.push(src);
      this.legX0[i] = this.legX1[i] = src.start.xM;
      this.legY0[i] = this.legY1[i] = src.start.yM;
      this.userAp[i] = this.apIndex.nearest(src.start);
    });

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

    const perUser = s.output.perUserSeries ? s.users.map((u) => u.id) : null;
    this.collector = new ResultCollector(
      Math.round(s.reportIntervalS * US_PER_S),
      this.endUs,
      this.warmupUs,
      s.qosThresholdMs,
      topo.nodes.map((n) => n.id),
      topo.nodes.map((n) => n.cpuCores),
      perUser,
    );
    this.view = new SimClusterView(this);
    this.migrations = new MigrationRunner(this);
    this.controlPort = { view: this.view, startMigration: (m) => this.migrations.start(m) };
  }

  /** The simulator as the controller sees it (the same port the live backend offers). */
  readonly controlPort: ControlPort;

  inFlightMigrations(): MigrationInFlightView[] {
    return this.migrations.inFlight();
  }

  // ------------------------------------------------------------------------
  // Run
  // ------------------------------------------------------------------------

  run(): SimulateResult {
    const e = this.engine;
    if (this.totalRatePerUs > 0) e.schedule(this.nextGapUs(this.arrivalRng, this.totalRatePerUs), Priority.arrival, this.onArrival);
    if (this.bgRatePerUs > 0) e.schedule(this.nextGapUs(this.backgroundRng, this.bgRatePerUs), Priority.arrival, this.onBackground);
    for (let u = 0; u < this.legSources.length; u++) this.nextLeg(u);
    const controlUs = Math.round(this.scenario.controlIntervalS * US_PER_S);
    e.schedule(controlUs, Priority.control, this.onControl);
    const reportUs = Math.round(this.scenario.reportIntervalS * US_PER_S);
    e.schedule(Math.min(reportUs, this.endUs), Priority.sample, this.onReportWindowEnd, 0);
    this.opts.onProgress?.(0);
    e.run(this.endUs);
    this.opts.onProgress?.(1);
    return this.finish();
  }

  private nextGapUs(rng: Rng, ratePerUs: number): number {
    // At least 1 us apart: integer time cannot hold two arrivals of one stream in the same instant.
    return Math.max(1, Math.round(exponential(rng, 1 / ratePerUs)));
  }

  // ------------------------------------------------------------------------
  // Requests
  // ------------------------------------------------------------------------

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
    const rttUs = Math.round(this.rttMs(u, n, sendUs) * 1000);
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
    this.observed.add(completion, c, n, responseUs, rttUs, svcUs, queueUs, svcUs * this.nodeSpeed[n]);
    this.collector.nodeWork(start, n, svcUs, queueUs, true);
    if (origUs < this.warmupUs) return;
    const failed = responseUs > this.userTimeoutUs[u];
    if (completion > this.endUs) this.collector.unfinished++;
    else if (failed) this.collector.failed1(origUs);
    else this.collector.served1(origUs, u, responseUs, rttUs, queueUs, svcUs, waitUs);
    const sink = this.opts.requestSink;
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
    this.observed.add(start + svcUs, -1, n, 0, 0, svcUs, start - now, svcUs * this.nodeSpeed[n]);
    this.collector.nodeWork(start, n, svcUs, start - now, false);
  };

  // ------------------------------------------------------------------------
  // Network and mobility
  // ------------------------------------------------------------------------

  /** Sets posX/posY to user u's position at time t (on its current leg). */
  private locate(u: number, timeUs: number): void {
    const t0 = this.legT0[u];
    const t1 = this.legT1[u];
    if (timeUs >= t1) {
      this.posX = this.legX1[u];
      this.posY = this.legY1[u];
    } else if (timeUs <= t0) {
      this.posX = this.legX0[u];
      this.posY = this.legY0[u];
    } else {
      const f = (timeUs - t0) / (t1 - t0);
      this.posX = this.legX0[u] + f * (this.legX1[u] - this.legX0[u]);
      this.posY = this.legY0[u] + f * (this.legY1[u] - this.legY0[u]);
    }
  }

  positionOf(u: number, timeUs: number): Point {
    this.locate(u, timeUs);
    return { xM: this.posX, yM: this.posY };
  }

  /** Network RTT (ms) of user u's request to node n at time t. */
  rttMs(u: number, n: number, timeUs: number): number {
    this.locate(u, timeUs);
    return this.latency.networkRttMsXY(this.posX, this.posY, this.userAp[u], n, this.userPayloadKiB[u]);
  }

  /** Nodes by RTT from user u now (indices). */
  nodeOrder(u: number): readonly number[] {
    return this.latency.nodeOrderAt(this.positionOf(u, this.engine.now), this.userAp[u], this.userPayloadKiB[u]);
  }

  private nextLeg(u: number): void {
    const leg = this.legSources[u].next();
    if (leg === null) {
      // Stay at the end of the last leg for ever.
      this.legX0[u] = this.legX1[u];
      this.legY0[u] = this.legY1[u];
      this.legT0[u] = this.legT1[u] = 0;
      return;
    }
    this.legT0[u] = leg.startUs;
    this.legT1[u] = leg.endUs;
    this.legX0[u] = leg.from.xM;
    this.legY0[u] = leg.from.yM;
    this.legX1[u] = leg.to.xM;
    this.legY1[u] = leg.to.yM;
    for (const h of handoversAlongLeg(leg, this.apIndex)) {
      if (h.atUs > this.endUs) break;
      this.engine.scheduleAt(h.atUs, Priority.mobility, this.onHandover, u * AP_SLOTS + h.apIndex);
    }
    if (leg.endUs <= this.endUs) this.engine.scheduleAt(leg.endUs, Priority.mobility, this.onLegEnd, u);
  }

  private readonly onHandover = (arg: number): void => {
    const u = Math.floor(arg / AP_SLOTS);
    this.userAp[u] = arg - u * AP_SLOTS;
  };

  private readonly onLegEnd = (u: number): void => {
    this.nextLeg(u);
  };

  // ------------------------------------------------------------------------
  // Control and sampling
  // ------------------------------------------------------------------------

  private readonly onControl = (): void => {
    const now = this.engine.now;
    this.observed.closeIntervals(now);
    this.view.refresh(now);
    this.rejected += controlStep(this.policy, this.controlPort).rejected.length;
    const controlUs = Math.round(this.scenario.controlIntervalS * US_PER_S);
    if (now + controlUs < this.endUs) this.engine.schedule(controlUs, Priority.control, this.onControl);
  };

  private readonly onReportWindowEnd = (w: number): void => {
    const userNode = this.scenario.output.perUserSeries ? this.state.userNodes() : null;
    this.collector.sampleWindowEnd(w, this.containersOn, this.state.memoryPerNodeMiB(), userNode);
    this.opts.onProgress?.(this.engine.now / this.endUs);
    const reportUs = Math.round(this.scenario.reportIntervalS * US_PER_S);
    const next = this.engine.now + reportUs;
    if (w + 1 < this.collector.windows) this.engine.scheduleAt(Math.min(next, this.endUs), Priority.sample, this.onReportWindowEnd, w + 1);
  };

  // ------------------------------------------------------------------------
  // End of run
  // ------------------------------------------------------------------------

  private finish(): SimulateResult {
    const col = this.collector;
    // Requests still travelling or held back at the end are unfinished (unless already timed out).
    const freeSet = new Set(this.freeSlots);
    for (let slot = 0; slot < this.slotUser.length; slot++) {
      if (freeSet.has(slot) || this.slotOrigUs[slot] < this.warmupUs) continue;
      col.unfinished++;
    }
    for (let c = 0; c < this.held.length; c++) {
      const list = this.held[c];
      for (let i = 0; i < list.length; i += 3) {
        const u = list[i];
        const orig = list[i + 1];
        if (orig < this.warmupUs) continue;
        if (this.endUs - orig > this.userTimeoutUs[u]) col.failed1(orig);
        else col.unfinished++;
      }
    }
    if (col.served + col.failedTotal + col.unfinished !== col.generated) {
      throw new ConmigError('SIM_INVARIANT', 'request conservation violated', {
        context: { generated: col.generated, served: col.served, failed: col.failedTotal, unfinished: col.unfinished },
      });
    }
    const migrations = this.migrations.records(this.engine.now);
    const data = buildRunData({
      scenario: this.scenario,
      policy: this.policy,
      seed: this.seed,
      mode: 'sim',
      durationS: this.scenario.durationS,
      collector: col,
      migrations,
    });
    return { ...data, stats: { events: this.engine.fired, requests: this.requestCount, rejectedDecisions: this.rejected } };
  }
}
