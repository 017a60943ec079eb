/**
 * Scenario time in live mode: wall-clock time since the start of the run,
 * multiplied by the scenario's time scale (live.timeScale). Latencies are NOT
 * scaled: a response that takes 80 ms of wall time is an 80 ms response; only
 * the time axis (mobility, arrival rates, control interval, report windows)
 * is compressed. Names say which clock a number belongs to: `...WallMs` is
 * wall-clock, `...ScenUs` / `...ScenMs` is scenario time.
 */
import { performance } from 'node:perf_hooks';

export interface ScenarioClock {
  readonly timeScale: number;
  /** performance.now() at scenario time 0. */
  readonly startWallMs: number;
  /** Scenario time now, integer µs. */
  nowScenUs(): number;
  /** Wall-clock ms (performance.now scale) at which scenario time `scenUs` is reached. */
  wallMsAt(scenUs: number): number;
}

export function createScenarioClock(timeScale: number, startWallMs = performance.now()): ScenarioClock {
  return {
    timeScale,
    startWallMs,
    nowScenUs: () => Math.max(0, Math.round((performance.now() - startWallMs) * 1000 * timeScale)),
    wallMsAt: (scenUs) => startWallMs + scenUs / 1000 / timeScale,
  };
}

/** Wait until scenario time `scenUs` (or at once if it has passed); resolves early if the signal aborts. */
export async function sleepUntilScen(clock: ScenarioClock, scenUs: number, signal?: AbortSignal): Promise<void> {
  // Node's timers run on a millisecond clock of their own and may fire up to ~1 ms before
  // performance.now() reaches the target: a control step at 43 s then ran at 42.9993 s. Sleep
  // again for the rest, so nothing scheduled at a scenario time happens before it.
  const targetWallMs = clock.wallMsAt(scenUs);
  for (let left = targetWallMs - performance.now(); left > 0 && !signal?.aborted; left = targetWallMs - performance.now()) {
    await sleepWallMs(Math.max(left, 0.05), signal);
  }
}

export function sleepWallMs(wallMs: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted || wallMs <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(done, wallMs);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
