/**
 * A CPU-limited node (cpuPeriodMs: CFS bandwidth, as a testbed node's cgroup) in the simulator:
 * each request's response replayed in the test with the kernel's rule, iterated period by
 * period (quota speedFactor x period per period, at the reference speed, FCFS), from the
 * trace's own send times. Network RTT 0, so response = queueing + service.
 */
import { describe, expect, it } from 'vitest';
import { neverPolicy } from '../../src/model/policies/index.ts';
import type { Scenario } from '../../src/model/types.ts';
import { parseScenarioText } from '../../src/scenario-io/parse.ts';
import { isConmigError } from '../../src/model/errors.ts';
import { makeScenario, simulateWithTrace } from './helpers.ts';

function limited(o: { speed: number; periodMs: number; ratePerS: number; serviceMs: number; durationS?: number }): Scenario {
  const s = makeScenario({ ratePerS: o.ratePerS, serviceTime: { kind: 'deterministic', valueMs: o.serviceMs }, durationS: o.durationS ?? 200 });
  s.topology.nodes[0] = { ...s.topology.nodes[0], speedFactor: o.speed, cpuPeriodMs: o.periodMs };
  return s;
}

/** The kernel's rule, one period at a time: finish (µs) of each FCFS job. */
function replay(sendUs: readonly number[], workUs: number, periodUs: number, quotaUs: number): number[] {
  let free = 0;
  let period = -1;
  let used = 0;
  return sendUs.map((at) => {
    let t = Math.max(free, at);
    let left = workUs;
    for (;;) {
      const p = Math.floor(t / periodUs);
      if (p !== period) {
        period = p;
        used = 0;
      }
      const run = Math.min(left, quotaUs - used, (p + 1) * periodUs - t);
      left -= run;
      used += run;
      t += run;
      if (left === 0) break;
      t = (p + 1) * periodUs;
    }
    return (free = t);
  });
}

describe('a CPU-limited node (cpuPeriodMs)', () => {
  it.each([
    [0.3, 10, 20, 7],
    [0.5, 10, 30, 12],
    [0.3, 20, 35, 4],
  ])('at %s CPU, %s ms period, %s req/s of %s ms: every response is the kernel rule replayed', (speed, periodMs, ratePerS, serviceMs) => {
    const { result, requests } = simulateWithTrace(limited({ speed, periodMs, ratePerS, serviceMs }), neverPolicy.create(), 3);
    expect(requests.length).toBeGreaterThan(100 * ratePerS);
    const sendUs = requests.map((r) => Math.round(r.sentS * 1e6));
    const finish = replay(sendUs, serviceMs * 1000, periodMs * 1000, Math.round(speed * periodMs * 1000));
    const want = finish.map((f, i) => (f - sendUs[i]) / 1000);
    expect(requests.map((r) => r.responseMs)).toEqual(want);
    // The limit shows: short jobs on an idle node beat S / speed, queued ones pay the throttling.
    const unlimitedMs = serviceMs / speed;
    expect(Math.min(...want)).toBeLessThan(unlimitedMs);
    expect(Math.max(...want)).toBeGreaterThan(unlimitedMs);
    // Utilisation is the share of the limit used: lambda x S / (cores x speed), as on the testbed.
    const rho = (ratePerS * serviceMs) / 1000 / speed;
    expect(Math.abs(result.summary.nodes.meanUtilisation / rho - 1)).toBeLessThan(0.05);
  });

  it('without cpuPeriodMs a job takes S / speedFactor, whatever the load (the unchanged model)', () => {
    const s = limited({ speed: 0.3, periodMs: 10, ratePerS: 1, serviceMs: 2 });
    delete s.topology.nodes[0].cpuPeriodMs;
    const { requests } = simulateWithTrace(s, neverPolicy.create(), 3);
    for (const r of requests) expect(r.serviceMs).toBeCloseTo(2 / 0.3, 2);
    // with the limit, the same lone 2 ms jobs run within one period's 3 ms quota: at full speed
    const lim = simulateWithTrace(limited({ speed: 0.3, periodMs: 10, ratePerS: 1, serviceMs: 2 }), neverPolicy.create(), 3).requests;
    expect(lim.filter((r) => r.serviceMs === 2).length).toBeGreaterThan(0.5 * lim.length);
  });

  it('a scenario asking for a limit faster than a core is refused, naming the field', () => {
    const text = [
      'name: x',
      'durationS: 10',
      'topology:',
      '  nodes:',
      '    - { id: n1, x: 0, y: 0, cpuCores: 1, memoryMiB: 1024, speedFactor: 2, cpuPeriodMs: 10 }',
      'users:',
      '  - { id: u1, start: { x: 0, y: 0 }, mobility: { kind: static }, requests: { ratePerS: 1 } }',
      'containers:',
      '  - { id: c1, node: n1, memoryMiB: 64, users: [u1], serviceTime: { kind: deterministic, valueMs: 5 } }',
      '',
    ].join('\n');
    try {
      parseScenarioText(text, 'fast.yaml');
      expect.unreachable('the scenario was accepted');
    } catch (e) {
      if (!isConmigError(e)) throw e;
      const p = e.problems.find((q) => q.path === 'topology.nodes[0].speedFactor');
      expect(p?.message).toBe('expected speedFactor <= 1 with cpuPeriodMs (a CPU limit of cpuCores x speedFactor cores), got 2');
      expect(p?.file).toBe('fast.yaml:5');
    }
  });
});
