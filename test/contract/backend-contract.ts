/**
 * The shared contract of a ControlPort: properties every backend (the
 * simulator, the recording fake, the live backend on a real testbed) must
 * satisfy, so a policy sees the same kind of view and its decisions have the
 * same effect everywhere. Runners:
 *   test/contract/sim.contract.test.ts     the simulator (its controlPort, engine advanced)
 *   test/contract/fake.contract.test.ts    the in-memory recording fake (fake-backend.ts)
 *   test/live/live-run.test.ts             the live backend on a 3-node local testbed (real in CI)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlStep, type ControlPort } from '../../src/model/control.ts';
import type { AcceptedMigration } from '../../src/model/decisions.ts';
import { ConmigError } from '../../src/model/errors.ts';
import { createBuiltinPolicy } from '../../src/model/policies/index.ts';
import type { Policy } from '../../src/model/policy.ts';
import type { ClusterView, MigrationDecision } from '../../src/model/view.ts';
import { fakeView } from '../model/fake-view.ts';

/** A request a backend fed into its view (what the contract checks the windowed signals against). */
export interface CompletedRequest {
  containerId: string;
  /** Scenario µs its answer arrived (when the controller can first see it). */
  doneUs: number;
  /** As the user saw it, migration wait included. */
  responseMs: number;
  networkMs: number;
  /** Time it was held (retried) while its container migrated; 0 if it was not. */
  migrationWaitMs: number;
}

/** Backends whose users send requests expose them, so the contract can check the view's signals. */
export interface ContractRequests {
  /** Every request completed so far, in any order. */
  completed(): readonly CompletedRequest[];
  metricsWindowMs: number;
  /** True when the backend's set-up guarantees requests held during the contract's migration. */
  holdsDuringMigration: boolean;
}

export interface ContractBackend {
  port: ControlPort;
  /** Let about `scenarioMs` of scenario time pass and refresh the view (the backend's own control-step refresh). */
  advance(scenarioMs: number): Promise<void>;
  /** A node with less free memory than any container needs, if the backend's scenario has one. */
  fullNodeId?: string;
  /** Scenario ms within which a migration must have finished. */
  migrationBudgetMs: number;
  /** Scenario ms to advance per poll while waiting for a migration. */
  pollMs: number;
  /** Present when the backend's users send requests (the signal rules are then checked too). */
  requests?: ContractRequests;
  close(): Promise<void>;
}

/** A policy that returns fixed decisions (and counts its calls). */
export function scripted(decisions: MigrationDecision[]): Policy {
  return { name: 'scripted', params: {}, decide: () => decisions.map((d) => ({ ...d })) };
}

/** Wrap a port to record what reached startMigration. */
export function recording(port: ControlPort): { port: ControlPort; started: AcceptedMigration[] } {
  const started: AcceptedMigration[] = [];
  return {
    started,
    port: {
      get view() {
        return port.view;
      },
      startMigration: (m) => {
        started.push(m);
        port.startMigration(m);
      },
    },
  };
}

/** A plain copy of a view (same answers, no backend behind it). */
export function snapshotView(v: ClusterView): ClusterView {
  const rtt: Record<string, Record<string, number>> = {};
  for (const u of v.users) {
    rtt[u.id] = {};
    for (const n of v.nodes) rtt[u.id][n.id] = v.networkRttMs(u.id, n.id);
  }
  return fakeView({
    nowMs: v.nowMs,
    qosThresholdMs: v.qosThresholdMs,
    controlIntervalMs: v.controlIntervalMs,
    nodes: v.nodes.map((n) => ({ ...plain(n) })),
    containers: v.containers.map((c) => ({ ...plain(c), users: [...c.users] })),
    users: v.users.map((u) => ({ id: u.id, containerId: u.containerId, apId: u.apId })),
    rttMs: rtt,
    path: (a, b) => v.path(a, b),
    migrationsInFlight: v.migrationsInFlight.map((m) => ({ ...m })),
    defaultMigrationMode: v.defaultMigrationMode,
    migrationCost: v.migrationCost,
  });
}

