/**
 * Migrations as simulation processes. Same phases and constants as the
 * analytical model (src/model/migration-cost.ts), but every transfer is a
 * flow that shares link bandwidth max-min fairly with other migrations, so
 * concurrent migrations over a common link slow each other down. Phase names
 * are src/model/phases.ts's, as in the live migrator and the records:
 *
 *   cold:     stop -> drain -> checkpoint(mem) -> transfer(mem [+ image]) -> restore(mem)
 *   cold, coldTransport stream (disk-less): [image] -> stop -> drain -> checkpoint(mem)
 *             with transfer(mem) alongside: the flow starts max(setup, checkpointBaseMs)
 *             after the dump starts and the transfer phase ends when the flow and the
 *             dump have both ended (pages cannot land before CRIU writes them) -> restore(mem)
 *   precopy:  [image] -> predump rounds (transfer(dirty) while running) -> stop -> drain
 *             -> checkpoint(dirty) -> transfer(dirty) -> restore(mem)
 *   postcopy: [image] -> stop -> drain -> checkpoint(state) -> transfer(state)
 *             -> restore(state) -> resume -> lazy-pages: memory streams afterwards and
 *             requests pay postcopyFaultPenaltyMs until the last page arrives.
 *
 * "Drain": the container stops admitting requests when downtime starts;
 * requests already queued at the source finish there before the checkpoint
 * (a CRIU dump would freeze them mid-flight and finish them after restore;
 * draining keeps every request's accounting exact). The drain counts as downtime.
 *
 * Memory at the destination is reserved from the decision on, so two
 * decisions cannot overfill a node; the source's memory is released at restore
 * (post-copy: when the last page has arrived, the source serving them until then).
 */
import type { AcceptedMigration } from '../model/decisions.ts';
import { checkpointMs, restoreMs, transferSetupMs } from '../model/migration-cost.ts';
import { setPhaseMs } from '../model/phases.ts';
import { createRng, uniform, type Rng } from '../model/random.ts';
import { BYTES_PER_MIB, mibToMegabits } from '../model/units.ts';
import type { MigrationRecord } from '../model/results.ts';
import type { MigrationInFlightView } from '../model/view.ts';
import type { ResultCollector } from '../cluster/collector.ts';
import type { BackhaulGraph } from '../model/latency.ts';
import type { MigrationMode, Scenario } from '../model/types.ts';
import { Priority, msToUs, type Engine, type ProcessBody } from './engine.ts';
import type { FlowNetwork } from './flows.ts';

/** What a migration process reads and changes in the simulator. */
export interface MigrationHost {
  readonly scenario: Scenario;
  /** The run's seed (the restore-stall draws are their own stream of it). */
  readonly seed: number;
  readonly engine: Engine;
  readonly graph: BackhaulGraph;
  readonly flows: FlowNetwork;
  readonly collector: ResultCollector;
  readonly nodeIndex: ReadonlyMap<string, number>;
  readonly containerIndex: ReadonlyMap<string, number>;
  readonly containerNode: Int32Array;
  readonly containerMigrating: Uint8Array;
  /** 1 while the container does not admit requests. */
  readonly containerDown: Uint8Array;
  readonly lastMigrationEndMs: Float64Array;
  /** Latest departure of a request admitted at container c (a checkpoint drains up to here). */
  lastDepartureUs(c: number): number;
  /** Post-copy: container c's pages stream until `timeUs` (requests pay the fault penalty). */
  setLazyUntilUs(c: number, timeUs: number): void;
  readonly memUsedMiB: Float64Array;
  readonly memReservedMiB: Float64Array;
  readonly containersOn: Float64Array;
  /** The container answers again: its users re-send what they held back. */
  releaseHeld(c: number): void;
}

interface InFlight extends MigrationInFlightView {
  readonly index: number;
  /** Filled in phase by phase; reported as `unfinished` if the run ends first. */
  readonly record: MigrationRecord;
  /** Start of downtime, or -1 while the container still runs. */
  downStartUs: number;
}

export class MigrationRunner {
  private readonly done: MigrationRecord[] = [];
  private readonly active = new Map<number, InFlight>();
  private nextId = 1;
  private stallRng: Rng | undefined;

  constructor(private readonly sim: MigrationHost) {}

