/**
 * Build a ClusterView from plain arrays, for policy and decision tests.
 *
 *   const view = fakeView({
 *     nodes: [{ id: 'n1' }, { id: 'n2', utilisation: 0.9 }],
 *     containers: [{ id: 'c1', nodeId: 'n1', requestRatePerS: 10, meanServiceMs: 20 }],
 *     users: [{ id: 'u1', containerId: 'c1' }],
 *     rttMs: { u1: { n1: 30, n2: 5 } },
 *   });
 *
 * Every field not given gets a neutral default (idle 4-core node with 8 GiB,
 * a 128 MiB container with no measurements yet). A node's memoryUsedMiB
 * defaults to the memory of the containers on it plus incoming migrations,
 * as the real views compute it. Unknown ids throw ConmigError, like the real views.
 */
import { ConmigError } from '../../src/model/errors.ts';
import { DEFAULT_MIGRATION_COST } from '../../src/model/migration-cost.ts';
import type { ApId, ContainerId, MigrationCostParams, MigrationMode, NodeId, UserId } from '../../src/model/types.ts';
import type { ClusterView, ContainerView, MigrationInFlightView, NodeView, UserView } from '../../src/model/view.ts';

export type FakeNode = { id: NodeId } & Partial<Omit<NodeView, 'id'>>;
export type FakeContainer = { id: ContainerId; nodeId: NodeId } & Partial<Omit<ContainerView, 'id' | 'nodeId'>>;
export interface FakeUser {
  id: UserId;
  containerId: ContainerId;
  apId?: ApId;
}

export interface FakeViewInput {
  nowMs?: number;
  qosThresholdMs?: number;
  controlIntervalMs?: number;
  nodes: FakeNode[];
  containers: FakeContainer[];
  /** Users; a container's `users` defaults to the users naming it here. */
  users?: FakeUser[];
  /** RTT per user and node; missing pairs get defaultRttMs. */
  rttMs?: Record<UserId, Record<NodeId, number>>;
  defaultRttMs?: number;
  /** Backhaul path between nodes; default 1000 Mbit/s, 1 ms (0 ms to itself). */
  path?: (from: NodeId, to: NodeId) => { bandwidthMbps: number; latencyMs: number };
  migrationsInFlight?: MigrationInFlightView[];
  defaultMigrationMode?: MigrationMode;
  migrationCost?: MigrationCostParams;
}

export function fakeView(input: FakeViewInput): ClusterView {
  const inFlight = input.migrationsInFlight ?? [];
  const migratingIds = new Set(inFlight.map((m) => m.containerId));
  const userList = input.users ?? [];

  const containers: ContainerView[] = input.containers.map((c) => ({
    memoryMiB: 128,
    imageMiB: 50,
    dirtyRateMiBps: 1,
    migrating: migratingIds.has(c.id),
    lastMigrationEndMs: -Infinity,
    requestRatePerS: 0,
    meanServiceMs: NaN,
    meanResponseMs: NaN,
    meanNetworkMs: NaN,
    meanMigrationWaitMs: NaN,
    lastResponseMs: NaN,
    lastNetworkMs: NaN,
    lastMigrationWaitMs: NaN,
    ...c,
    users: c.users ?? userList.filter((u) => u.containerId === c.id).map((u) => u.id),
  }));
  const containerById = new Map(containers.map((c) => [c.id, c]));

  const users: UserView[] = [...userList.map((u) => ({ apId: 'ap0', ...u }))];
  const known = new Set(users.map((u) => u.id));
  for (const c of containers) {
    for (const u of c.users) {
      if (!known.has(u)) {
        users.push({ id: u, apId: 'ap0', containerId: c.id });
        known.add(u);
      }
    }
  }
  const userById = new Map(users.map((u) => [u.id, u]));

  const usedMiB = (id: NodeId): number => {
    let sum = 0;
    for (const c of containers) if (c.nodeId === id) sum += c.memoryMiB;
    for (const m of inFlight) if (m.to === id) sum += containerById.get(m.containerId)?.memoryMiB ?? 0;
    return sum;
  };
  const nodes: NodeView[] = input.nodes.map((n) => ({
    cpuCores: 4,
    memoryMiB: 8192,
    memoryUsedMiB: usedMiB(n.id),
    utilisation: 0,
    meanQueueMs: 0,
    meanServiceMs: NaN,
    requestRatePerS: 0,
    speedFactor: 1,
    ...n,
  }));
  const nodeById = new Map(nodes.map((n) => [n.id, n]));

  const defaultRtt = input.defaultRttMs ?? 50;
  const rtt = (userId: UserId, nodeId: NodeId): number => input.rttMs?.[userId]?.[nodeId] ?? defaultRtt;
  const orders = new Map<UserId, readonly NodeId[]>();

  return {
    nowMs: input.nowMs ?? 0,
    qosThresholdMs: input.qosThresholdMs ?? 100,
    controlIntervalMs: input.controlIntervalMs ?? 1000,
    nodes,
    containers,
    users,
    migrationsInFlight: inFlight,
    defaultMigrationMode: input.defaultMigrationMode ?? 'precopy',
    migrationCost: input.migrationCost ?? DEFAULT_MIGRATION_COST,
    node(id) {
      const n = nodeById.get(id);
      if (!n) throw new ConmigError('NODE_UNKNOWN', `unknown node "${id}"`, { context: { node: id } });
      return n;
    },
    container(id) {
      const c = containerById.get(id);
      if (!c) throw new ConmigError('CONTAINER_UNKNOWN', `unknown container "${id}"`, { context: { container: id } });
      return c;
    },
    user(id) {
      const u = userById.get(id);
      if (!u) throw new ConmigError('SIM_INVARIANT', `unknown user "${id}"`, { context: { user: id } });
      return u;
    },
    networkRttMs(userId, nodeId) {
      this.user(userId);
      this.node(nodeId);
      return rtt(userId, nodeId);
    },
    nodesByRtt(userId) {
      let order = orders.get(userId);
      if (!order) {
        this.user(userId);
        order = nodes
          .map((n) => n.id)
          .sort((a, b) => rtt(userId, a) - rtt(userId, b) || (a < b ? -1 : a > b ? 1 : 0));
        orders.set(userId, order);
      }
      return order;
    },
    path(from, to) {
      if (input.path) return input.path(from, to);
      return { bandwidthMbps: 1000, latencyMs: from === to ? 0 : 1 };
    },
  };
}
