/**
 * Bulk transfers (checkpoint images, pre-copy rounds, lazy pages) as fluid
 * flows over the backhaul links, sharing bandwidth max-min fairly.
 *
 * Rates are recomputed by progressive filling: find the link with the
 * smallest fair share (remaining capacity / unfrozen flows on it), give that
 * share to every unfrozen flow through it, take it from their other links,
 * repeat. Each iteration freezes one link: O(L^2 + F * path length) for the L
 * links and F flows taking part.
 *
 * Batched, and only where something changed:
 *  - every start and end of a flow at one instant marks its links dirty and
 *    defers ONE reallocation to the end of the instant (Engine.atInstantEnd);
 *  - that reallocation covers only the connected components (flows linked by
 *    shared links) that hold a dirty link. Max-min shares in one component do
 *    not depend on the others, and the component's flows are filled in start
 *    order with the same arithmetic in the same order as a reallocation over
 *    every flow, so the rates are bit-identical to reallocating everything
 *    after every change (test/sim/flows-equivalence.test.ts checks this
 *    against the former implementation, test/sim/reference-flows.ts).
 *
 * Only ONE completion event is pending for the whole network (the earliest
 * finishing flow), re-armed after each change, so a storm of thousands of
 * concurrent migrations does not fill the event queue with stale completions.
 * The re-armed event takes the place in the event order that an event
 * scheduled at the instant's last change would have had (the key
 * atInstantEnd returns), so runs are identical to the unbatched network's.
 */
import { Engine, Priority, SimEvent } from './engine.ts';

interface Flow {
  id: number;
  links: readonly number[];
  remainingBits: number;
  rateBitsPerUs: number;
  startUs: number;
  done: SimEvent<number>;
  /** Index in the component being reallocated; the visit mark of the component search. */
  local: number;
  mark: number;
}

const byId = (a: Flow, b: Flow): number => a.id - b.id;

/** A flow is complete when less than this is left (rounding of integer-us times). */
const EPSILON_BITS = 1e-6;

export class FlowNetwork {
  /** Active flows in start order (= id order). */
  private active: Flow[] = [];
  private nextId = 0;
  /** Link capacity in bits per microsecond (= Mbit/s). */
  private readonly capacity: readonly number[];
  /** Active flows through each link, in start order. */
  private readonly flowsOn: Flow[][];
  private lastUpdateUs = 0;
  /** Version of the one pending completion event; older events are stale. */
  private armed = 0;
  /** Links whose set of flows changed since the last reallocation (and their marks). */
  private readonly dirty: number[] = [];
  private readonly isDirty: Uint8Array;
  /** Order key of the instant's last change (where the completion event goes); -1 when nothing is pending. */
  private pendingKey = -1;
  private markEpoch = 0;
  private readonly linkMark: Int32Array;
  // Scratch for reallocate(), reused: per link the capacity left, the unfrozen
  // flows (0 again after every reallocation) and the component's flows through it.
  private readonly remCap: Float64Array;
  private readonly count: Int32Array;
  private readonly onLink: number[][];

  constructor(
    private readonly engine: Engine,
    linkBandwidthMbps: readonly number[],
  ) {
    this.capacity = linkBandwidthMbps.slice();
    const n = this.capacity.length;
    this.flowsOn = this.capacity.map(() => []);
    this.isDirty = new Uint8Array(n);
    this.linkMark = new Int32Array(n);
    this.remCap = new Float64Array(n);
    this.count = new Int32Array(n);
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
    const f: Flow = { id: this.nextId++, links, remainingBits: bits, rateBitsPerUs: 0, startUs: this.engine.now, done, local: 0, mark: 0 };
    this.active.push(f);
    for (const l of links) {
      this.flowsOn[l].push(f);
      this.markDirty(l);
    }
    this.changed();
    return done;
  }

  /** Current rate of every active flow in Mbit/s, in start order (for tests and metrics). */
  ratesMbps(): number[] {
    if (this.pendingKey >= 0) this.flush();
    return this.active.map((f) => f.rateBitsPerUs);
  }

  private markDirty(l: number): void {
    if (this.isDirty[l] === 0) {
      this.isDirty[l] = 1;
      this.dirty.push(l);
    }
  }

  /** A change at this instant: the old completion event is stale; reallocate at the instant's end. */
  private changed(): void {
    this.armed++;
    this.pendingKey = this.engine.atInstantEnd(this.flush, Priority.state);
  }

