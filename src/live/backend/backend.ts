/**
 * The live backend: a ControlPort over real nodes. `view` is a
 * LiveClusterView (view.ts); `startMigration` runs the real migration
 * primitive (migrateContainer) asynchronously, one per container at a time;
 * `step()` is what happens before each control decision: read (cpu.ts) every node's
 * container CPU counters over SSH (one command per node, in parallel), file
 * them as busy time, close the metric intervals up to now and refresh the view.
 *
 * The control loop (run.ts) calls `step()` and then `controlStep(policy, backend)`
 * every controlIntervalS of scenario time, exactly as the simulator's onControl does.
 */
import { performance } from 'node:perf_hooks';
import type { AcceptedMigration } from '../../model/decisions.ts';
import type { ControlPort } from '../../model/control.ts';
import { ConmigError, isConmigError } from '../../model/errors.ts';
import type { MigrationRecord, MigrationStatus } from '../../model/results.ts';
import type { Scenario } from '../../model/types.ts';
import type { CriuProbe } from '../criu-probe.ts';
import type { ExecPool } from '../exec/pool.ts';
import { shq } from '../exec/types.ts';
import type { Inventory, InventoryNode } from '../inventory.ts';
import { migrateContainer } from '../migrate/migrator.ts';
import type { LiveMigrationResult } from '../migrate/result.ts';
import type { ScenarioClock } from './clock.ts';
import { NodeCpu } from './cpu.ts';
import type { UserMotion } from './motion.ts';
import { LiveClusterView, LiveState } from './view.ts';

export { cpuTotalNs } from './cpu.ts';

/** What one live migration produced, beyond the MigrationRecord row. */
export interface LiveMigrationDetail {
  id: number;
  containerId: string;
  from: string;
  to: string;
  status: MigrationStatus;
  /** Scenario seconds the migration started / ended. */
  startS: number;
  endS: number;
  /** Present when migrateContainer returned. */
  result?: Omit<LiveMigrationResult, 'startS'>;
  error?: { code: string; message: string; runningOn?: string };
  /** `runc list` on the node the backend records the container on, after the migration. */
  verifiedOn?: string | null;
  /**
   * Scenario seconds the container was free for the policy again: after that check, which is
   * one SSH round trip past endS (seconds of scenario time on a loaded machine).
   */
  settledS: number;
}

/** The migration primitive (injectable for tests of the backend's bookkeeping). */
export type MigrateFn = typeof migrateContainer;

export interface LiveBackendOptions {
  scenario: Scenario;
  motion: UserMotion;
  inventory: Inventory;
  /** Inventory node per scenario node, in scenario order. */
  nodes: readonly InventoryNode[];
  /** Container name on the nodes per scenario container, in scenario order. */
  containerNames: readonly string[];
  ports: readonly number[];
  pool: ExecPool;
  clock: ScenarioClock;
  /** Aborting it interrupts migrations (they finish or roll back). */
  signal: AbortSignal;
  probeCache: Map<string, CriuProbe>;
  migrate?: MigrateFn;
  /** The container's placement changed (users re-send outstanding requests). */
  onContainerMoved?: (c: number, n: number) => void;
  onMigrationStarted?: (scenUs: number) => void;
  /** A busy-time sample of node n: CPU µs (scenario-scaled) over [fromScenUs, toScenUs]. */
  onNodeBusy?: (n: number, fromScenUs: number, toScenUs: number, busyScenUs: number) => void;
}

export interface StepTiming {
  /** Wall ms of the CPU probe (SSH, all nodes in parallel). */
  probeWallMs: number;
  /** SSH commands run for it. */
  sshCommands: number;
  /** Scenario time of the refreshed view. */
  viewAtScenUs: number;
}

export class LiveBackend implements ControlPort {
  readonly state: LiveState;
  readonly view: LiveClusterView;
  readonly records: MigrationRecord[] = [];
  readonly details: LiveMigrationDetail[] = [];
  /** Set when a migration left a container on no known node: the run must stop. */
  lostContainer: string | null = null;
  private readonly running = new Map<number, Promise<void>>();
  private readonly cpu: NodeCpu;
  private nextId = 1;

