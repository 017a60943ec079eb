/**
 * Emulated mobile users in the controller process. Each scenario user sends
 * a Poisson stream of real HTTP requests (its rate is per scenario second, so
 * per wall second it is rate * timeScale; arrivals drawn from the seeded
 * stream `arrivals`, merged over the users and drawn as the simulator does) to the node its container runs on NOW, over
 * an AccessPath that imposes the latency model at the user's position.
 *
 * A request that fails because the container is down (connection refused or
 * reset, or the container moved away while the request was outstanding) is
 * retried every RETRY_GAP_WALL_MS until its timeout (`onDowntime: retry`), or
 * counted as failed at once (`fail`). Per request:
 *   response   = first send -> answer accepted (wall ms)
 *   network    = emulated RTT of the successful attempt + measured base RTT of the path
 *   service    = the service's own report: a job's CPU time at the node's speed,
 *                cpuMs / speedFactor, when it reports cpuMs (the synthetic service:
 *                what the simulator's service component is, the job alone on its
 *                node's CPU share), else its processingMs (the plate service's
 *                wall time), 0 if neither. Wall time a job spent waiting for the
 *                node's CPU while its neighbours ran is then queueing, as in the
 *                simulator, whose node serves one job per core at a time.
 *   wait       = first send -> start of the successful attempt (time spent retrying)
 *   queue      = max(0, response - network - service - wait)
 */
import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import { createRng, exponential, type Rng } from '../../model/random.ts';
import { AliasTable } from '../../model/alias.ts';
import type { Scenario } from '../../model/types.ts';
import type { AccessPath, Endpoint } from './access.ts';
import { sleepWallMs, type ScenarioClock } from './clock.ts';
import type { RequestOutcome } from './request-outcome.ts';
import type { LiveState } from './view.ts';

export const RETRY_GAP_WALL_MS = 50;

export type { RequestOutcome } from './request-outcome.ts';

export interface UsersOptions {
  scenario: Scenario;
  seed: number;
  state: LiveState;
  clock: ScenarioClock;
  access: AccessPath;
  /** Where each node's copy of a container answers (by node index). */
  endpointOf(c: number, n: number): Endpoint;
  /** HTTP path of a request (the plate service: /plate). */
  path: string;
  /** A request being sent: for counting. */
  onSent(u: number, sentScenUs: number): void;
  onDone(r: RequestOutcome): void;
  /** Outstanding when stopped. */
  onAbandoned(u: number, c: number, n: number, sentScenUs: number, elapsedWallMs: number): void;
  /** Cap of one attempt (wall ms); a hung attempt is given up and retried after this. */
  attemptTimeoutWallMs?: number;
}

interface Attempt {
  c: number;
  n: number;
  ctl: AbortController;
}

export class EmulatedUsers {
  private readonly stopCtl = (() => {
    // Every request in flight listens on this one stop signal (and removes its
    // listener when it ends): dozens at once is normal, not a leak.
    const ctl = new AbortController();
    setMaxListeners(0, ctl.signal);
    return ctl;
  })();
  private readonly attempts = new Set<Attempt>();
  private readonly outstanding = new Set<Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** The simulator's merged arrival process, drawn the same way (src/sim/requests.ts onArrival). */
  private readonly rng: Rng;
  private readonly alias: AliasTable | null;
  private readonly userByAlias: Int32Array;
  private readonly totalRatePerUs: number;
  generated = 0;
  completed = 0;
  attemptsTotal = 0;

  constructor(private readonly o: UsersOptions) {
    // Same stream, same order of draws (gap to the next arrival, then which user) as the
    // simulator: a live run and its simulation with one seed send the same requests at the
    // same scenario times, so a comparison is not blurred by different arrival samples.
    this.rng = createRng(o.seed, 'arrivals');
    const active = o.scenario.users.map((u, i) => ({ i, rate: u.requests.ratePerS })).filter((x) => x.rate > 0);
    this.alias = active.length > 0 ? new AliasTable(active.map((x) => x.rate)) : null;
    this.userByAlias = Int32Array.from(active.map((x) => x.i));
    this.totalRatePerUs = active.reduce((a, x) => a + x.rate, 0) / 1e6;
  }

  /** Start the arrival stream (scenario time 0 = clock start); it stops by itself at `endScenUs`. */
  start(endScenUs: number): void {
    if (this.alias && this.totalRatePerUs > 0) this.scheduleNext(0, endScenUs);
  }

