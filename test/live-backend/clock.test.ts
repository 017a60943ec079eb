import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { createScenarioClock, sleepUntilScen } from '../../src/live/backend/clock.ts';

describe('the live scenario clock', () => {
  it('never wakes before the scenario time it was asked for (timers may fire early)', async () => {
    const clock = createScenarioClock(2);
    for (let i = 1; i <= 40; i++) {
      const atUs = i * 3_000; // 1.5 ms of wall time apart at timeScale 2
      await sleepUntilScen(clock, atUs);
      expect(clock.nowScenUs()).toBeGreaterThanOrEqual(atUs);
    }
  });

  it('returns at once for a time already past, and early when aborted', async () => {
    const clock = createScenarioClock(1, performance.now() - 1000);
    const t0 = performance.now();
    await sleepUntilScen(clock, 10_000);
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 20);
    await sleepUntilScen(clock, 60_000_000, ctl.signal);
    expect(performance.now() - t0).toBeLessThan(5_000);
    expect(clock.nowScenUs()).toBeLessThan(60_000_000);
  });
});
