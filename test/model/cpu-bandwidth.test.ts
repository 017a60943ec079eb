/**
 * CFS bandwidth control of one core (src/model/cpu-bandwidth.ts) against the kernel's rule
 * stepped one microsecond at a time in the test: a runnable job runs while the current
 * period's quota lasts, else waits for the next period, whose quota is full again.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cfsFinishUs, newCfsState } from '../../src/model/cpu-bandwidth.ts';

/** FCFS jobs on one core under quota/period, stepped 1 µs at a time. Returns each finish time. */
function stepped(jobs: ReadonlyArray<{ arriveUs: number; workUs: number }>, periodUs: number, quotaUs: number): number[] {
  const out: number[] = [];
  let t = 0;
  let period = -1;
  let used = 0;
  for (const j of jobs) {
    t = Math.max(t, j.arriveUs);
    let left = j.workUs;
    while (left > 0) {
      const p = Math.floor(t / periodUs);
      if (p !== period) {
        period = p;
        used = 0;
      }
      if (used < quotaUs) {
        used++;
        left--;
      }
      t++; // a throttled µs passes too
    }
    out.push(t);
  }
  return out;
}

describe('CFS bandwidth of one core', () => {
  it('the measurements of docs/testbed.md: at 0.5 CPU (10 ms period) a 20 ms job takes 35 ms, a 100 ms job 195 ms; at 0.3 CPU a 10 ms job 31 ms', () => {
    const run = (workMs: number, cores: number): number => cfsFinishUs(0, workMs * 1000, 10_000, cores * 10_000, newCfsState(1), 0) / 1000;
    expect(run(20, 0.5)).toBe(35);
    expect(run(100, 0.5)).toBe(195);
    expect(run(10, 0.3)).toBe(31);
    // a job within the period's quota runs at full speed; under the limit it never beats it
    expect(run(2, 0.3)).toBe(2);
  });

  it('a job that starts after the quota of its period is used waits for the next period', () => {
    const st = newCfsState(1);
    expect(cfsFinishUs(0, 3000, 10_000, 3000, st, 0)).toBe(3000); // the period's quota, used
    expect(cfsFinishUs(4000, 1000, 10_000, 3000, st, 0)).toBe(11_000); // waits until 10 ms
    expect(cfsFinishUs(25_000, 1000, 10_000, 3000, st, 0)).toBe(26_000); // a new period: full quota
  });

  it('equals the kernel rule stepped per µs, for any FCFS sequence of jobs', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 10, max: 200 }),
        fc.double({ min: 0.05, max: 1, noNaN: true }),
        fc.array(fc.record({ gapUs: fc.integer({ min: 0, max: 400 }), workUs: fc.integer({ min: 1, max: 600 }) }), { minLength: 1, maxLength: 25 }),
        (periodUs, share, raw) => {
          const quotaUs = Math.max(1, Math.round(share * periodUs));
          let at = 0;
          const jobs = raw.map((j) => ({ arriveUs: (at += j.gapUs), workUs: j.workUs }));
          const st = newCfsState(1);
          let free = 0;
          const got = jobs.map((j) => (free = cfsFinishUs(Math.max(free, j.arriveUs), j.workUs, periodUs, quotaUs, st, 0)));
          expect(got).toEqual(stepped(jobs, periodUs, quotaUs));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('cores keep their own quota', () => {
    const st = newCfsState(2);
    expect(cfsFinishUs(0, 3000, 10_000, 3000, st, 0)).toBe(3000);
    expect(cfsFinishUs(0, 3000, 10_000, 3000, st, 1)).toBe(3000);
    expect(cfsFinishUs(3000, 1, 10_000, 3000, st, 0)).toBe(10_001);
  });
});