  private scheduleNext(fromScenUs: number, endScenUs: number): void {
    if (this.stopCtl.signal.aborted || !this.alias) return;
    const alias = this.alias;
    const atScenUs = fromScenUs + Math.max(1, Math.round(exponential(this.rng, 1 / this.totalRatePerUs)));
    if (atScenUs >= endScenUs) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.scheduleNext(atScenUs, endScenUs);
      this.launch(this.userByAlias[alias.pick(this.rng)], atScenUs);
    }, Math.max(0, this.o.clock.wallMsAt(atScenUs) - performance.now()));
    this.timers.add(t);
  }

  private launch(u: number, sentScenUs: number): void {
    const p = this.one(u, sentScenUs).finally(() => this.outstanding.delete(p));
    this.outstanding.add(p);
  }

  /** The container moved (or started migrating): abort outstanding attempts to other nodes so they are re-sent. */
  containerMoved(c: number, nowOn: number): void {
    for (const a of this.attempts) if (a.c === c && a.n !== nowOn) a.ctl.abort();
  }

  private async one(u: number, sentScenUs: number): Promise<void> {
    const o = this.o;
    const st = o.state;
    const c = st.userContainer[u];
    const spec = o.scenario.users[u].requests;
    const timeoutMs = spec.timeoutMs;
    const t0Wall = performance.now();
    this.generated++;
    o.onSent(u, sentScenUs);
    let n = st.containerNode[c];
    let attempts = 0;
    const stop = this.stopCtl.signal;
    for (;;) {
      if (stop.aborted) {
        o.onAbandoned(u, c, n, sentScenUs, performance.now() - t0Wall);
        return;
      }
      n = st.containerNode[c];
      const attemptWall = performance.now();
      const nowScen = o.clock.nowScenUs();
      const rttMs = st.modelRttMs(u, n, nowScen);
      const leftMs = timeoutMs - (attemptWall - t0Wall);
      const ctl = new AbortController();
      const onStop = (): void => ctl.abort();
      stop.addEventListener('abort', onStop, { once: true });
      const a: Attempt = { c, n, ctl };
      this.attempts.add(a);
      attempts++;
      this.attemptsTotal++;
      let ok = false;
      let serviceMs = 0;
      let emulatedMs = rttMs;
      try {
        const cap = Math.max(1, Math.min(leftMs, o.attemptTimeoutWallMs ?? 5000));
        const r = await o.access.request(u, o.endpointOf(c, n), rttMs, o.path, cap, ctl.signal);
        emulatedMs = r.emulatedMs;
        ok = r.status === 200;
        if (ok) serviceMs = parseServiceMs(r.body, o.scenario.topology.nodes[n]?.speedFactor ?? 1);
      } catch {
        ok = false;
      } finally {
        this.attempts.delete(a);
        stop.removeEventListener('abort', onStop);
      }
      const endWall = performance.now();
      const responseMs = endWall - t0Wall;
      if (ok) {
        const waitMs = attemptWall - t0Wall;
        const networkMs = emulatedMs + st.baseRttMs[n];
        this.completed++;
        o.onDone({
          u, c, n, sentScenUs, completionScenUs: o.clock.nowScenUs(),
          status: responseMs > timeoutMs ? 'failed' : 'served',
          responseMs, networkMs, serviceMs, waitMs,
          queueMs: Math.max(0, responseMs - networkMs - serviceMs - waitMs),
          attempts,
        });
        return;
      }
      if (stop.aborted) continue; // reported as abandoned at the top of the loop
      if (o.scenario.live?.onDowntime === 'fail' || responseMs + RETRY_GAP_WALL_MS >= timeoutMs) {
        this.completed++;
        o.onDone({
          u, c, n, sentScenUs, completionScenUs: o.clock.nowScenUs(), status: 'failed',
          responseMs, networkMs: Number.NaN, serviceMs: Number.NaN, queueMs: Number.NaN, waitMs: responseMs, attempts,
        });
        return;
      }
      await sleepWallMs(RETRY_GAP_WALL_MS, stop);
    }
  }

  /** Stop sending; abort outstanding requests (reported through onAbandoned) and wait for them. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.stopCtl.abort();
    while (this.outstanding.size > 0) await Promise.allSettled([...this.outstanding]);
  }
}

/** The service component of an answer (see the header): cpuMs / speedFactor, else processingMs, else 0. */
export function parseServiceMs(body: string, speedFactor: number): number {
  try {
    const j = JSON.parse(body) as { processingMs?: unknown; cpuMs?: unknown };
    if (typeof j.cpuMs === 'number' && Number.isFinite(j.cpuMs) && j.cpuMs >= 0 && speedFactor > 0) return j.cpuMs / speedFactor;
    return typeof j.processingMs === 'number' && Number.isFinite(j.processingMs) ? j.processingMs : 0;
  } catch {
    return 0;
  }
}
