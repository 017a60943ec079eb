/**
 * CFS bandwidth control (the cgroup CPU limit of a testbed node), for one core.
 *
 * A cgroup limited to `quota` µs of CPU per `period` µs runs its threads at the
 * core's full speed until the period's quota is used, then waits (throttled)
 * for the next period, when the quota is refilled. A node at 0.3 CPU with a
 * 10 ms period therefore runs a job of 2 ms on an idle node in 2 ms, not in
 * 2 / 0.3 = 6.7 ms, and a job of 10 ms in 3 + 7 + 3 + 7 + 3 + 7 + 1 = 31 ms, not
 * 33.3 ms; under load (quota used by earlier jobs) it approaches S / 0.3.
 * docs/testbed.md measured it: at 0.5 CPU a 20 ms job takes 35-37 ms and a
 * 100 ms job 193 ms (this model: 35 and 195 when the job starts at a period
 * boundary).
 *
 * Assumptions: periods are aligned at time 0 (the kernel's period timer has a
 * phase of its own; a node's jobs see every phase, so the mean is the same);
 * throttling is exact (the kernel throttles at tick and slice granularity, which
 * measured no different at a 5 or 10 ms period, docs/testbed.md); unused quota
 * does not carry over (cpu.cfs_burst_us = 0, the default).
 */

/** One core's quota state: the period of its last use and the quota used in it, at [2k, 2k+1]. */
export function newCfsState(cores: number): Float64Array {
  const s = new Float64Array(2 * cores);
  for (let k = 0; k < cores; k++) s[2 * k] = -1; // no period used yet: the first gets a full quota
  return s;
}

/**
 * Finish time (µs) of `workUs` of CPU at full speed that starts at `startUs`
 * on core k under a limit of `quotaUs` per `periodUs`, and records the quota it
 * used in `state`. Jobs on a core must be run in the order they start (FCFS), as
 * the simulator does. O(1) however long the job.
 */
export function cfsFinishUs(startUs: number, workUs: number, periodUs: number, quotaUs: number, state: Float64Array, k: number): number {
  const perPeriod = quotaUs < periodUs ? quotaUs : periodUs; // CPU one period can give
  let p = Math.floor(startUs / periodUs);
  const used = state[2 * k] === p ? state[2 * k + 1] : 0;
  // First (partial) period: what is left of its quota, and of its wall time.
  const first = Math.min(workUs, Math.max(0, perPeriod - used), (p + 1) * periodUs - startUs);
  let left = workUs - first;
  if (left <= 0) {
    state[2 * k] = p;
    state[2 * k + 1] = used + first;
    return startUs + workUs;
  }
  // Whole periods, then the last one's share, each from the period's start.
  const whole = Math.ceil(left / perPeriod) - 1;
  p += 1 + whole;
  left -= whole * perPeriod;
  state[2 * k] = p;
  state[2 * k + 1] = left;
  return p * periodUs + left;
}
