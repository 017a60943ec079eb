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
import type { Point, Scenario } from '../model/types.ts';
import type { MigrationInFlightView } from '../model/view.ts';
import { controlStep, type ControlPort } from '../model/control.ts';
import type { RequestRecord, RunData } from '../model/results.ts';
import { US_PER_S } from '../model/units.ts';
import { buildRunData } from '../cluster/run-data.ts';
import { ResultCollector } from '../cluster/collector.ts';
import type { ObservedMetrics } from '../cluster/observed.ts';
import { ClusterState } from '../cluster/state.ts';
import type { TraceStore } from '../mobility/index.ts';
import { Engine, Priority } from './engine.ts';
import { FlowNetwork } from './flows.ts';
import { MigrationRunner } from './migration.ts';
import { SimMotion } from './motion.ts';
import { SimRequests } from './requests.ts';
import { SimClusterView } from './view.ts';

export { BACKGROUND_JOB_MS } from './requests.ts';

export interface SimulateOptions {
  /** Called now and then with the fraction of simulated time done (0..1). */
  onProgress?: (fraction: number) => void;
  /** Receives every request after warm-up (for requests.csv). */
  requestSink?: (r: RequestRecord) => void;
  /** Trace files for trace-driven mobility. */
  traces?: TraceStore;
  /** scenarioHash(scenario), when the caller has it (city-grid's takes ~40 ms: once per run, not per policy). */
  scenarioHash?: string;
}

export interface SimulateResult extends RunData {
  /** Engine statistics (not written into results: they are not part of the model). */
  stats: { events: number; requests: number; rejectedDecisions: number };
}

export { scenarioHash } from '../cluster/scenario-hash.ts';

export function simulate(scenario: Scenario, policy: Policy, seed: number, opts: SimulateOptions = {}): SimulateResult {
  return new Simulator(scenario, policy, seed, opts).run();
}

/**
 * The run: the cluster state, the users' motion (motion.ts), the requests
 * (requests.ts), migrations (migration.ts), the control steps and report
 * windows. The fields below alias the parts' arrays that migrations change.
 */
export class Simulator {
  readonly engine = new Engine();
  readonly endUs: number;
  readonly warmupUs: number;
  /** The cluster state the view reads (shared with the live backend's layout). */
  readonly state: ClusterState;
  readonly latency: LatencyModel;
  readonly graph: BackhaulGraph;
  readonly flows: FlowNetwork;
  readonly observed: ObservedMetrics;
  readonly collector: ResultCollector;
  readonly view: SimClusterView;
  readonly motion: SimMotion;
  private readonly requests: SimRequests;
  private readonly migrations: MigrationRunner;

  readonly nodeIndex: ReadonlyMap<string, number>;
  readonly containerIndex: ReadonlyMap<string, number>;
  readonly memUsedMiB: Float64Array;
  readonly memReservedMiB: Float64Array;
  readonly containersOn: Float64Array;
  readonly userAp: Int32Array;
  readonly containerNode: Int32Array;
  readonly containerMigrating: Uint8Array;
  readonly lastMigrationEndMs: Float64Array;
  /** 1 while the container does not admit requests (migration downtime). */
  readonly containerDown: Uint8Array;

  private rejected = 0;

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
    this.memUsedMiB = st.memUsedMiB;
    this.memReservedMiB = st.memReservedMiB;
    this.containerNode = st.containerNode;
    this.containerMigrating = st.containerMigrating;
    this.lastMigrationEndMs = st.lastMigrationEndMs;
    this.flows = new FlowNetwork(this.engine, topo.links.map((l) => l.bandwidthMbps));
    this.containersOn = st.containersPerNode();

    this.motion = new SimMotion(s, seed, opts.traces, this.engine, this.endUs, st.latency, st.userPayloadKiB);
    this.userAp = this.motion.userAp;
    this.collector = new ResultCollector(
      Math.round(s.reportIntervalS * US_PER_S),
      this.endUs,
      this.warmupUs,
      s.qosThresholdMs,
      topo.nodes.map((n) => n.id),
      topo.nodes.map((n) => n.cpuCores),
      s.output.perUserSeries ? s.users.map((u) => u.id) : null,
    );
    this.requests = new SimRequests({
      scenario: s,
      seed,
      engine: this.engine,
      state: st,
      collector: this.collector,
      motion: this.motion,
      endUs: this.endUs,
      warmupUs: this.warmupUs,
      requestSink: opts.requestSink,
    });
    this.containerDown = this.requests.containerDown;
    this.view = new SimClusterView(this);
    this.migrations = new MigrationRunner(this);
    this.controlPort = { view: this.view, startMigration: (m) => this.migrations.start(m) };
  }

  /** The simulator as the controller sees it (the same port the live backend offers). */
  readonly controlPort: ControlPort;

  inFlightMigrations(): MigrationInFlightView[] {
    return this.migrations.inFlight();
  }

  /** Latest departure of a request admitted at container c (a checkpoint drains up to here). */
  lastDepartureUs(c: number): number {
    return this.requests.lastDepartureUs(c);
  }

  /** Post-copy: container c's pages stream until `timeUs`. */
  setLazyUntilUs(c: number, timeUs: number): void {
    this.requests.setLazyUntilUs(c, timeUs);
  }

  /** The container answers again: its users re-send what they held back. */
  releaseHeld(c: number): void {
    this.requests.releaseHeld(c);
  }

  /** Network RTT (ms) of user u's request to node n at time t. */
  rttMs(u: number, n: number, timeUs: number): number {
    return this.motion.viewRttMs(u, n, timeUs);
  }

  /** Nodes by RTT from user u now (indices). */
  nodeOrder(u: number): readonly number[] {
    return this.motion.nodeOrder(u);
  }

  positionOf(u: number, timeUs: number): Point {
    return this.motion.positionOf(u, timeUs);
  }

  // ------------------------------------------------------------------------
  // Run
  // ------------------------------------------------------------------------

  run(): SimulateResult {
    this.start();
    this.engine.run(this.endUs);
    this.opts.onProgress?.(1);
    return this.finish();
  }

  /** Schedule the first events (arrivals, mobility, control, sampling); run() then advances the engine to the end. */
  start(): void {
    const e = this.engine;
    this.requests.start();
    this.motion.start();
    const controlUs = Math.round(this.scenario.controlIntervalS * US_PER_S);
    e.schedule(controlUs, Priority.control, this.onControl);
    const reportUs = Math.round(this.scenario.reportIntervalS * US_PER_S);
    e.schedule(Math.min(reportUs, this.endUs), Priority.sample, this.onReportWindowEnd, 0);
    this.opts.onProgress?.(0);
  }

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
    this.requests.fileOutstanding();
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
      scenarioHash: this.opts.scenarioHash,
    });
    return { ...data, stats: { events: this.engine.fired, requests: this.requests.requestCount, rejectedDecisions: this.rejected } };
  }
}
