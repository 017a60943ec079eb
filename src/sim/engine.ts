/**
 * The discrete-event engine: one clock in integer microseconds and a 4-ary
 * heap of events keyed by (time, priority, sequence number).
 *
 * Tie-breaking: events at the same microsecond fire in ascending priority
 * (see `Priority`), and events of equal time and priority in the order they
 * were scheduled. A run is therefore reproducible to the event.
 *
 * Costs: schedule O(log n), next event O(log n); request arrivals sit in a
 * heap of their own (see Engine), which keeps the hot path shallow. Events cannot be cancelled;
 * owners that need cancellation keep a version number and ignore stale events
 * (cheaper than a removable heap for the few events that are ever cancelled).
 *
 * Work batched to the end of an instant (`atInstantEnd`): an owner whose state
 * changes several times at one instant (the flow network: every start and end
 * of a transfer) can defer the recomputation to one call, which runs before the
 * first event that orders after the last change (see atInstantEnd). An event
 * it then schedules with `scheduleAtKey` takes the place in the order that an
 * event scheduled at the last change would have had, so batching changes
 * nothing in the order events fire.
 *
 * Two ways to wait:
 *  - callbacks (`schedule`), used on the hot path (36 million requests);
 *  - processes: generator functions that `yield` a number of microseconds to
 *    sleep or a `SimEvent` to wait for (migrations, control loops), after SimPy.
 */
import { ConmigError } from '../model/errors.ts';
import { US_PER_MS } from '../model/units.ts';

/** Lower fires first among events at the same time. */
export const Priority = {
  /** Completion of migration phases and flows: state changes before anyone observes. */
  state: 0,
  /** Mobility: legs and handovers. */
  mobility: 1,
  /** Request and background job arrivals. */
  arrival: 2,
  /** The controller observes and decides after everything else at that instant. */
  control: 3,
  /** Sampling for results, last. */
  sample: 4,
} as const;

export type EventHandler = (arg: number) => void;

const noop: EventHandler = () => {};

/** Something a process can wait for. Fires once; waiting after it fired resumes at once. */
export class SimEvent<T = unknown> {
  private waiters: Array<(value: T) => void> = [];
  private fired = false;
  private result: T | undefined;

  constructor(private readonly engine: Engine) {}

  get triggered(): boolean {
    return this.fired;
  }

  get value(): T | undefined {
    return this.result;
  }

  succeed(value: T): void {
    if (this.fired) throw new ConmigError('SIM_INVARIANT', 'a SimEvent was triggered twice');
    this.fired = true;
    this.result = value;
    const waiters = this.waiters;
    this.waiters = [];
    // Resume waiters through the queue (same time, state priority) so a
    // waiter never runs inside the code that triggered it.
    for (const w of waiters) this.engine.schedule(0, Priority.state, () => w(value));
  }

  onFire(cb: (value: T) => void): void {
    if (this.fired) this.engine.schedule(0, Priority.state, () => cb(this.result as T));
    else this.waiters.push(cb);
  }
}

/** Anything a process can wait on. */
export interface Waitable {
  onFire(cb: () => void): void;
}

/** A process yields microseconds to sleep, or an event to wait for. */
export type ProcessStep = number | Waitable;
export type ProcessBody = Generator<ProcessStep, void, unknown>;

/**
 * A 4-ary min-heap of events over parallel typed arrays (no object per
 * event), ordered by (time, key) where key = priority * 2^48 + sequence.
 */
class EventHeap {
  times = new Float64Array(1024);
  keys = new Float64Array(1024);
  args = new Float64Array(1024);
  handlers: EventHandler[] = new Array<EventHandler>(1024).fill(noop);
  size = 0;

  private grow(): void {
    const cap = this.times.length * 2;
    const t = new Float64Array(cap);
    t.set(this.times);
    this.times = t;
    const k = new Float64Array(cap);
    k.set(this.keys);
    this.keys = k;
    const a = new Float64Array(cap);
    a.set(this.args);
    this.args = a;
    for (let i = this.handlers.length; i < cap; i++) this.handlers.push(noop);
  }

