/**
 * Max-min fair fluid flows. Capacities are in Mbit/s = bits per microsecond,
 * so a flow of B bits alone on a 100 Mbit/s link takes B / 100 µs.
 * Completion times are rounded up to whole microseconds, so expectations below
 * are exact integers chosen to divide evenly.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/sim/engine.ts';
import { FlowNetwork } from '../../src/sim/flows.ts';

/** Starts `bits` over `links` at time `atUs` and records when it completes and the duration it reports. */
function flowAt(e: Engine, net: FlowNetwork, atUs: number, links: number[], bits: number): { endUs: number; durationUs: number } {
  const out = { endUs: -1, durationUs: -1 };
  e.scheduleAt(atUs, 0, () => {
    net.start(links, bits).onFire((d) => {
      out.endUs = e.now;
      out.durationUs = d;
    });
  });
  return out;
}

describe('FlowNetwork', () => {
  it('one flow alone on a 100 Mbit/s link takes bits/100 µs', () => {
    const e = new Engine();
    const net = new FlowNetwork(e, [100]);
    const f = flowAt(e, net, 0, [0], 1_000_000);
    e.run();
    expect(f.endUs).toBe(10_000);
    expect(f.durationUs).toBe(10_000);
    expect(net.activeCount).toBe(0);
  });

  it('a flow over several links runs at the narrowest one', () => {
    const e = new Engine();
    const net = new FlowNetwork(e, [1000, 40, 400]);
    const f = flowAt(e, net, 3, [0, 1, 2], 400_000);
    e.run();
    expect(f.durationUs).toBe(10_000);
    expect(f.endUs).toBe(10_003);
  });

  it('two flows on one link each get half and both finish at twice the solo time', () => {
    const e = new Engine();
    const net = new FlowNetwork(e, [100]);
    const a = flowAt(e, net, 0, [0], 1_000_000);
    const b = flowAt(e, net, 0, [0], 1_000_000);
    let rates: number[] = [];
    e.scheduleAt(1, 0, () => (rates = net.ratesMbps()));
    e.run();
    expect(rates).toEqual([50, 50]);
    expect(a.endUs).toBe(20_000);
    expect(b.endUs).toBe(20_000);
  });

  it('max-min fairness on two links: B is held by the narrow link 2, A takes the rest of link 1', () => {
    // Link 0: 100 Mbit/s, link 1: 30 Mbit/s. A uses link 0; B uses links 0 and 1.
    const e = new Engine();
    const net = new FlowNetwork(e, [100, 30]);
    const a = flowAt(e, net, 0, [0], 7_000_000); // 70 Mbit/s -> 100,000 µs
    const b = flowAt(e, net, 0, [0, 1], 1_500_000); // 30 Mbit/s -> 50,000 µs
    let rates: number[] = [];
    e.scheduleAt(1, 0, () => (rates = net.ratesMbps()));
    e.run();
    expect(rates[0]).toBeCloseTo(70, 9);
    expect(rates[1]).toBeCloseTo(30, 9);
    expect(b.endUs).toBe(50_000);
    // A sent 70 * 50,000 = 3.5 Mbit by then and gets the whole link for the other 3.5 Mbit: 35,000 µs.
    expect(a.endUs).toBe(85_000);
  });

  it('a flow starting midway halves the first one and the first speeds up again when it ends', () => {
    // 100 Mbit/s. F1: 2 Mbit at t=0. F2: 0.5 Mbit at t=10,000.
    // F1 alone for 10,000 µs: 1 Mbit sent, 1 Mbit left. Both at 50: F2 ends at 10,000 + 10,000 = 20,000,
    // F1 has sent 0.5 Mbit more (0.5 left) and finishes alone at 20,000 + 5,000 = 25,000.
    const e = new Engine();
    const net = new FlowNetwork(e, [100]);
    const f1 = flowAt(e, net, 0, [0], 2_000_000);
    const f2 = flowAt(e, net, 10_000, [0], 500_000);
    e.run();
    expect(f2.endUs).toBe(20_000);
    expect(f2.durationUs).toBe(10_000);
    expect(f1.endUs).toBe(25_000);
    expect(f1.durationUs).toBe(25_000);
  });

  it('flows on disjoint links do not slow each other', () => {
    const e = new Engine();
    const net = new FlowNetwork(e, [100, 100]);
    const a = flowAt(e, net, 0, [0], 1_000_000);
    const b = flowAt(e, net, 0, [1], 2_000_000);
    e.run();
    expect(a.endUs).toBe(10_000);
    expect(b.endUs).toBe(20_000);
  });

  it('three flows, one on both links (parking lot): the shared flow gets the fair share of its bottleneck', () => {
    // Links 0 and 1 at 90. A on 0, B on 1, C on 0+1: every link carries two flows, all get 45.
    const e = new Engine();
    const net = new FlowNetwork(e, [90, 90]);
    const a = flowAt(e, net, 0, [0], 900_000); // 45 -> 20,000 µs
    flowAt(e, net, 0, [1], 9_000_000);
    const c = flowAt(e, net, 0, [0, 1], 900_000); // 45 -> 20,000 µs
    let rates: number[] = [];
    e.scheduleAt(1, 0, () => (rates = net.ratesMbps()));
    e.run(20_000);
    expect(rates.map((r) => Math.round(r * 1e9) / 1e9)).toEqual([45, 45, 45]);
    expect(a.endUs).toBe(20_000);
    expect(c.endUs).toBe(20_000);
  });

  it('zero bits or no links complete at once with duration 0', () => {
    const e = new Engine();
    const net = new FlowNetwork(e, [100]);
    const a = flowAt(e, net, 5, [0], 0);
    const b = flowAt(e, net, 5, [], 1000);
    e.run();
    expect([a.endUs, a.durationUs, b.endUs, b.durationUs]).toEqual([5, 0, 5, 0]);
  });

  it('property: allocations are feasible and max-min fair (every flow has a saturated link where it is the largest)', () => {
    const topo = fc.array(fc.integer({ min: 10, max: 1000 }), { minLength: 1, maxLength: 5 }).chain((caps) =>
      fc.record({
        caps: fc.constant(caps),
        flows: fc.array(fc.uniqueArray(fc.integer({ min: 0, max: caps.length - 1 }), { minLength: 1, maxLength: caps.length }), {
          minLength: 1,
          maxLength: 8,
        }),
      }),
    );
    fc.assert(
      fc.property(topo, ({ caps, flows }) => {
        const e = new Engine();
        const net = new FlowNetwork(e, caps);
        for (const links of flows) net.start(links, 1e9);
        const rates = net.ratesMbps();
        expect(rates).toHaveLength(flows.length);
        const load = caps.map(() => 0);
        flows.forEach((links, i) => links.forEach((l) => (load[l] += rates[i])));
        const eps = 1e-9;
        load.forEach((x, l) => expect(x).toBeLessThanOrEqual(caps[l] * (1 + eps)));
        flows.forEach((links, i) => {
          expect(rates[i]).toBeGreaterThan(0);
          const bottleneck = links.some(
            (l) => load[l] >= caps[l] * (1 - eps) && flows.every((other, j) => !other.includes(l) || rates[j] <= rates[i] * (1 + eps)),
          );
          expect(bottleneck, `flow ${i} on links ${links.join(',')} has no bottleneck`).toBe(true);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('property: flows sharing one link finish, in total, when the link has carried all their bits', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.array(fc.record({ bits: fc.integer({ min: 1, max: 1e7 }) }), { minLength: 1, maxLength: 6 }),
        (cap, specs) => {
          const e = new Engine();
          const net = new FlowNetwork(e, [cap]);
          // Start all at 0 so the link is never idle: the last one ends after sum(bits)/cap.
          const outs = specs.map((f) => flowAt(e, net, 0, [0], f.bits));
          e.run();
          const total = specs.reduce((a, f) => a + f.bits, 0);
          const last = Math.max(...outs.map((o) => o.endUs));
          // Completions are rounded up to whole µs, once per rate change.
          expect(last).toBeGreaterThanOrEqual(Math.floor(total / cap));
          expect(last).toBeLessThanOrEqual(Math.ceil(total / cap) + specs.length);
          // Smaller flows never finish after larger ones (equal shares on one link).
          specs.forEach((f, i) =>
            specs.forEach((g, j) => {
              if (f.bits < g.bits) expect(outs[i].endUs).toBeLessThanOrEqual(outs[j].endUs);
            }),
          );
          expect(net.activeCount).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });
});