  private advance(): void {
    const now = this.engine.now;
    const dt = now - this.lastUpdateUs;
    if (dt > 0) for (const f of this.active) f.remainingBits = Math.max(0, f.remainingBits - f.rateBitsPerUs * dt);
    this.lastUpdateUs = now;
  }

  private readonly flush = (): void => {
    const key = this.pendingKey;
    if (key < 0) return;
    this.pendingKey = -1;
    this.reallocateDirty();
    this.arm(key);
  };

  /** Reallocate the components that hold a dirty link. */
  private reallocateDirty(): void {
    const dirty = this.dirty;
    const epoch = ++this.markEpoch;
    const linkMark = this.linkMark;
    const flowsOn = this.flowsOn;
    // Every flow reachable from a dirty link through shared links (scratch lists, reused).
    const comp = this.compScratch;
    const stack = this.stackScratch;
    comp.length = 0;
    for (const l of dirty) {
      this.isDirty[l] = 0;
      if (linkMark[l] !== epoch) {
        linkMark[l] = epoch;
        stack.push(l);
      }
    }
    dirty.length = 0;
    while (stack.length > 0) {
      const l = stack.pop() as number;
      for (const f of flowsOn[l]) {
        if (f.mark === epoch) continue;
        f.mark = epoch;
        comp.push(f);
        for (const m of f.links) {
          if (linkMark[m] !== epoch) {
            linkMark[m] = epoch;
            stack.push(m);
          }
        }
      }
    }
    if (comp.length === 0) return;
    // Start order, as a reallocation over every flow would visit them (no spread: there
    // can be more active flows than a call has room for arguments).
    this.reallocate(comp.length < this.active.length ? comp.sort(byId) : this.active);
    comp.length = 0;
  }

  private readonly compScratch: Flow[] = [];
  private readonly stackScratch: number[] = [];
  private readonly linksScratch: number[] = [];

  /** Progressive filling over `flows` (in start order), which share no link with any other flow. */
  private reallocate(flows: readonly Flow[]): void {
    const remCap = this.remCap;
    const count = this.count;
    const onLink = this.onLink;
    const links = this.linksScratch;
    links.length = 0;
    for (let i = 0; i < flows.length; i++) {
      const f = flows[i];
      f.rateBitsPerUs = -1; // unfrozen
      f.local = i;
      for (const l of f.links) {
        if (count[l] === 0) {
          links.push(l);
          remCap[l] = this.capacity[l];
          onLink[l].length = 0;
        }
        count[l]++;
        onLink[l].push(i);
      }
    }
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
  }

  /** Schedule the one completion event, when the first active flow will finish, at order `key` (or a fresh one). */
  private arm(key = -1): void {
    const version = ++this.armed;
    let soonestUs = Number.POSITIVE_INFINITY;
    for (const f of this.active) soonestUs = Math.min(soonestUs, f.remainingBits / f.rateBitsPerUs);
    if (!Number.isFinite(soonestUs)) return;
    const delayUs = Math.max(0, Math.ceil(soonestUs));
    if (key >= 0) this.engine.scheduleAtKey(this.engine.now + delayUs, key, this.onDue, version);
    else this.engine.schedule(delayUs, Priority.state, this.onDue, version);
  }

  /** The completion event's handler; its argument is the version it was armed with (no closure per arm). */
  private readonly onDue = (version: number): void => {
    this.complete(version);
  };

  /** Flows finished at one completion (scratch, emptied after use). */
  private readonly finished: Flow[] = [];

  private complete(version: number): void {
    if (version !== this.armed) return;
    this.advance();
    const now = this.engine.now;
    // Everything finished by now completes (ties finish together, in start order).
    let anyFinished = false;
    for (const f of this.active) {
      if (f.remainingBits <= EPSILON_BITS) {
        anyFinished = true;
        break;
      }
    }
    if (!anyFinished) {
      this.arm();
      return;
    }
    // Split in place: the finished ones to the scratch list, the others stay in start order.
    const finished = this.finished;
    const active = this.active;
    let kept = 0;
    for (let i = 0; i < active.length; i++) {
      const f = active[i];
      if (f.remainingBits <= EPSILON_BITS) finished.push(f);
      else active[kept++] = f;
    }
    active.length = kept;
    for (const f of finished) {
      for (const l of f.links) {
        const on = this.flowsOn[l];
        on.splice(on.indexOf(f), 1);
        this.markDirty(l);
      }
    }
    for (const f of finished) f.done.succeed(now - f.startUs);
    finished.length = 0;
    this.changed();
  }
}
