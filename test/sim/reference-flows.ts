/**
 * REFERENCE for the equivalence test (test/sim/flows-equivalence.test.ts): the
 * flow network as it was before batched reallocation (src/sim/flows.ts at
 * ad051f6), kept verbatim: every start and every end reallocates over all
 * active flows at once. Not used by the simulator.
 *
 * Bulk transfers (checkpoint images, pre-copy rounds, lazy pages) as fluid
 * flows over the backhaul links, sharing bandwidth max-min fairly.
 *
 * Whenever a flow starts or ends, every active flow's progress is advanced and
 * the rates are recomputed by progressive filling: find the link with the
 * smallest fair share (remaining capacity / unfrozen flows on it), give that
 * share to every unfrozen flow through it, take it from their other links,
 * repeat. Each iteration freezes one link, so a recomputation costs
 * O(L^2 + F * path length) for L links and F flows.
 *
 * Only ONE completion event is pending for the whole network (the earliest
 * finishing flow), re-armed after each change, so a storm of thousands of
 * concurrent migrations does not fill the event queue with stale completions.
 */
import { type Engine, Priority, type SimEvent } from '../../src/sim/engine.ts';

interface Flow {
  id: number;
  links: readonly number[];
  remainingBits: number;
  rateBitsPerUs: number;
  startUs: number;
  done: SimEvent<number>;
}

/** A flow is complete when less than this is left (rounding of integer-us times). */
const EPSILON_BITS = 1e-6;

export class ReferenceFlowNetwork {
  private readonly active: Flow[] = [];
  private nextId = 0;
  /** Link capacity in bits per microsecond (= Mbit/s). */
  private readonly capacity: readonly number[];
  private lastUpdateUs = 0;
  /** Version of the one pending completion event; older events are stale. */
  private armed = 0;
  // Scratch for reallocate(), reused: per link the capacity left, the unfrozen
  // flows (0 again after every reallocation) and the flows through it.
  private readonly remCap: Float64Array;
  private readonly count: Int32Array;
  private readonly onLink: number[][];

  constructor(
    private readonly engine: Engine,
    linkBandwidthMbps: readonly number[],
  ) {
    this.capacity = linkBandwidthMbps.slice();
    this.remCap = new Float64Array(this.capacity.length);
    this.count = new Int32Array(this.capacity.length);
    this.onLink = this.capacity.map(() => []);
  }

  get activeCount(): number {
    return this.active.length;
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
    this.advance();
    this.active.push({ id: this.nextId++, links, remainingBits: bits, rateBitsPerUs: 0, startUs: this.engine.now, done });
    this.reallocate();
    return done;
  }

  /** Current rate of every active flow in Mbit/s, in start order (for tests and metrics). */
  ratesMbps(): number[] {
    return this.active.map((f) => f.rateBitsPerUs);
  }

  private advance(): void {
    const now = this.engine.now;
    const dt = now - this.lastUpdateUs;
    if (dt > 0) for (const f of this.active) f.remainingBits = Math.max(0, f.remainingBits - f.rateBitsPerUs * dt);
    this.lastUpdateUs = now;
  }

  private reallocate(): void {
    const flows = this.active;
    const remCap = this.remCap;
    const count = this.count;
    const onLink = this.onLink;
    // Only links that carry a flow take part (a few, even in a large backhaul).
    const links: number[] = [];
    flows.forEach((f, i) => {
      f.rateBitsPerUs = -1; // unfrozen
      for (const l of f.links) {
        if (count[l] === 0) {
          links.push(l);
          remCap[l] = this.capacity[l];
          onLink[l].length = 0;
        }
        count[l]++;
        onLink[l].push(i);
      }
    });
    for (;;) {
      let best = -1;
      let share = Number.POSITIVE_INFINITY;
      for (const l of links) {
        if (count[l] > 0 && remCap[l] / count[l] < share) {
          share = remCap[l] / count[l];
          best = l;
        }
      }
      if (best < 0) break;
      for (const i of onLink[best]) {
        const f = flows[i];
        if (f.rateBitsPerUs >= 0) continue;
        f.rateBitsPerUs = share;
        for (const l of f.links) {
          remCap[l] -= share;
          count[l]--;
        }
      }
    }
    this.arm();
  }

  /** Schedule the one completion event: when the first active flow will finish. */
  private arm(): void {
    const version = ++this.armed;
    let soonestUs = Number.POSITIVE_INFINITY;
    for (const f of this.active) soonestUs = Math.min(soonestUs, f.remainingBits / f.rateBitsPerUs);
    if (!Number.isFinite(soonestUs)) return;
    this.engine.schedule(Math.max(0, Math.ceil(soonestUs)), Priority.state, () => {
      if (version !== this.armed) return;
      this.advance();
      const now = this.engine.now;
      // Everything finished by now completes (ties finish together, in start order).
      const finished = this.active.filter((f) => f.remainingBits <= EPSILON_BITS);
      if (finished.length === 0) {
        this.arm();
        return;
      }
      const left = this.active.filter((f) => f.remainingBits > EPSILON_BITS);
      this.active.length = 0;
      this.active.push(...left);
      for (const f of finished) f.done.succeed(now - f.startUs);
      this.reallocate();
    });
  }
}
