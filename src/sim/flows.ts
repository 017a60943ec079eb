/**
 * Bulk transfers (checkpoint images, pre-copy rounds, lazy pages) as fluid
 * flows over the backhaul links, sharing bandwidth max-min fairly.
 *
 * Whenever a flow starts or ends, every active flow's progress is advanced and
 * the rates are recomputed by progressive filling: raise all unfrozen flows'
 * rates together until a link saturates, freeze the flows through it, repeat.
 * Each flow's completion is then rescheduled; stale completions are ignored by
 * a version number. Flows are few (migrations in flight), so the O(F * L)
 * recomputation is cheap next to the request path.
 */
import { Engine, Priority, SimEvent } from './engine.ts';

interface Flow {
  id: number;
  links: readonly number[];
  remainingBits: number;
  rateBitsPerUs: number;
  lastUpdateUs: number;
  version: number;
  startUs: number;
  done: SimEvent<number>;
}

export class FlowNetwork {
  private readonly active = new Map<number, Flow>();
  private nextId = 0;
  /** Link capacity in bits per microsecond (= Mbit/s). */
  private readonly capacity: readonly number[];

  constructor(
    private readonly engine: Engine,
    linkBandwidthMbps: readonly number[],
  ) {
    this.capacity = linkBandwidthMbps.slice();
  }

  get activeCount(): number {
    return this.active.size;
  }

  /**
   * Start moving `bits` over the given links. The event fires with the flow's
   * duration in microseconds when the last bit has arrived.
   */
  start(links: readonly number[], bits: number): SimEvent<number> {
    const done = this.engine.event<number>();
    if (links.length === 0 || bits <= 0) {
      done.succeed(0);
      return done;
    }
    const flow: Flow = {
      id: this.nextId++,
      links,
      remainingBits: bits,
      rateBitsPerUs: 0,
      lastUpdateUs: this.engine.now,
      version: 0,
      startUs: this.engine.now,
      done,
    };
    this.advance();
    this.active.set(flow.id, flow);
    this.reallocate();
    return done;
  }

  /** Current rate of every active flow in Mbit/s (for tests and metrics). */
  ratesMbps(): number[] {
    return [...this.active.values()].map((f) => f.rateBitsPerUs);
  }

  private advance(): void {
    const now = this.engine.now;
    for (const f of this.active.values()) {
      f.remainingBits = Math.max(0, f.remainingBits - f.rateBitsPerUs * (now - f.lastUpdateUs));
      f.lastUpdateUs = now;
    }
  }

  private reallocate(): void {
    const flows = [...this.active.values()];
    const remCap = this.capacity.slice();
    const unfrozen = new Set(flows);
    const countOn = new Array<number>(remCap.length).fill(0);
    for (const f of flows) for (const l of f.links) countOn[l]++;
    while (unfrozen.size > 0) {
      let share = Number.POSITIVE_INFINITY;
      for (let l = 0; l < remCap.length; l++) {
        if (countOn[l] > 0) share = Math.min(share, remCap[l] / countOn[l]);
      }
      const frozenNow: Flow[] = [];
      for (const f of unfrozen) {
        if (f.links.some((l) => countOn[l] > 0 && remCap[l] / countOn[l] <= share * (1 + 1e-12))) frozenNow.push(f);
      }
      for (const f of frozenNow) {
        f.rateBitsPerUs = share;
        unfrozen.delete(f);
        for (const l of f.links) {
          remCap[l] -= share;
          countOn[l]--;
        }
      }
    }
    for (const f of flows) this.scheduleCompletion(f);
  }

  private scheduleCompletion(f: Flow): void {
    f.version++;
    const version = f.version;
    const delayUs = Math.max(0, Math.ceil(f.remainingBits / f.rateBitsPerUs));
    this.engine.schedule(delayUs, Priority.state, () => {
      if (f.version !== version || !this.active.has(f.id)) return;
      this.advance();
      this.active.delete(f.id);
      f.done.succeed(this.engine.now - f.startUs);
      this.reallocate();
    });
  }
}