  /**
   * The restore stall of one migration in µs: restoreStallMs with probability
   * restoreStallProbability, else 0. Draws only when both are > 0 (runs without a stall
   * draw nothing, so their results do not move).
   */
  private stallUs(cost: Scenario['migration']['cost']): number {
    const p = cost.restoreStallProbability ?? 0;
    const ms = cost.restoreStallMs ?? 0;
    if (!(p > 0 && ms > 0)) return 0;
    this.stallRng ??= createRng(this.sim.seed, 'restore-stall');
    return uniform(this.stallRng, 0, 1) < p ? msToUs(ms) : 0;
  }

  inFlight(): MigrationInFlightView[] {
    return [...this.active.values()];
  }

  /** Finished migrations, and those still in flight at `nowUs` as `unfinished`. */
  records(nowUs: number): MigrationRecord[] {
    const open = [...this.active.values()].map((f) => ({
      ...f.record,
      downtimeMs: f.downStartUs >= 0 ? (nowUs - f.downStartUs) / 1000 : 0,
      totalMs: nowUs / 1000 - f.startedMs,
      status: 'unfinished' as const,
    }));
    return [...this.done, ...open].sort((a, b) => a.id - b.id);
  }

  start(m: AcceptedMigration): void {
    const sim = this.sim;
    const c = sim.containerIndex.get(m.containerId);
    const from = sim.nodeIndex.get(m.from);
    const to = sim.nodeIndex.get(m.to);
    if (c === undefined || from === undefined || to === undefined) return;
    const id = this.nextId++;
    const flight: InFlight = {
      index: id,
      containerId: m.containerId,
      from: m.from,
      to: m.to,
      mode: m.mode,
      startedMs: sim.engine.now / 1000,
      downStartUs: -1,
      record: {
        id,
        containerId: m.containerId,
        from: m.from,
        to: m.to,
        mode: m.mode,
        reason: m.reason,
        startS: sim.engine.now / 1e6,
        precopyRounds: 0,
        precopyMs: 0,
        checkpointMs: 0,
        transferMs: 0,
        restoreMs: 0,
        lazyPagesMs: 0,
        downtimeMs: 0,
        totalMs: 0,
        bytes: 0,
        status: 'ok',
      },
    };
    this.active.set(id, flight);
    // Visible at once: the container is migrating from the decision on.
    sim.containerMigrating[c] = 1;
    sim.engine.process(this.body(flight, c, from, to, m.mode), Priority.state);
  }

