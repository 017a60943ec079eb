import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConmigError } from '../../src/model/errors.ts';
import { Engine, Priority, type ProcessBody } from '../../src/sim/engine.ts';

function expectInvariant(f: () => unknown): void {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ConmigError);
  expect((caught as ConmigError).code).toBe('SIM_INVARIANT');
}

describe('Engine ordering', () => {
  it('fires events in time order and advances the clock to each', () => {
    const e = new Engine();
    const seen: Array<[number, number]> = [];
    for (const d of [30, 10, 20, 0, 10_000_000]) e.schedule(d, Priority.arrival, (arg) => seen.push([e.now, arg]), d);
    e.run();
    expect(seen).toEqual([
      [0, 0],
      [10, 10],
      [20, 20],
      [30, 30],
      [10_000_000, 10_000_000],
    ]);
    expect(e.fired).toBe(5);
    expect(e.pending).toBe(0);
  });

  it('breaks ties at one time by priority, then by scheduling order (property: fired order = stable sort)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 4 })), { maxLength: 200 }),
        (items) => {
          const e = new Engine();
          const fired: number[] = [];
          items.forEach(([delay, prio], i) => e.schedule(delay, prio, (arg) => fired.push(arg), i));
          e.run();
          const expected = items
            .map(([delay, prio], i) => ({ delay, prio, i }))
            .sort((a, b) => a.delay - b.delay || a.prio - b.prio || a.i - b.i)
            .map((x) => x.i);
          expect(fired).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('orders events scheduled from inside handlers after equal-key events scheduled earlier', () => {
    const e = new Engine();
    const log: string[] = [];
    e.schedule(5, Priority.arrival, () => {
      log.push('a');
      // Same time, same priority: after 'b' (scheduled earlier). Lower priority: before 'b'.
      e.schedule(0, Priority.arrival, () => log.push('a-same'));
      e.schedule(0, Priority.state, () => log.push('a-state'));
    });
    e.schedule(5, Priority.arrival, () => log.push('b'));
    e.scheduleAt(5, Priority.sample, () => log.push('sample'));
    e.run();
    expect(log).toEqual(['a', 'a-state', 'b', 'a-same', 'sample']);
  });

  it('rejects negative, fractional and NaN delays, and absolute times in the past', () => {
    const e = new Engine();
    const h = (): void => {};
    expectInvariant(() => e.schedule(-1, 0, h));
    expectInvariant(() => e.schedule(0.5, 0, h));
    expectInvariant(() => e.schedule(Number.NaN, 0, h));
    expectInvariant(() => e.schedule(Number.POSITIVE_INFINITY, 0, h));
    e.schedule(100, 0, h);
    e.run();
    expect(e.now).toBe(100);
    expectInvariant(() => e.scheduleAt(99, 0, h));
    expectInvariant(() => e.scheduleAt(100.5, 0, h));
    expect(e.pending).toBe(0);
    e.scheduleAt(100, 0, h); // now itself is fine
    expect(e.pending).toBe(1);
  });

  it('run(until) stops at until, sets the clock there and keeps later events queued', () => {
    const e = new Engine();
    const fired: number[] = [];
    for (const t of [10, 50, 100, 101, 200]) e.scheduleAt(t, 0, () => fired.push(e.now));
    e.run(100);
    expect(fired).toEqual([10, 50, 100]); // an event exactly at `until` fires
    expect(e.now).toBe(100);
    expect(e.pending).toBe(2);
    e.run(150);
    expect(fired).toEqual([10, 50, 100, 101]);
    expect(e.now).toBe(150);
    expect(e.pending).toBe(1);
    e.run();
    expect(fired).toEqual([10, 50, 100, 101, 200]);
  });

  it('stop() ends run after the current event', () => {
    const e = new Engine();
    const fired: number[] = [];
    e.scheduleAt(1, 0, () => {
      fired.push(1);
      e.stop();
    });
    e.scheduleAt(2, 0, () => fired.push(2));
    e.run(1000);
    expect(fired).toEqual([1]);
    expect(e.now).toBe(1);
    e.run();
    expect(fired).toEqual([1, 2]);
  });
});

describe('processes and SimEvents', () => {
  it('a process sleeps for the yielded microseconds', () => {
    const e = new Engine();
    const wakes: number[] = [];
    function* body(): ProcessBody {
      wakes.push(e.now);
      yield 100;
      wakes.push(e.now);
      yield 0;
      wakes.push(e.now);
      yield 2500;
      wakes.push(e.now);
    }
    e.schedule(7, 0, () => e.process(body()));
    e.run();
    expect(wakes).toEqual([7, 107, 107, 2607]);
  });

  it('processes wait on events and timeouts, and a finished process fires its done event', () => {
    const e = new Engine();
    const ev = e.event<string>();
    const log: Array<[string, number]> = [];
    function* waiter(name: string): ProcessBody {
      yield ev;
      log.push([`${name}:${ev.value}`, e.now]);
      yield e.timeout(30);
      log.push([`${name}:after-timeout`, e.now]);
    }
    const done1 = e.process(waiter('w1'));
    e.process(waiter('w2'));
    function* trigger(): ProcessBody {
      yield 500;
      ev.succeed('go');
      log.push(['trigger', e.now]);
    }
    e.process(trigger());
    function* joiner(): ProcessBody {
      yield done1;
      log.push(['joined', e.now]);
    }
    e.process(joiner());
    e.run();
    expect(log).toEqual([
      ['trigger', 500], // the trigger finishes before waiters run (they resume through the queue)
      ['w1:go', 500],
      ['w2:go', 500],
      ['w1:after-timeout', 530],
      ['w2:after-timeout', 530],
      ['joined', 530],
    ]);
    expect(done1.triggered).toBe(true);
  });

  it('waiting on an event that already fired resumes at once with its value', () => {
    const e = new Engine();
    const ev = e.event<number>();
    ev.succeed(42);
    const got: Array<[number, number]> = [];
    e.schedule(10, 0, () => ev.onFire((v) => got.push([v, e.now])));
    e.run();
    expect(got).toEqual([[42, 10]]);
  });

  it('a process that yields a negative delay throws SIM_INVARIANT (no silent clamp to now)', () => {
    const e = new Engine();
    const wakes: number[] = [];
    function* body(): ProcessBody {
      yield 10;
      wakes.push(e.now);
      yield -5;
      wakes.push(e.now);
    }
    e.process(body());
    expectInvariant(() => e.run());
    expect(wakes).toEqual([10]);
    // Fractions of a microsecond still round (-0.4 rounds to 0: no error).
    const f = new Engine();
    function* tiny(): ProcessBody {
      yield -0.4;
      wakes.push(f.now);
    }
    f.process(tiny());
    f.run();
    expect(wakes).toEqual([10, 0]);
  });

  it('triggering a SimEvent twice throws SIM_INVARIANT', () => {
    const e = new Engine();
    const ev = e.event<number>();
    ev.succeed(1);
    expectInvariant(() => ev.succeed(2));
    expect(ev.value).toBe(1);
  });
});

describe('Engine.atInstantEnd', () => {
  it('runs a hook deferred several times once, before the first event ordered after the last deferral', () => {
    const e = new Engine();
    const log: string[] = [];
    const hook = (): void => {
      log.push(`hook at ${e.now}`);
    };
    e.scheduleAt(5, Priority.state, () => {
      e.atInstantEnd(hook);
      log.push('a');
    });
    e.scheduleAt(5, Priority.state, () => {
      e.atInstantEnd(hook); // moves the hook's place after this event
      e.schedule(0, Priority.state, () => log.push('queued after the last deferral'));
    });
    e.scheduleAt(5, Priority.arrival, () => log.push('arrival'));
    e.run();
    expect(log).toEqual(['a', 'hook at 5', 'queued after the last deferral', 'arrival']);
  });

  it('an event scheduled from the hook with the returned key fires where it would have at the deferral', () => {
    const e = new Engine();
    const log: string[] = [];
    let key = -1;
    const hook = (): void => e.scheduleAtKey(e.now, key, () => log.push('keyed'));
    e.scheduleAt(3, Priority.state, () => {
      key = e.atInstantEnd(hook);
      e.schedule(0, Priority.state, () => log.push('later'));
    });
    e.run();
    // The hook runs before 'later' (its key is after the deferral) and the keyed event fires first.
    expect(log).toEqual(['keyed', 'later']);
  });

  it('runs pending hooks before run(until) returns', () => {
    const e = new Engine();
    let ran = 0;
    e.scheduleAt(10, Priority.state, () => e.atInstantEnd(() => ran++));
    e.scheduleAt(50, Priority.state, () => {});
    e.run(20);
    expect(ran).toBe(1);
    expect(e.now).toBe(20);
  });
});

describe('Engine timers', () => {
  // A self-rescheduling stream (the next arrival of a Poisson process) on a timer
  // must fire exactly where the same stream on schedule() fires, among other events.
  it('a re-armed timer fires in the same order as the same events scheduled (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 4 })), { maxLength: 60 }),
        fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 40 }),
        fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 20 }),
        (others, gaps, gaps2) => {
          const run = (useTimer: boolean): string[] => {
            const e = new Engine();
            const log: string[] = [];
            others.forEach(([delay, prio], i) => e.schedule(delay, prio, () => log.push(`o${i}@${e.now}`)));
            // Two streams at the arrival priority; each event also schedules a follow-up.
            const streams = [gaps, gaps2].map((g, s) => {
              let n = 0;
              const fire = (): void => {
                log.push(`s${s}.${n}@${e.now}`);
                e.schedule(g[n] % 3, Priority.arrival, () => log.push(`f${s}.${n}@${e.now}`));
                if (++n < g.length) next();
              };
              const id = useTimer ? e.timer(fire) : -1;
              const next = (): void => (useTimer ? e.arm(id, g[n], Priority.arrival) : e.schedule(g[n], Priority.arrival, fire));
              return { g, next };
            });
            for (const s of streams) if (s.g.length > 0) s.next();
            e.run();
            return log;
          };
          expect(run(true)).toEqual(run(false));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('arming an armed timer throws SIM_INVARIANT; pending counts an armed timer', () => {
    const e = new Engine();
    const id = e.timer(() => {});
    e.arm(id, 5, Priority.arrival);
    expect(e.pending).toBe(1);
    expect(() => e.arm(id, 1, Priority.arrival)).toThrow(ConmigError);
    expect(() => e.arm(e.timer(() => {}), 1.5, Priority.arrival)).toThrow(ConmigError);
    e.run();
    expect(e.pending).toBe(0);
    expect(e.now).toBe(5);
  });
});