function plain<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  let p: object | null = o;
  while (p && p !== Object.prototype) {
    for (const k of Object.getOwnPropertyNames(p)) {
      if (k === 'constructor' || k in out) continue;
      const val = (o as Record<string, unknown>)[k];
      if (typeof val !== 'function' && !(typeof val === 'object' && val !== null && !Array.isArray(val))) out[k] = val;
    }
    p = Object.getPrototypeOf(p) as object | null;
  }
  return out as T;
}

function placement(v: ClusterView): Record<string, { nodeId: string; migrating: boolean; lastEnd: number }> {
  return Object.fromEntries(v.containers.map((c) => [c.id, { nodeId: c.nodeId, migrating: c.migrating, lastEnd: c.lastMigrationEndMs }]));
}

function memory(v: ClusterView): Record<string, number> {
  return Object.fromEntries(v.nodes.map((n) => [n.id, n.memoryUsedMiB]));
}

/**
 * The rule for windowed signals (README, "The controller's view"): over the
 * requests completed in the closed control intervals of the metrics window,
 * meanResponseMs is their mean response WITHOUT migration wait, and
 * meanMigrationWaitMs the mean wait; the last* fields are those of the latest
 * completion. Returns how many of the windows checked held a held request.
 */
export function expectSignalRule(v: ClusterView, req: ContractRequests): { heldInWindow: number; checked: number } {
  const intervalUs = Math.round(v.controlIntervalMs * 1000);
  const slots = Math.max(1, Math.ceil(req.metricsWindowMs / v.controlIntervalMs));
  const closedUs = Math.floor(Math.round(v.nowMs * 1000) / intervalUs) * intervalUs;
  const fromUs = closedUs - slots * intervalUs;
  const all = req.completed();
  let heldInWindow = 0;
  let checked = 0;
  const close = (a: number, b: number, what: string): void => {
    expect(Math.abs(a - b), `${what}: view ${a}, requests ${b}`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(b)));
  };
  for (const c of v.containers) {
    const mine = all.filter((r) => r.containerId === c.id && r.doneUs < closedUs);
    const inWindow = mine.filter((r) => r.doneUs >= fromUs);
    if (inWindow.length === 0) {
      expect(c.meanResponseMs).toBeNaN();
      expect(c.meanMigrationWaitMs).toBeNaN();
    } else {
      const mean = (f: (r: CompletedRequest) => number): number => inWindow.reduce((a, r) => a + f(r), 0) / inWindow.length;
      close(c.meanResponseMs, mean((r) => r.responseMs - r.migrationWaitMs), `${c.id} meanResponseMs`);
      close(c.meanMigrationWaitMs, mean((r) => r.migrationWaitMs), `${c.id} meanMigrationWaitMs`);
      close(c.meanNetworkMs, mean((r) => r.networkMs), `${c.id} meanNetworkMs`);
      if (inWindow.some((r) => r.migrationWaitMs > 0)) heldInWindow++;
      checked++;
    }
    // Ties (two answers in the same µs) go to the one filed last, as in ObservedMetrics.
    const latest = mine.reduce<CompletedRequest | undefined>((a, r) => (!a || r.doneUs >= a.doneUs ? r : a), undefined);
    if (!latest) {
      expect(c.lastResponseMs).toBeNaN();
      continue;
    }
    close(c.lastResponseMs, latest.responseMs - latest.migrationWaitMs, `${c.id} lastResponseMs`);
    close(c.lastMigrationWaitMs, latest.migrationWaitMs, `${c.id} lastMigrationWaitMs`);
    close(c.lastNetworkMs, latest.networkMs, `${c.id} lastNetworkMs`);
  }
  return { heldInWindow, checked };
}

