/**
 * The live backend's view without a testbed: request outcomes as its
 * emulated users report them around a migration, fed through
 * LiveState.observe (the path run.ts uses), checked with the contract's
 * signal rule. The view classes and the windowed metrics are the simulator's
 * own, so what this checks is the live feed. On a real testbed the whole
 * contract, this rule included, runs against the live backend with real
 * users in test/live/live-run.test.ts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createRng, exponential } from '../../src/model/random.ts';
import { parseScenarioText } from '../../src/scenario-io/load.ts';
import { UserMotion } from '../../src/live/backend/motion.ts';
import type { RequestOutcome } from '../../src/live/backend/users.ts';
import { LiveClusterView, LiveState } from '../../src/live/backend/view.ts';
import { expectSignalRule, type CompletedRequest } from './backend-contract.ts';

const scenario = parseScenarioText(readFileSync(new URL('../../scenarios/shareon-live.yaml', import.meta.url), 'utf8'), 'shareon-live.yaml');

/**
 * What EmulatedUsers reports for one user at 4 requests/s over 40 s: served on
 * node1, then a migration to node2 from 20 s to 21.5 s during which requests
 * are retried (their wait runs until the container answers again), then on
 * node2. Times in ms as the users measure them; completion in scenario µs.
 */
function outcomes(): RequestOutcome[] {
  const rng = createRng(5, 'live-view-test');
  const out: RequestOutcome[] = [];
  const downFromUs = 20e6;
  const upAtUs = 21.5e6;
  for (let sentUs = 0; sentUs < 40e6; sentUs += Math.round(exponential(rng, 250_000))) {
    const networkMs = 12.3 + 20 * rng();
    const serviceMs = 150 + 200 * rng();
    const queueMs = 5 * rng();
    const held = sentUs >= downFromUs && sentUs < upAtUs;
    const waitMs = held ? (upAtUs - sentUs) / 1000 + 50 * rng() : 0;
    const responseMs = waitMs + networkMs + queueMs + serviceMs;
    const n = sentUs + waitMs * 1000 < upAtUs ? 0 : 1;
    out.push({ u: 0, c: 0, n, sentScenUs: sentUs, completionScenUs: Math.round(sentUs + responseMs * 1000), status: 'served', responseMs, networkMs, serviceMs, queueMs, waitMs, attempts: held ? 3 : 1 });
  }
  return out.sort((a, b) => a.completionScenUs - b.completionScenUs);
}

describe('live backend view (no testbed): the signal rule around a migration', () => {
  it("keeps each request's migration wait out of the response signals, as the simulator's view does", () => {
    const st = new LiveState(scenario, new UserMotion(scenario, 1));
    const view = new LiveClusterView(st);
    const all = outcomes();
    const fed: CompletedRequest[] = [];
    const req = { completed: () => fed, metricsWindowMs: scenario.metricsWindowS * 1000, holdsDuringMigration: true };
    let next = 0;
    let heldInWindow = 0;
    let checked = 0;
    for (let nowUs = 500_000; nowUs < 40e6; nowUs += 500_000) {
      // The users report answers as they arrive; the backend's step closes intervals and refreshes.
      while (next < all.length && all[next].completionScenUs <= nowUs) {
        const r = all[next++];
        st.observe(r);
        fed.push({ containerId: 'plate', doneUs: r.completionScenUs, responseMs: r.responseMs, networkMs: r.networkMs, migrationWaitMs: r.waitMs });
      }
      st.observed.closeIntervals(nowUs);
      view.refresh(nowUs);
      const r = expectSignalRule(view, req);
      heldInWindow += r.heldInWindow;
      checked += r.checked;
      const c = view.container('plate');
      // The retries (up to 1.5 s) never reach the response signals: they stay at network + node.
      if (Number.isFinite(c.meanResponseMs)) expect(c.meanResponseMs).toBeLessThan(400);
    }
    expect(heldInWindow).toBeGreaterThan(3);
    expect(checked).toBeGreaterThan(50);
    expect(fed.filter((r) => r.migrationWaitMs > 1000).length).toBeGreaterThan(0);
  });

  it('a late answer (over its timeout) is still a measurement; a request that never got an answer is not', () => {
    const st = new LiveState(scenario, new UserMotion(scenario, 1));
    const view = new LiveClusterView(st);
    const base = { u: 0, c: 0, n: 0, sentScenUs: 0, attempts: 1, queueMs: 0, serviceMs: 200, waitMs: 0 };
    st.observe({ ...base, completionScenUs: 1_500_000, status: 'failed', responseMs: 10_220, networkMs: 20 });
    st.observe({ ...base, completionScenUs: 1_600_000, status: 'failed', responseMs: 10_000, networkMs: Number.NaN, serviceMs: Number.NaN, queueMs: Number.NaN, waitMs: 10_000 });
    st.observed.closeIntervals(2_000_000);
    view.refresh(2_000_000);
    const c = view.container('plate');
    expect(c.requestRatePerS * 2).toBeCloseTo(1, 9);
    expect(c.lastResponseMs).toBe(10_220);
    expect(c.lastMigrationWaitMs).toBe(0);
  });
});