  private *body(flight: InFlight, c: number, from: number, to: number, mode: MigrationMode): ProcessBody {
    const rec = flight.record;
    const sim = this.sim;
    const engine = sim.engine;
    const spec = sim.scenario.containers[c];
    const cost = sim.scenario.migration.cost;
    const fromId = sim.scenario.topology.nodes[from].id;
    const toId = sim.scenario.topology.nodes[to].id;
    const links = sim.graph.pathLinks(fromId, toId);
    const setupUs = msToUs(transferSetupMs(sim.graph.latencyMs(fromId, toId), cost));
    // Bits on the wire per MiB of payload (protocol overhead folded into the efficiency).
    const bitsPerMiB = (mibToMegabits(1) * 1e6) / cost.transferEfficiency;
    const mem = spec.memoryMiB;
    const imageMiB = cost.imageCached ? 0 : spec.imageMiB;

    const startUs = engine.now;
    sim.collector.migrationStarted(startUs);
    sim.containerMigrating[c] = 1;
    sim.memReservedMiB[to] += mem;

    let sentMiB = 0;
    let precopyRounds = 0;
    let precopyUs = 0;
    // Moves `mib` over the path: connection setup, then a fair-shared flow.
    const transfer = function* (mib: number): ProcessBody {
      if (mib <= 0) return;
      yield setupUs;
      yield sim.flows.start(links, mib * bitsPerMiB);
      sentMiB += mib;
      rec.bytes = Math.round(sentMiB * BYTES_PER_MIB);
    };

    // Phases while the container still runs (a streamed cold migration prepares the bundle first too).
    const streamed = mode === 'cold' && cost.coldTransport === 'stream';
    if (streamed) rec.transport = 'stream';
    if ((mode !== 'cold' || streamed) && imageMiB > 0) yield* transfer(imageMiB);
    let stopMiB = streamed ? mem : mem + imageMiB; // what moves during the stop (cold)
    if (mode === 'precopy') {
      let dirty = mem;
      while (precopyRounds < cost.precopyMaxRounds && (precopyRounds === 0 || dirty >= cost.precopyStopMiB)) {
        const t0 = engine.now;
        yield* transfer(dirty);
        const roundUs = engine.now - t0;
        const next = Math.min(mem, (spec.dirtyRateMiBps * roundUs) / 1e6);
        precopyUs += roundUs;
        precopyRounds++;
        rec.precopyRounds = precopyRounds;
        setPhaseMs(rec, 'predump', precopyUs / 1000);
        const shrinking = next < dirty;
        dirty = next;
        if (!shrinking) break;
      }
      stopMiB = dirty;
    } else if (mode === 'postcopy') {
      stopMiB = cost.postcopyStateMiB;
    }

    // Downtime: stop admitting, drain, checkpoint, transfer, restore.
    const downStartUs = engine.now;
    flight.downStartUs = downStartUs;
    sim.containerDown[c] = 1;
    const drainEndUs = sim.lastDepartureUs(c);
    if (drainEndUs > engine.now) yield drainEndUs - engine.now;
    const drainUs = engine.now - downStartUs;
    const cpMiB = mode === 'cold' ? mem : stopMiB;
    const cpUs = msToUs(checkpointMs(cpMiB, cost));
    if (streamed) {
      // Pages stream as the dump writes them: the transfer runs alongside the checkpoint
      // (both phases counted from the start of the checkpoint phase, drain included).
      const dumpStartUs = engine.now;
      if (stopMiB > 0) {
        yield Math.max(setupUs, msToUs(cost.checkpointBaseMs));
        yield sim.flows.start(links, stopMiB * bitsPerMiB);
        sentMiB += stopMiB;
        rec.bytes = Math.round(sentMiB * BYTES_PER_MIB);
      }
      const dumpEndUs = dumpStartUs + cpUs;
      if (engine.now < dumpEndUs) yield dumpEndUs - engine.now;
      setPhaseMs(rec, 'checkpoint', (drainUs + cpUs) / 1000);
      setPhaseMs(rec, 'transfer', (drainUs + engine.now - dumpStartUs) / 1000);
    } else {
      yield cpUs;
      setPhaseMs(rec, 'checkpoint', (drainUs + cpUs) / 1000);
      const t0 = engine.now;
      yield* transfer(stopMiB);
      const trUs = engine.now - t0;
      setPhaseMs(rec, 'transfer', trUs / 1000);
    }
    const rsUs = msToUs(restoreMs(mode === 'postcopy' ? cost.postcopyStateMiB : mem, cost));
    yield rsUs;
    // A stall after the restore (the container answers late): downtime, in the restore phase.
    const stallUs = this.stallUs(cost);
    if (stallUs > 0) yield stallUs;
    setPhaseMs(rec, 'restore', (rsUs + stallUs) / 1000);

    // Switch over.
    sim.containerNode[c] = to;
    // Post-copy: the frozen source keeps the pages the destination still fetches (CRIU's page
    // server reads them from it) until the last page has arrived.
    if (mode !== 'postcopy') sim.memUsedMiB[from] -= mem;
    sim.containersOn[from]--;
    sim.memReservedMiB[to] -= mem;
    sim.memUsedMiB[to] += mem;
    sim.containersOn[to]++;
    sim.containerDown[c] = 0;
    const downtimeUs = engine.now - downStartUs;
    flight.downStartUs = -1;
    rec.downtimeMs = downtimeUs / 1000;
    sim.releaseHeld(c);

    let lazyUs = 0;
    if (mode === 'postcopy') {
      sim.setLazyUntilUs(c, Number.POSITIVE_INFINITY);
      const l0 = engine.now;
      if (mem > 0) {
        // The background page fetch, at lazyPagesEfficiency (default transferEfficiency).
        yield setupUs;
        const lazyBitsPerMiB = cost.lazyPagesEfficiency === undefined ? bitsPerMiB : (mibToMegabits(1) * 1e6) / cost.lazyPagesEfficiency;
        yield sim.flows.start(links, mem * lazyBitsPerMiB);
        sentMiB += mem;
      }
      lazyUs = engine.now - l0;
      sim.setLazyUntilUs(c, 0);
      sim.memUsedMiB[from] -= mem;
    }

    sim.containerMigrating[c] = 0;
    sim.lastMigrationEndMs[c] = engine.now / 1000;
    this.active.delete(rec.id);
    setPhaseMs(rec, 'lazy-pages', lazyUs / 1000);
    rec.totalMs = (engine.now - startUs) / 1000;
    rec.bytes = Math.round(sentMiB * BYTES_PER_MIB);
    this.done.push(rec);
  }
}