  push(time: number, key: number, handler: EventHandler, arg: number): void {
    if (this.size === this.times.length) this.grow();
    const times = this.times;
    const keys = this.keys;
    const handlers = this.handlers;
    const args = this.args;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 2;
      const pt = times[p];
      if (pt < time || (pt === time && keys[p] < key)) break;
      times[i] = pt;
      keys[i] = keys[p];
      handlers[i] = handlers[p];
      args[i] = args[p];
      i = p;
    }
    times[i] = time;
    keys[i] = key;
    handlers[i] = handler;
    args[i] = arg;
  }

  /** Remove the top (the caller has read it). */
  pop(): void {
    const times = this.times;
    const keys = this.keys;
    const handlers = this.handlers;
    const args = this.args;
    const n = --this.size;
    const t = times[n];
    const k = keys[n];
    const h = handlers[n];
    const a = args[n];
    handlers[n] = noop; // let the closure be collected
    if (n === 0) return;
    let i = 0;
    for (;;) {
      // 4-ary: half the depth of a binary heap, children adjacent in memory.
      const first = 4 * i + 1;
      if (first >= n) break;
      let c = first;
      let ct = times[first];
      let ck = keys[first];
      const last = first + 4 < n ? first + 4 : n;
      for (let j = first + 1; j < last; j++) {
        const tj = times[j];
        if (tj < ct || (tj === ct && keys[j] < ck)) {
          c = j;
          ct = tj;
          ck = keys[j];
        }
      }
      if (t < ct || (t === ct && k < ck)) break;
      times[i] = ct;
      keys[i] = ck;
      handlers[i] = handlers[c];
      args[i] = args[c];
      i = c;
    }
    times[i] = t;
    keys[i] = k;
    handlers[i] = h;
    args[i] = a;
  }
}

export class Engine {
  /** Current simulated time in microseconds. */
  now = 0;
  /** Number of events fired so far. */
  fired = 0;

  // Two heaps, one order: arrivals (the hot path, always a few ms ahead) live
  // in a small heap of their own, everything else (mobility legs far ahead,
  // control, migrations) in another; run() fires the smaller of the two tops.
  // A small heap is shallow, so the per-request events cost fewer levels.
  private readonly hot = new EventHeap();
  private readonly cold = new EventHeap();
  // Timers: events of which at most one is pending at a time (the next arrival of a
  // Poisson stream), kept out of the heaps. A request's arrival re-arms its stream's
  // timer, so each request saves a heap push and pop; a timer takes its order key
  // (priority, sequence) when armed, exactly as schedule() would, so the order in
  // which events fire is the same. Time Infinity = not armed.
  private timerTimes = new Float64Array(0);
  private timerKeys = new Float64Array(0);
  private readonly timerHandlers: EventHandler[] = [];
  private readonly timerArgs: number[] = [];
  private seq = 0;
  private stopped = false;
  // Deferred hooks (atInstantEnd): each with the (time, key) it must run before.
  private readonly deferred: Array<{ hook: () => void; timeUs: number; key: number }> = [];
  /** The earliest deadline among the deferred hooks (Infinity when there are none). */
  private deferTimeUs = Number.POSITIVE_INFINITY;
  private deferKey = Number.POSITIVE_INFINITY;

  get pending(): number {
    let armed = 0;
    for (const t of this.timerTimes) if (t !== Number.POSITIVE_INFINITY) armed++;
    return this.hot.size + this.cold.size + armed;
  }

  /**
   * A timer that fires `handler(arg)` when armed (see `arm`): for an event of which
   * at most one is pending at a time. Returns its id.
   */
  timer(handler: EventHandler, arg = 0): number {
    const id = this.timerHandlers.length;
    this.timerHandlers.push(handler);
    this.timerArgs.push(arg);
    const times = new Float64Array(id + 1).fill(Number.POSITIVE_INFINITY);
    times.set(this.timerTimes);
    this.timerTimes = times;
    const keys = new Float64Array(id + 1);
    keys.set(this.timerKeys);
    this.timerKeys = keys;
    return id;
  }

