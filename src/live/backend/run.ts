/**
 * One live run of one (scenario, policy): emulated users send requests,
 * every controlIntervalS of scenario time the backend refreshes its view and
 * `controlStep(policy, backend)` decides (the same function the simulator
 * calls), and everything measured goes into the simulator's ResultCollector
 * so the run's files have exactly the simulation's schema and meaning.
 *
 * Ending: at durationS, or early when `signal` aborts (Ctrl-C) or a node
 * stops answering. Either way the users stop (requests still outstanding are
 * `unfinished`, or `failed` past their timeout, as in the simulator), the
 * migrations in flight finish or roll back, and the results so far are
 * returned with `ended` saying how the run ended.
 */
import { performance, monitorEventLoopDelay } from 'node:perf_hooks';
import { controlStep } from '../../model/control.ts';
import { isConmigError } from '../../model/errors.ts';
import type { Policy } from '../../model/policy.ts';
import type { RequestRecord, RunData } from '../../model/results.ts';
import type { Scenario } from '../../model/types.ts';
import { ResultCollector } from '../../cluster/collector.ts';
import { buildRunData } from '../../cluster/run-data.ts';
import type { CriuProbe } from '../criu-probe.ts';
import type { ExecPool } from '../exec/pool.ts';
import type { Inventory, InventoryNode } from '../inventory.ts';
import type { AccessPath } from './access.ts';
import { LiveBackend, type LiveMigrationDetail, type MigrateFn } from './backend.ts';
import { createScenarioClock, sleepUntilScen } from './clock.ts';
import { UserMotion } from './motion.ts';
import { EmulatedUsers } from './users.ts';

export type LiveRunEnd = 'completed' | 'interrupted' | 'node-lost' | 'container-lost';

export interface LivePolicyRunOptions {
  scenario: Scenario;
  policy: Policy;
  seed: number;
  inventory: Inventory;
  nodes: readonly InventoryNode[];
  containerNames: readonly string[];
  ports: readonly number[];
  pool: ExecPool;
  access: AccessPath;
  baseRttMs: readonly number[];
  probeCache: Map<string, CriuProbe>;
  /** Ctrl-C: stop the run (migrations get it too and finish or roll back). */
  signal: AbortSignal;
  /** HTTP path the users request (default /plate). */
  path?: string;
  requestSink?: (r: RequestRecord) => void;
  onProgress?: (fraction: number) => void;
  migrate?: MigrateFn;
  /** How node CPU is read: one long-running SSH command per node (default) or one SSH command per node per step. */
  cpuProbe?: 'stream' | 'per-step';
}

export interface ControlStats {
  steps: number;
  /** Scenario seconds of each step's view (its nominal time k * controlIntervalS, or later when the step woke late). */
  stepAtS: number[];
  /** The most a step's view was late against its nominal time, wall ms (derivable from stepAtS; kept for the summary). */
  stepLateWallMsMax: number;
  /** Wall ms from the start of the view refresh to the decisions, per step. */
  stepWallMs: number[];
  /** Wall ms of the CPU probe (SSH to every node, in parallel) per step. */
  probeWallMs: number[];
  /** Wall ms of policy.decide + validation, per step. */
  decideWallMs: number[];
  /** SSH commands run inside each step (0 with streaming CPU monitors). */
  sshCommandsPerStep: number;
  cpuProbe: 'stream' | 'per-step';
  rejectedDecisions: number;
}

export interface LivePolicyRunResult {
  data: RunData;
  ended: LiveRunEnd;
  endedReason: string;
  migrations: LiveMigrationDetail[];
  control: ControlStats;
  users: { generated: number; attempts: number; eventLoopLagP99Ms: number; eventLoopLagMaxMs: number };
  /** Scenario container id -> inventory node it runs on at the end (by the backend's record). */
  placement: Record<string, string>;
  wallStartIso: string;
  wallMs: number;
}