export function describeBackendContract(name: string, make: () => Promise<ContractBackend>, opts: { skip?: boolean; timeoutMs?: number; sendsRequests?: boolean } = {}): void {
  describe.skipIf(opts.skip === true)(`ControlPort contract: ${name}`, () => {
    let b: ContractBackend;
    const timeout = opts.timeoutMs ?? 20_000;
    beforeAll(async () => {
      b = await make();
      await b.advance(b.pollMs);
    }, 180_000);
    afterAll(async () => {
      await b?.close();
    }, 120_000);

    it('has an internally consistent view', () => {
      const v = b.port.view;
      const nodeIds = v.nodes.map((n) => n.id);
      expect(nodeIds.length).toBeGreaterThan(0);
      expect(new Set(nodeIds).size).toBe(nodeIds.length);
      for (const c of v.containers) {
        expect(nodeIds).toContain(c.nodeId);
        expect(v.container(c.id)).toBe(c);
        expect(c.requestRatePerS).toBeGreaterThanOrEqual(0);
        expect(c.migrating).toBe(v.migrationsInFlight.some((m) => m.containerId === c.id));
      }
      for (const n of v.nodes) {
        expect(v.node(n.id)).toBe(n);
        expect(n.memoryUsedMiB).toBeGreaterThanOrEqual(0);
        expect(n.memoryUsedMiB).toBeLessThanOrEqual(n.memoryMiB);
        expect(n.requestRatePerS).toBeGreaterThanOrEqual(0);
        expect(n.utilisation).toBeGreaterThanOrEqual(0);
        const hosted = v.containers.filter((c) => c.nodeId === n.id).reduce((a, c) => a + c.memoryMiB, 0);
        expect(n.memoryUsedMiB).toBeGreaterThanOrEqual(hosted);
      }
      for (const u of v.users) {
        expect(v.user(u.id)).toBe(u);
        expect(v.containers.map((c) => c.id)).toContain(u.containerId);
        const order = v.nodesByRtt(u.id);
        expect([...order].sort()).toEqual([...nodeIds].sort());
        for (let i = 1; i < order.length; i++) {
          expect(v.networkRttMs(u.id, order[i - 1])).toBeLessThanOrEqual(v.networkRttMs(u.id, order[i]));
        }
        for (const n of nodeIds) expect(v.networkRttMs(u.id, n)).toBeGreaterThanOrEqual(0);
      }
      for (const a of nodeIds) {
        for (const c of nodeIds) {
          const p = v.path(a, c);
          expect(p.bandwidthMbps).toBeGreaterThan(0);
          expect(p.latencyMs).toBeGreaterThanOrEqual(0);
        }
      }
    });

    it('throws ConmigError for unknown node and container ids', () => {
      const v = b.port.view;
      expect(() => v.node('no-such-node')).toThrow(ConmigError);
      expect(() => v.container('no-such-container')).toThrow(ConmigError);
      const u = v.users[0];
      if (u) expect(() => v.networkRttMs(u.id, 'no-such-node')).toThrow(ConmigError);
    });

    it('gives the same decisions from the same policy for equal views', () => {
      const v = b.port.view;
      const snap = snapshotView(v);
      for (const p of [createBuiltinPolicy({ name: 'nearest', params: {} }), createBuiltinPolicy({ name: 'threshold', params: { qosThresholdMs: 1 } })]) {
        const d1 = p.decide(v);
        expect(p.decide(v)).toEqual(d1);
        expect(p.decide(snap)).toEqual(d1);
      }
    });

    it('changes nothing for rejected decisions (unknown node, same node, unknown container, no memory)', () => {
      const v = b.port.view;
      const c = v.containers[0];
      const before = { placement: placement(v), memory: memory(v), inFlight: v.migrationsInFlight.length };
      const decisions: MigrationDecision[] = [
        { containerId: c.id, to: 'no-such-node', reason: 'contract' },
        { containerId: c.id, to: c.nodeId, reason: 'contract' },
        { containerId: 'no-such-container', to: v.nodes[0].id, reason: 'contract' },
      ];
      if (b.fullNodeId && b.fullNodeId !== c.nodeId) decisions.push({ containerId: c.id, to: b.fullNodeId, reason: 'contract' });
      const rec = recording(b.port);
      const r = controlStep(scripted(decisions), rec.port);
      expect(r.accepted).toEqual([]);
      expect(r.rejected.length).toBe(decisions.length);
      expect(rec.started).toEqual([]);
      const after = b.port.view;
      expect(placement(after)).toEqual(before.placement);
      expect(memory(after)).toEqual(before.memory);
      expect(after.migrationsInFlight.length).toBe(before.inFlight);
    });

    it(
      'carries out an accepted decision: migrating, then on the destination with lastMigrationEndMs updated',
      async () => {
        const v = b.port.view;
        const c = v.containers[0];
        const from = c.nodeId;
        const to = v.nodes.map((n) => n.id).find((id) => id !== from && id !== b.fullNodeId);
        expect(to).toBeDefined();
        const dest = to as string;
        const lastBefore = c.lastMigrationEndMs;
        const startedAtMs = v.nowMs;
        const rec = recording(b.port);
        const r = controlStep(scripted([{ containerId: c.id, to: dest, reason: 'contract' }]), rec.port);
        expect(r.rejected).toEqual([]);
        expect(r.accepted).toEqual([{ containerId: c.id, from, to: dest, mode: v.defaultMigrationMode, reason: 'contract' }]);
        expect(rec.started.length).toBe(1);
        expect(b.port.view.migrationsInFlight.map((m) => [m.containerId, m.from, m.to])).toContainEqual([c.id, from, dest]);
        // The simulator sets the flag when its migration process takes its first step (same
        // scenario instant, after the control event): refresh without letting time pass.
        await b.advance(0);
        expect(b.port.view.container(c.id).migrating).toBe(true);
        // A second decision for it is rejected while it migrates.
        const again = controlStep(scripted([{ containerId: c.id, to: from, reason: 'contract' }]), rec.port);
        expect(again.accepted).toEqual([]);
        expect(again.rejected[0]?.reason).toMatch(/already migrating/);
        expect(rec.started.length).toBe(1);
        let waitedMs = 0;
        while (b.port.view.container(c.id).migrating && waitedMs < b.migrationBudgetMs) {
          await b.advance(b.pollMs);
          waitedMs += b.pollMs;
        }
        const after = b.port.view;
        const ca = after.container(c.id);
        expect(ca.migrating).toBe(false);
        expect(ca.nodeId).toBe(dest);
        expect(after.migrationsInFlight.some((m) => m.containerId === c.id)).toBe(false);
        expect(ca.lastMigrationEndMs).toBeGreaterThan(lastBefore);
        expect(ca.lastMigrationEndMs).toBeGreaterThanOrEqual(startedAtMs);
        expect(ca.lastMigrationEndMs).toBeLessThanOrEqual(after.nowMs);
        expect(after.node(dest).memoryUsedMiB).toBeGreaterThanOrEqual(ca.memoryMiB);
      },
      timeout,
    );

    // After the migration above: requests its users sent during the downtime were held and
    // re-sent; the view must count them with the latency they met, their hold apart.
    if (opts.sendsRequests === true) it(
      "keeps a container's own migration wait out of its response signals",
      async () => {
        const req = b.requests;
        expect(req, 'a backend run with sendsRequests must expose its requests').toBeDefined();
        if (!req) return;
        let heldInWindow = 0;
        let checked = 0;
        // The window just after the migration, then as it slides past it, until at least three
        // windows with requests were checked (a live backend's users may send a request a second).
        const steps = Math.ceil(req.metricsWindowMs / b.pollMs) + 1;
        for (let i = 0; i <= steps || (checked < 3 && i < 20 * steps); i++) {
          const r = expectSignalRule(b.port.view, req);
          heldInWindow += r.heldInWindow;
          checked += r.checked;
          await b.advance(b.pollMs);
        }
        expect(checked).toBeGreaterThanOrEqual(3);
        const held = req.completed().filter((r) => r.migrationWaitMs > 0);
        if (req.holdsDuringMigration) {
          expect(held.length, 'requests held during the migration').toBeGreaterThan(0);
          expect(heldInWindow, 'windows checked that contain a held request').toBeGreaterThan(0);
        }
        // A held request's wait is its own: response = what it met once re-sent + the wait.
        for (const r of held) expect(r.responseMs).toBeGreaterThanOrEqual(r.migrationWaitMs + r.networkMs - 1e-6);
      },
      timeout,
    );
  });
}