  /**
   * Arm timer `id` to fire after `delayUs` (an integer >= 0) at `priority`: the same
   * place in the order as schedule(delayUs, priority, handler, arg). The timer must
   * not be armed already (it is disarmed when it fires).
   */
  arm(id: number, delayUs: number, priority: number): void {
    if (!(delayUs >= 0) || !Number.isInteger(delayUs)) {
      throw new ConmigError('SIM_INVARIANT', `event scheduled with an invalid delay: ${delayUs} us`, {
        context: { nowUs: this.now },
      });
    }
    if (this.timerTimes[id] !== Number.POSITIVE_INFINITY) throw new ConmigError('SIM_INVARIANT', `timer ${id} armed twice`, { context: { nowUs: this.now } });
    this.timerTimes[id] = this.now + delayUs;
    this.timerKeys[id] = priority * 281474976710656 + this.seq++;
  }

  /**
   * Fire `handler(arg)` after `delayUs` (an integer >= 0) at the given priority.
   */
  schedule(delayUs: number, priority: number, handler: EventHandler, arg = 0): void {
    if (!(delayUs >= 0) || !Number.isInteger(delayUs)) {
      throw new ConmigError('SIM_INVARIANT', `event scheduled with an invalid delay: ${delayUs} us`, {
        context: { nowUs: this.now },
      });
    }
    this.push(this.now + delayUs, priority, handler, arg);
  }

  /** Fire at an absolute time (>= now). */
  scheduleAt(timeUs: number, priority: number, handler: EventHandler, arg = 0): void {
    if (!(timeUs >= this.now) || !Number.isInteger(timeUs)) {
      throw new ConmigError('SIM_INVARIANT', `event scheduled in the past or at a fractional time: ${timeUs} us`, {
        context: { nowUs: this.now },
      });
    }
    this.push(timeUs, priority, handler, arg);
  }

  /**
   * Defer `hook` to the end of this instant: it runs once, just before the
   * engine fires the first event that orders after an event scheduled now at
   * `priority` (same time and a later key, or a later time), or before run()
   * returns. Deferring a hook that is already pending moves its place to now
   * (it still runs once). Returns the order key an event scheduled now at
   * `priority` would have had: `scheduleAtKey` gives an event scheduled from the
   * hook that place in the order, so work batched this way lands exactly where
   * the engine's tie-breaking would have put it had it been done at once.
   */
  atInstantEnd(hook: () => void, priority: number = Priority.state): number {
    const key = priority * 281474976710656 + this.seq++;
    const d = this.deferred;
    let i = 0;
    while (i < d.length && d[i].hook !== hook) i++;
    if (i === d.length) d.push({ hook, timeUs: this.now, key });
    else {
      d[i].timeUs = this.now;
      d[i].key = key;
    }
    this.updateDeferDeadline();
    return key;
  }

  /**
   * Fire `handler(arg)` at `timeUs` (>= now) with an order key from
   * atInstantEnd (its priority and place among events of equal time).
   */
  scheduleAtKey(timeUs: number, key: number, handler: EventHandler, arg = 0): void {
    if (!(timeUs >= this.now) || !Number.isInteger(timeUs)) {
      throw new ConmigError('SIM_INVARIANT', `event scheduled in the past or at a fractional time: ${timeUs} us`, {
        context: { nowUs: this.now },
      });
    }
    const priority = Math.floor(key / 281474976710656);
    (priority === Priority.arrival ? this.hot : this.cold).push(timeUs, key, handler, arg);
  }

  private updateDeferDeadline(): void {
    let t = Number.POSITIVE_INFINITY;
    let k = Number.POSITIVE_INFINITY;
    for (const x of this.deferred) {
      if (x.timeUs < t || (x.timeUs === t && x.key < k)) {
        t = x.timeUs;
        k = x.key;
      }
    }
    this.deferTimeUs = t;
    this.deferKey = k;
  }

  /** Run the deferred hooks due before an event at (timeUs, key); all of them if timeUs is Infinity. */
  private runDeferred(timeUs: number, key: number): void {
    const d = this.deferred;
    const due = d.filter((x) => x.timeUs < timeUs || (x.timeUs === timeUs && x.key < key));
    const rest = d.filter((x) => !due.includes(x));
    d.length = 0;
    d.push(...rest);
    this.updateDeferDeadline();
    for (const x of due) x.hook();
  }

  event<T = unknown>(): SimEvent<T> {
    return new SimEvent<T>(this);
  }