export async function runPolicyLive(o: LivePolicyRunOptions): Promise<LivePolicyRunResult> {
  const s = o.scenario;
  const timeScale = s.live?.timeScale ?? 1;
  const endUs = Math.round(s.durationS * 1e6);
  const warmupUs = Math.round(s.warmupS * 1e6);
  const controlUs = Math.round(s.controlIntervalS * 1e6);
  const reportUs = Math.round(s.reportIntervalS * 1e6);
  const motion = new UserMotion(s, o.seed);
  const runCtl = new AbortController();
  const onOuterAbort = (): void => runCtl.abort();
  if (o.signal.aborted) runCtl.abort();
  o.signal.addEventListener('abort', onOuterAbort, { once: true });

  const collector = new ResultCollector(
    reportUs,
    endUs,
    warmupUs,
    s.qosThresholdMs,
    s.topology.nodes.map((n) => n.id),
    s.topology.nodes.map((n) => n.cpuCores),
    s.output.perUserSeries ? s.users.map((u) => u.id) : null,
  );
  const wallStartIso = new Date().toISOString();
  const clock = createScenarioClock(timeScale);
  let users: EmulatedUsers | null = null;
  const backend = new LiveBackend({
    scenario: s,
    motion,
    inventory: o.inventory,
    nodes: o.nodes,
    containerNames: o.containerNames,
    ports: o.ports,
    pool: o.pool,
    clock,
    signal: o.signal,
    probeCache: o.probeCache,
    migrate: o.migrate,
    onContainerMoved: (c, n) => users?.containerMoved(c, n),
    onMigrationStarted: (scenUs) => collector.migrationStarted(scenUs),
    onNodeBusy: (n, fromUs, toUs, busyUs) => fileBusy(collector, n, fromUs, toUs, busyUs, s.topology.nodes[n].cpuCores),
  });
  const st = backend.state;
  o.baseRttMs.forEach((ms, n) => (st.baseRttMs[n] = ms));
  const sink = o.requestSink;
  const nodeIds = st.nodeIds;

  users = new EmulatedUsers({
    scenario: s,
    seed: o.seed,
    state: st,
    clock,
    access: o.access,
    path: o.path ?? '/plate',
    endpointOf: (c, n) => ({ node: o.nodes[n].name, address: o.nodes[n].address, port: o.ports[c] }),
    onSent: (_u, sentUs) => {
      if (collector.counts(sentUs)) collector.generated++;
    },
    onDone: (r) => {
      const respUs = r.responseMs * 1000;
      st.observe(r);
      if (!collector.counts(r.sentScenUs)) return;
      if (r.completionScenUs > endUs) {
        // Its age at the end in wall time (what a response time is measured in).
        collector.unfinished1(r.sentScenUs, r.sentScenUs + (endUs - r.sentScenUs) / timeScale);
        return;
      }
      if (r.status === 'served') {
        collector.served1(r.sentScenUs, r.u, respUs, r.networkMs * 1000, r.queueMs * 1000, r.serviceMs * 1000, r.waitMs * 1000);
        // Request count and queueing per node (the busy time comes from the CPU counters).
        collector.nodeWork(r.completionScenUs, r.n, 1, r.queueMs * 1000, true);
      } else collector.failed1(r.sentScenUs);
      sink?.({
        userId: s.users[r.u].id,
        containerId: s.containers[r.c].id,
        nodeId: nodeIds[r.n],
        sentS: r.sentScenUs / 1e6,
        status: r.status,
        responseMs: r.responseMs,
        networkMs: r.networkMs,
        queueMs: r.queueMs,
        serviceMs: r.serviceMs,
        migrationWaitMs: r.waitMs,
      });
    },
    onAbandoned: (u, _c, _n, sentUs, elapsedWallMs) => {
      if (!collector.counts(sentUs)) return;
      if (elapsedWallMs > s.users[u].requests.timeoutMs) collector.failed1(sentUs);
      // Late (a QoS violation already) when it waited longer than the threshold.
      else collector.unfinished1(sentUs, sentUs + elapsedWallMs * 1000);
    },
  });

  // Relay routes (or nothing, in-client) towards each user's container's start node.
  await o.access.open(s.users.length, (u) => {
    const c = st.userContainer[u];
    const n = st.containerNode[c];
    return { to: { node: o.nodes[n].name, address: o.nodes[n].address, port: o.ports[c] }, rttMs: st.modelRttMs(u, n, 0) };
  });

  // The histogram records the time between ticks of a `resolution` ms timer: the lag is what exceeds it.
  const LAG_RESOLUTION_MS = 10;
  const lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  lag.enable();
  const control: ControlStats = { steps: 0, stepAtS: [], stepLateWallMsMax: 0, stepWallMs: [], probeWallMs: [], decideWallMs: [], sshCommandsPerStep: 0, cpuProbe: o.cpuProbe ?? 'stream', rejectedDecisions: 0 };
  let ended: LiveRunEnd = 'completed';
  let endedReason = `scenario time ${s.durationS} s reached`;
  const t0Wall = performance.now();

  // Report windows: placement sampled at each window end, as the simulator does.
  const reportLoop = (async (): Promise<void> => {
    for (let w = 0; w < collector.windows; w++) {
      await sleepUntilScen(clock, Math.min((w + 1) * reportUs, endUs), runCtl.signal);
      if (runCtl.signal.aborted) return;
      sampleWindow(collector, backend, w, s.output.perUserSeries);
      o.onProgress?.(Math.min(1, clock.nowScenUs() / endUs));
    }
  })();

  try {
    await backend.sampleCpu(); // CPU baseline
    if (control.cpuProbe === 'stream') backend.startMonitors(Math.max(200, controlUs / 1000 / timeScale / 2));
    users.start(endUs);
    for (let k = 1; ; k++) {
      const atUs = k * controlUs;
      if (atUs >= endUs) {
        await sleepUntilScen(clock, endUs, runCtl.signal);
        break;
      }
      await sleepUntilScen(clock, atUs, runCtl.signal);
      if (runCtl.signal.aborted) break;
      if (backend.lostContainer) {
        ended = 'container-lost';
        endedReason = `a migration left ${backend.lostContainer} on no known node`;
        break;
      }
      const tStep = performance.now();
      const timing = await backend.step();
      const viewAtUs = timing.viewAtScenUs;
      const tDecide = performance.now();
      control.rejectedDecisions += controlStep(o.policy, backend).rejected.length;
      const tEnd = performance.now();
      control.steps++;
      control.stepAtS.push(viewAtUs / 1e6);
      control.stepLateWallMsMax = Math.max(control.stepLateWallMsMax, (viewAtUs - atUs) / 1000 / timeScale);
      control.stepWallMs.push(tEnd - tStep);
      control.probeWallMs.push(timing.probeWallMs);
      control.decideWallMs.push(tEnd - tDecide);
      control.sshCommandsPerStep = Math.max(control.sshCommandsPerStep, timing.sshCommands);
    }
  } catch (e) {
    if (isConmigError(e) && (e.code === 'NODE_UNREACHABLE' || e.code === 'HOSTKEY_MISMATCH')) {
      ended = 'node-lost';
      endedReason = e.message;
    } else {
      runCtl.abort();
      backend.stopMonitors();
      await users.stop();
      await backend.whenIdle();
      o.signal.removeEventListener('abort', onOuterAbort);
      lag.disable();
      throw e;
    }
  }
  if (ended === 'completed' && o.signal.aborted) {
    ended = 'interrupted';
    endedReason = 'interrupted (Ctrl-C) at scenario time ' + (clock.nowScenUs() / 1e6).toFixed(1) + ' s';
  }
  const endScenUs = Math.min(endUs, clock.nowScenUs());
  runCtl.abort();
  await users.stop();
  await reportLoop;
  backend.stopMonitors();
  // Migrations in flight finish (or roll back when interrupted): no container is left half-migrated.
  await backend.whenIdle();
  lag.disable();
  o.signal.removeEventListener('abort', onOuterAbort);
  if (ended !== 'completed') {
    // Windows not reached: sample the placement now so the last rows are meaningful.
    const w = Math.min(collector.windows - 1, Math.floor(endScenUs / reportUs));
    sampleWindow(collector, backend, w, s.output.perUserSeries);
  }
  o.onProgress?.(1);

  const data = buildRunData({
    scenario: s,
    policy: o.policy,
    seed: o.seed,
    mode: 'live',
    durationS: ended === 'completed' ? s.durationS : endScenUs / 1e6,
    collector,
    migrations: [...backend.records].sort((a, b) => a.startS - b.startS || a.id - b.id),
  });
  const placement: Record<string, string> = {};
  s.containers.forEach((c, i) => (placement[c.id] = o.nodes[st.containerNode[i]].name));
  return {
    data,
    ended,
    endedReason,
    migrations: backend.details,
    control,
    users: {
      generated: users.generated,
      attempts: users.attemptsTotal,
      eventLoopLagP99Ms: Math.max(0, lag.percentile(99) / 1e6 - LAG_RESOLUTION_MS),
      eventLoopLagMaxMs: Math.max(0, lag.max / 1e6 - LAG_RESOLUTION_MS),
    },
    placement,
    wallStartIso,
    wallMs: performance.now() - t0Wall,
  };
}

function sampleWindow(collector: ResultCollector, backend: LiveBackend, w: number, perUser: boolean): void {
  const st = backend.state;
  collector.sampleWindowEnd(w, st.containersPerNode(), st.memoryPerNodeMiB(), perUser ? st.userNodes() : null);
}

/** Spread a measured busy time over [from, to] as `cores` parallel segments (the collector splits them over report windows). */
function fileBusy(collector: ResultCollector, n: number, fromUs: number, toUs: number, busyUs: number, cores: number): void {
  const spanUs = Math.max(1, toUs - fromUs);
  let left = busyUs;
  for (let k = 0; k < cores && left > 0; k++) {
    const part = Math.min(spanUs, left);
    collector.nodeWork(fromUs, n, part, 0, false);
    left -= part;
  }
}

