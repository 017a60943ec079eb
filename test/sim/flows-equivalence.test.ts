/**
 * Batched, component-local reallocation (src/sim/flows.ts) against the former
 * network that reallocated every flow after every start and end
 * (test/sim/reference-flows.ts), on random flow sets: the same completions at
 * the same microseconds with the same durations, in the same order relative
 * to other events, and bit-identical rates whenever they are read.
 *
 * Starts are drawn from a few instants so many coincide, flows chain (a
 * finished flow starts follow-ups at its completion instant, as migration
 * phases do) and other events at the same instants (priorities 0-3) record
 * when they ran relative to the completions.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Engine, type SimEvent } from '../../src/sim/engine.ts';
import { FlowNetwork } from '../../src/sim/flows.ts';
import { ReferenceFlowNetwork } from './reference-flows.ts';

interface FlowSpec {
  atUs: number;
  links: number[];
  bits: number;
  /** Follow-up flows started when this one completes. */
  then: Array<{ links: number[]; bits: number; delayUs: number | 'direct' }>;
}

interface Case {
  caps: number[];
  flows: FlowSpec[];
  probes: Array<{ atUs: number; priority: number }>;
}

interface Net {
  start(links: readonly number[], bits: number): SimEvent<number>;
  ratesMbps(): number[];
  readonly activeCount: number;
}

/** Runs a case and returns everything observable, in the order it happened. */
function trace(c: Case, make: (e: Engine, caps: number[]) => Net): string[] {
  const e = new Engine();
  const net = make(e, c.caps);
  const log: string[] = [];
  const launch = (name: string, links: number[], bits: number, then: FlowSpec['then']): void => {
    log.push(`${e.now} start ${name}`);
    net.start(links, bits).onFire((d) => {
      log.push(`${e.now} done ${name} ${d}`);
      then.forEach((t, k) => {
        const next = `${name}.${k}`;
        if (t.delayUs === 'direct') launch(next, t.links, t.bits, []);
        else e.schedule(t.delayUs, 0, () => launch(next, t.links, t.bits, t.delayUs === 0 ? [] : [{ ...t, delayUs: 0 }]));
      });
    });
    // An event right after the start at the same instant: it must stay after a completion due now.
    e.schedule(0, 0, () => log.push(`${e.now} after ${name}: ${net.activeCount} active`));
  };
  c.flows.forEach((f, i) => e.scheduleAt(f.atUs, 0, () => launch(String(i), f.links, f.bits, f.then)));
  c.probes.forEach((p, i) =>
    e.scheduleAt(p.atUs, p.priority, () => log.push(`${e.now} probe ${i} active=${net.activeCount} rates=${net.ratesMbps().map((r) => r.toString()).join(',')}`)),
  );
  e.run();
  log.push(`end ${e.now} fired=${e.fired > 0} active=${net.activeCount}`);
  return log;
}

// Round capacities and sizes make completions coincide (same-instant ties);
// odd ones make the rates' floating-point rounding depend on the order of the arithmetic.
const capArb = fc.oneof(fc.constantFrom(100, 200, 400, 1000), fc.double({ min: 1, max: 1000, noNaN: true }));
const caseArb: fc.Arbitrary<Case> = fc.array(capArb, { minLength: 1, maxLength: 7 }).chain((caps) => {
  const links = fc.uniqueArray(fc.integer({ min: 0, max: caps.length - 1 }), { minLength: 1, maxLength: Math.min(4, caps.length) });
  const bits = fc.oneof(
    fc.integer({ min: 1, max: 50 }).map((k) => k * 100_000),
    fc.integer({ min: 1, max: 5_000_000 }),
    fc.double({ min: 1e-3, max: 5e6, noNaN: true }),
  );
  const instant = fc.constantFrom(0, 0, 1, 7, 1000, 5000, 20_000);
  return fc.record({
    caps: fc.constant(caps),
    flows: fc.array(
      fc.record({
        atUs: instant,
        links,
        bits,
        then: fc.array(fc.record({ links, bits, delayUs: fc.constantFrom<number | 'direct'>('direct', 0, 0, 1, 250) }), { maxLength: 3 }),
      }),
      { minLength: 1, maxLength: 20 },
    ),
    probes: fc.array(fc.record({ atUs: fc.oneof(instant, fc.integer({ min: 0, max: 100_000 })), priority: fc.integer({ min: 0, max: 3 }) }), { maxLength: 6 }),
  });
});

describe('batched flow reallocation against reallocating everything at every change', () => {
  it('property: same completions, durations, event order and bit-identical rates on random flow sets', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const ref = trace(c, (e, caps) => new ReferenceFlowNetwork(e, caps));
        const batched = trace(c, (e, caps) => new FlowNetwork(e, caps));
        expect(ref.some((l) => l.includes(' done '))).toBe(true);
        expect(batched).toEqual(ref);
      }),
      { numRuns: 1000 },
    );
  });

  it('a completion due at the instant of a later start keeps its place before what that start scheduled next', () => {
    // A (1 Mbit at 100 Mbit/s) is due at 10,000 µs; B starts at 10,000 from an event queued before
    // A's completion, so A completes at B's start, before the event B's starter queued after it.
    const run = (make: (e: Engine) => Net): string[] => {
      const e = new Engine();
      const net = make(e);
      const log: string[] = [];
      e.scheduleAt(10_000, 0, () => {
        net.start([0], 1e6).onFire(() => log.push('B done'));
        e.schedule(0, 0, () => log.push(`after B at ${e.now}: ${net.activeCount} active`));
      });
      e.scheduleAt(0, 0, () => net.start([0], 1e6).onFire(() => log.push(`A done at ${e.now}`)));
      e.run();
      return log;
    };
    const ref = run((e) => new ReferenceFlowNetwork(e, [100]));
    // A's completion ran before (1 flow left); its waiter resumes after, as every waiter does.
    expect(ref).toEqual(['after B at 10000: 1 active', 'A done at 10000', 'B done']);
    expect(run((e) => new FlowNetwork(e, [100]))).toEqual(ref);
  });

  it('more flows at once than a call has room for arguments (1M users start 100,000s of migrations)', () => {
    const e = new Engine();
    const net = new FlowNetwork(e, [2e5]);
    e.scheduleAt(0, 0, () => {
      for (let i = 0; i < 200_000; i++) net.start([0], 1e6);
    });
    e.run(1);
    expect(net.activeCount).toBe(200_000);
    expect(net.ratesMbps()[199_999]).toBe(1);
  });

  it('a hundred flows started at one instant cost one reallocation, not a hundred', () => {
    const e = new Engine();
    const net = new FlowNetwork(e, [1000, 1000]);
    e.scheduleAt(10, 0, () => {
      for (let i = 0; i < 100; i++) net.start([i % 2], 1e6);
    });
    let events = -1;
    e.scheduleAt(11, 0, () => (events = e.pending));
    e.run(11);
    // One completion event pending (plus nothing stale): every start shared one arm.
    expect(events).toBe(1);
    expect(net.ratesMbps()).toEqual(new Array<number>(100).fill(20));
  });
});