  constructor(private readonly o: LiveBackendOptions) {
    this.state = new LiveState(o.scenario, o.motion);
    this.view = new LiveClusterView(this.state);
    const speed = o.scenario.topology.nodes.map((n) => n.speedFactor);
    this.cpu = new NodeCpu(o.nodes, o.pool, o.clock, (n, fromScenUs, toScenUs, cpuScenUs) => {
      // Busy time is CPU at the node's speed, as in the simulator: a node of cpuCores x speedFactor
      // cores (a testbed node limited to that) is fully used at utilisation 1, not at speedFactor.
      const busyScenUs = cpuScenUs / speed[n];
      this.state.observed.add(toScenUs, -1, n, 0, 0, busyScenUs, 0, 0, 0);
      this.o.onNodeBusy?.(n, fromScenUs, toScenUs, busyScenUs);
    });
  }

  get migrationsRunning(): number {
    return this.running.size;
  }

  /** Wait until no migration is in flight. */
  async whenIdle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()]);
  }

  /**
   * Close metric intervals up to now and refresh the view, after filing the
   * CPU time reported since the last step: from the node monitors when they
   * run (no SSH round trip in the step), else by one SSH command per node.
   * Throws NODE_UNREACHABLE when a node was lost.
   */
  async step(): Promise<StepTiming> {
    const t0 = performance.now();
    let sshCommands = 0;
    if (this.cpu.streaming) this.cpu.fileLatest();
    else {
      await this.cpu.sample();
      sshCommands = this.o.nodes.length;
    }
    const probeWallMs = performance.now() - t0;
    const now = this.o.clock.nowScenUs();
    this.state.observed.closeIntervals(now);
    this.view.refresh(now);
    return { probeWallMs, sshCommands, viewAtScenUs: now };
  }

  /** One sample of every node's container CPU counters (one SSH command per node, in parallel). */
  sampleCpu(): Promise<void> {
    return this.cpu.sample();
  }

  /** Stream the CPU counters every `everyWallMs` (one long-running SSH command per node); see NodeCpu. */
  startMonitors(everyWallMs: number): void {
    this.cpu.start(everyWallMs);
  }

  stopMonitors(): void {
    this.cpu.stop();
  }

  startMigration(m: AcceptedMigration): void {
    const st = this.state;
    const c = st.containerIndex.get(m.containerId);
    const from = st.nodeIndex.get(m.from);
    const to = st.nodeIndex.get(m.to);
    if (c === undefined || from === undefined || to === undefined) {
      throw new ConmigError('SIM_INVARIANT', `accepted migration names an unknown container or node`, { context: { ...m } });
    }
    if (this.running.has(c) || st.containerMigrating[c] === 1) {
      throw new ConmigError('SIM_INVARIANT', `container ${m.containerId} is already migrating`, { context: { ...m } });
    }
    const spec = this.o.scenario.containers[c];
    const startScenUs = this.o.clock.nowScenUs();
    const id = this.nextId++;
    st.containerMigrating[c] = 1;
    st.memReservedMiB[to] += spec.memoryMiB;
    st.inFlight.set(c, { containerId: m.containerId, from: m.from, to: m.to, mode: m.mode, startedMs: startScenUs / 1000 });
    this.o.onMigrationStarted?.(startScenUs);
    const t0Wall = performance.now();
    const migrate = this.o.migrate ?? migrateContainer;
    const p = migrate({
      inventory: this.o.inventory,
      container: this.o.containerNames[c],
      from: this.o.nodes[from].name,
      to: this.o.nodes[to].name,
      mode: m.mode,
      pool: this.o.pool,
      signal: this.o.signal,
      probeCache: this.o.probeCache,
      port: this.o.ports[c],
      id,
      reason: m.reason,
      // The users are sent to the destination when its restore begins: their retries reach the
      // container the moment it answers there, so the downtime they see is the one the prober
      // measures and calibration fits (the simulator's downtime). Sent only once `runc restore`
      // returned (verification), they waited for runc and CRIU to exit after the restored process
      // already answered (on the validation campaign no held request was served before runc
      // returned; now nearly all are, BENCHMARKS.md). The backend's placement follows; finished() sets the final
      // node (back to `from` on a rollback).
      onPhase: (phase, state) => {
        if (phase !== 'restore' || state !== 'start' || st.containerNode[c] === to) return;
        st.containerNode[c] = to;
        this.o.onContainerMoved?.(c, to);
      },
    })
      .then(
        (r) => this.finished(c, from, to, id, m, startScenUs, r, null, performance.now() - t0Wall),
        (e: unknown) => this.finished(c, from, to, id, m, startScenUs, null, e, performance.now() - t0Wall),
      )
      .finally(() => this.running.delete(c));
    this.running.set(c, p);
  }

  private async finished(
    c: number,
    from: number,
    to: number,
    id: number,
    m: AcceptedMigration,
    startScenUs: number,
    r: LiveMigrationResult | null,
    err: unknown,
    wallMs: number,
  ): Promise<void> {
    const st = this.state;
    const spec = this.o.scenario.containers[c];
    let status: MigrationStatus;
    let endOn: number | null;
    let error: LiveMigrationDetail['error'];
    if (r) {
      status = 'ok';
      endOn = to;
    } else {
      const ce = isConmigError(err) ? err : null;
      const runningOn = typeof ce?.context.runningOn === 'string' ? ce.context.runningOn : undefined;
      error = { code: ce?.code ?? 'MIGRATION_FAILED', message: err instanceof Error ? err.message : String(err), runningOn };
      if (runningOn === this.o.nodes[to].name) {
        status = 'ok'; // interrupted after the destination was verified: it moved
        endOn = to;
      } else if (runningOn === this.o.nodes[from].name) {
        status = 'rolled-back';
        endOn = from;
      } else if (runningOn === undefined) {
        status = 'failed'; // refused before the checkpoint: nothing was changed
        endOn = from;
      } else {
        status = 'failed';
        endOn = null;
      }
    }
    const endScenUs = this.o.clock.nowScenUs();
    st.memReservedMiB[to] -= spec.memoryMiB;
    if (endOn === to) {
      st.memUsedMiB[from] -= spec.memoryMiB;
      st.memUsedMiB[to] += spec.memoryMiB;
    }
    st.containerNode[c] = endOn ?? from;
    st.lastMigrationEndMs[c] = endScenUs / 1000;
    if (endOn === null) this.lostContainer = `${spec.id} (${error?.message ?? 'rollback failed'})`;
    this.o.onContainerMoved?.(c, st.containerNode[c]);
    let verifiedOn: string | null = null;
    if (endOn !== null) {
      const n = this.o.nodes[endOn];
      const out = await this.o.pool
        .get(n.name)
        .run(`runc --root ${shq(n.runcRoot)} list -q`, { timeoutMs: 15_000 })
        .catch(() => null);
      verifiedOn = out && out.stdout.split('\n').includes(this.o.containerNames[c]) ? n.name : null;
    }
    // Migrating until the placement is verified: startMigration refuses the container until then
    // (`running` still holds it), so a control step during the check must not see it free.
    const settledScenUs = this.o.clock.nowScenUs();
    st.containerMigrating[c] = 0;
    st.inFlight.delete(c);
    // Without a result (pre-flight refused, or the primitive threw), the phases are unknown.
    const row: MigrationRecord = {
      id,
      containerId: spec.id,
      from: m.from,
      to: m.to,
      mode: m.mode,
      reason: m.reason,
      startS: startScenUs / 1e6,
      precopyRounds: r ? r.precopyRounds : 0,
      precopyMs: r ? r.precopyMs : 0,
      checkpointMs: r ? r.checkpointMs : Number.NaN,
      transferMs: r ? r.transferMs : Number.NaN,
      restoreMs: r ? r.restoreMs : Number.NaN,
      lazyPagesMs: r ? r.lazyPagesMs : 0,
      downtimeMs: r ? r.downtimeMs : Number.NaN,
      totalMs: r ? r.totalMs : wallMs,
      bytes: r ? r.bytes : 0,
      status,
      ...(r?.transport ? { transport: r.transport } : {}),
    };
    this.records.push(row);
    let result: LiveMigrationDetail['result'];
    if (r) {
      const { startS: _epoch, ...rest } = r;
      result = rest;
    }
    this.details.push({
      id,
      containerId: spec.id,
      from: m.from,
      to: m.to,
      status,
      startS: startScenUs / 1e6,
      endS: endScenUs / 1e6,
      ...(result ? { result } : {}),
      ...(error ? { error } : {}),
      verifiedOn,
      settledS: settledScenUs / 1e6,
    });
  }
}