  /** An event that fires after `delayUs`. */
  timeout(delayUs: number): SimEvent<void> {
    const ev = new SimEvent<void>(this);
    this.schedule(delayUs, Priority.state, () => ev.succeed(undefined));
    return ev;
  }

  /** Start a process now; the returned event fires when it returns. */
  process(body: ProcessBody, priority: number = Priority.state): SimEvent<void> {
    const done = new SimEvent<void>(this);
    const step = (): void => {
      const r = body.next();
      if (r.done) {
        done.succeed(undefined);
        return;
      }
      const w = r.value;
      if (typeof w !== 'number') {
        w.onFire(step);
        return;
      }
      // Fractions of a µs round; a negative wait is a bug in the process, not something to clamp away.
      const delayUs = Math.round(w);
      if (!(delayUs >= 0)) {
        throw new ConmigError('SIM_INVARIANT', `a process yielded a negative or invalid delay: ${w} us`, { context: { nowUs: this.now } });
      }
      this.schedule(delayUs, priority, step);
    };
    this.schedule(0, priority, step);
    return done;
  }

  /** Stop `run` after the current event. */
  stop(): void {
    this.stopped = true;
  }

  /**
   * Fire events in order until the queue is empty, `stop()` is called, or the
   * next event is later than `untilUs` (the clock then stands at `untilUs`).
   */
  run(untilUs = Number.POSITIVE_INFINITY): void {
    this.stopped = false;
    const hot = this.hot;
    const cold = this.cold;
    while (!this.stopped) {
      // The earliest of the two heaps' tops and the armed timers, by (time, key).
      let t = Number.POSITIVE_INFINITY;
      let k = Number.POSITIVE_INFINITY;
      let from: EventHeap | null = null;
      let timer = -1;
      if (hot.size > 0) {
        t = hot.times[0];
        k = hot.keys[0];
        from = hot;
      }
      if (cold.size > 0) {
        const ct = cold.times[0];
        if (ct < t || (ct === t && cold.keys[0] < k)) {
          t = ct;
          k = cold.keys[0];
          from = cold;
        }
      }
      const tt = this.timerTimes;
      for (let j = 0; j < tt.length; j++) {
        const tj = tt[j];
        if (tj < t || (tj === t && this.timerKeys[j] < k)) {
          t = tj;
          k = this.timerKeys[j];
          timer = j;
        }
      }
      if (t === Number.POSITIVE_INFINITY) {
        if (this.deferred.length > 0) {
          this.runDeferred(Number.POSITIVE_INFINITY, 0);
          continue;
        }
        break;
      }
      if (t > this.deferTimeUs || (t === this.deferTimeUs && k > this.deferKey)) {
        this.runDeferred(t, k);
        continue; // the hooks may have scheduled something earlier
      }
      if (t > untilUs) break;
      this.now = t;
      this.fired++;
      // Three call sites: the timers' and the hot heap's handlers are the few request
      // handlers, so those calls stay monomorphic (inlined); the cold heap's are many
      // (processes, flows, mobility).
      if (timer >= 0) {
        tt[timer] = Number.POSITIVE_INFINITY; // fired: the handler may arm it again
        this.timerHandlers[timer](this.timerArgs[timer]);
      } else if (from === hot) {
        const handler = hot.handlers[0];
        const arg = hot.args[0];
        hot.pop();
        handler(arg);
      } else {
        const h = from as EventHeap;
        const handler = h.handlers[0];
        const arg = h.args[0];
        h.pop();
        handler(arg);
      }
    }
    if (!this.stopped && Number.isFinite(untilUs) && this.now < untilUs) this.now = untilUs;
  }

  private push(time: number, priority: number, handler: EventHandler, arg: number): void {
    // priority (< 16) in the high part, sequence in the low 48 bits: exact in a double.
    const key = priority * 281474976710656 + this.seq++;
    (priority === Priority.arrival ? this.hot : this.cold).push(time, key, handler, arg);
  }
}

export { US_PER_MS, US_PER_S } from '../model/units.ts';

/** Milliseconds (float) to integer microseconds. */
export function msToUs(ms: number): number {
  return Math.round(ms * US_PER_MS);
}
