/**
 * Internal helpers shared by the built-in policies: candidate nodes, a
 * container's mean RTT over its users, and the StepLedger that remembers what
 * decisions earlier in the same step (and migrations still in flight) have
 * already reserved, so a policy does not herd containers onto one node.
 */
import type { ClusterView, ContainerView, NodeView } from '../view.ts';
import type { NodeId, UserId } from '../types.ts';

/** Mean network RTT from a container's users to a node (equal weight per user). */
export function meanRttMs(view: ClusterView, users: readonly UserId[], nodeId: NodeId): number {
  if (users.length === 1) return view.networkRttMs(users[0], nodeId);
  let sum = 0;
  for (const u of users) sum += view.networkRttMs(u, nodeId);
  return sum / users.length;
}

/**
 * Fill `out` with the k nearest nodes of each user (nearest first, no
 * duplicates); reusing `out` keeps decide() from allocating per container.
 */
export function collectCandidates(view: ClusterView, users: readonly UserId[], k: number, out: NodeId[]): NodeId[] {
  out.length = 0;
  for (const u of users) {
    const order = view.nodesByRtt(u);
    const n = Math.min(k, order.length);
    for (let i = 0; i < n; i++) if (!out.includes(order[i])) out.push(order[i]);
  }
  return out;
}

/**
 * What a policy derives from a container's users' node orders (nodesByRtt):
 * the k nearest candidates and the nearest node. Kept per view between steps
 * and recomputed only for the containers in the view's `changes.handovers`
 * (everything when the view offers no ViewChanges, or a step was missed), so
 * the answers are always what collectCandidates and nodesByRtt give now.
 */
export class OrderMemo {
  private step = -1;
  private readonly nearestValid: Uint8Array;
  private readonly nearestIds: NodeId[];
  private readonly cands = new Map<number, { valid: Uint8Array; lists: NodeId[][] }>();
  private readonly scratch: NodeId[] = [];

  constructor(private readonly view: ClusterView) {
    const C = view.containers.length;
    this.nearestValid = new Uint8Array(C);
    this.nearestIds = new Array<NodeId>(C);
  }

  /** The memo for this view's current step (undefined: the view offers no ViewChanges; evaluate everything). */
  static forStep(view: ClusterView): OrderMemo | undefined {
    const ch = view.changes;
    if (ch === undefined) return undefined;
    let m = memos.get(view);
    if (m === undefined) {
      m = new OrderMemo(view);
      memos.set(view, m);
    }
    if (m.step !== ch.step) {
      if (m.step === ch.sinceStep) {
        for (const i of ch.handovers) m.drop(i);
      } else {
        m.nearestValid.fill(0);
        for (const x of m.cands.values()) x.valid.fill(0);
      }
      m.step = ch.step;
    }
    return m;
  }

  private drop(i: number): void {
    this.nearestValid[i] = 0;
    for (const x of this.cands.values()) x.valid[i] = 0;
  }

  /** view.nodesByRtt(c.users[0])[0] for container i (= c, with users). */
  nearest(i: number, c: ContainerView): NodeId {
    if (this.nearestValid[i] === 0) {
      this.nearestIds[i] = this.view.nodesByRtt(c.users[0])[0];
      this.nearestValid[i] = 1;
    }
    return this.nearestIds[i];
  }

  /** collectCandidates(view, c.users, k, ·) for container i; the caller must not change the list. */
  candidates(i: number, c: ContainerView, k: number): readonly NodeId[] {
    let x = this.cands.get(k);
    if (x === undefined) {
      x = { valid: new Uint8Array(this.nearestValid.length), lists: new Array<NodeId[]>(this.nearestValid.length) };
      this.cands.set(k, x);
    }
    if (x.valid[i] === 0) {
      x.lists[i] = collectCandidates(this.view, c.users, k, this.scratch).slice();
      x.valid[i] = 1;
    }
    return x.lists[i];
  }
}
const memos = new WeakMap<ClusterView, OrderMemo>();

/** collectCandidates through the memo when there is one. */
export function candidatesOf(view: ClusterView, memo: OrderMemo | undefined, i: number, c: ContainerView, k: number, out: NodeId[]): readonly NodeId[] {
  return memo ? memo.candidates(i, c, k) : collectCandidates(view, c.users, k, out);
}

/** Busy cores (Erlangs) a container adds to a node: λ · S / speedFactor. */
export function containerErlangs(ratePerS: number, serviceMs: number, node: NodeView): number {
  return (ratePerS / 1000) * (serviceMs / node.speedFactor);
}

/** Service time to assume for a container: its own mean, else its node's, else NaN. */
export function serviceMsOf(c: ContainerView, node: NodeView): number {
  const ms = c.meanServiceMs; // read once: a getter, on the policies' per-container path
  return Number.isFinite(ms) ? ms : node.meanServiceMs;
}

/** Each node's position in view.nodes, by id (built once per view). */
export function nodeIndexMap(view: ClusterView): ReadonlyMap<NodeId, number> {
  let m = nodeIndexMaps.get(view);
  if (m === undefined) {
    m = new Map(view.nodes.map((n, k) => [n.id, k]));
    nodeIndexMaps.set(view, m);
  }
  return m;
}
const nodeIndexMaps = new WeakMap<ClusterView, ReadonlyMap<NodeId, number>>();

/**
 * The position in view.nodes of each container's node, remembered per
 * container with the id it was found for: while a container stays on its
 * node the lookup is a comparison of ids, not a map lookup by id. Used only
 * while view.node(id) is view.nodes[k] for every node (checked at every
 * step, O(nodes)); otherwise indexOf says -1 and the caller asks view.node.
 */
export class NodeOfMemo {
  private readonly ids: Array<NodeId | undefined>;
  private readonly ks: Int32Array;
  private usable = false;

  private constructor(private readonly view: ClusterView) {
    this.ids = new Array<NodeId | undefined>(view.containers.length).fill(undefined);
    this.ks = new Int32Array(view.containers.length);
  }

  /** The memo of this view, checked for this step. */
  static forStep(view: ClusterView): NodeOfMemo {
    let m = nodeOfMemos.get(view);
    if (m === undefined) {
      m = new NodeOfMemo(view);
      nodeOfMemos.set(view, m);
    }
    const nodes = view.nodes;
    const index = nodeIndexMap(view);
    m.usable = nodes.every((n, k) => index.get(n.id) === k && view.node(n.id) === n);
    return m;
  }

  /** k with view.nodes[k] = view.node(nodeId), the node of container i; -1: ask view.node. */
  indexOf(i: number, nodeId: NodeId): number {
    // The hit (the container did not move) is the hot path: short, so it is inlined.
    if (this.usable && this.ids[i] === nodeId) return this.ks[i];
    return this.find(i, nodeId);
  }

  private find(i: number, nodeId: NodeId): number {
    if (!this.usable) return -1;
    const k = nodeIndexMap(this.view).get(nodeId);
    if (k === undefined) return -1;
    this.ids[i] = nodeId;
    this.ks[i] = k;
    return k;
  }
}
const nodeOfMemos = new WeakMap<ClusterView, NodeOfMemo>();

export class StepLedger {
  private readonly reservedMiB = new Map<NodeId, number>();
  private readonly erlangDelta = new Map<NodeId, number>();
  /** erlangDelta by node position in view.nodes (the same values; 0 where the map has none). */
  private readonly deltaAt: Float64Array;
  private readonly nodeIndex: ReadonlyMap<NodeId, number>;
  private readonly view: ClusterView;

  constructor(view: ClusterView) {
    this.view = view;
    this.nodeIndex = nodeIndexMap(view);
    this.deltaAt = new Float64Array(view.nodes.length);
    // A migration in flight still loads its source and not yet its destination:
    // count its load as already moved. (Its memory is in memoryUsedMiB already.)
    for (const m of view.migrationsInFlight) {
      const c = view.container(m.containerId);
      const from = view.node(m.from);
      const to = view.node(m.to);
      const s = serviceMsOf(c, from);
      if (!Number.isFinite(s) || !(c.requestRatePerS > 0)) continue;
      this.addErlangs(from.id, -containerErlangs(c.requestRatePerS, s, from));
      this.addErlangs(to.id, containerErlangs(c.requestRatePerS, s, to));
    }
  }

  freeMiB(node: NodeView): number {
    return node.memoryMiB - node.memoryUsedMiB - (this.reservedMiB.get(node.id) ?? 0);
  }

  /** Load added (+) or removed (−) at a node by this step's decisions and in-flight migrations. */
  erlangsDelta(nodeId: NodeId): number {
    return this.erlangDelta.get(nodeId) ?? 0;
  }

  /** erlangsDelta of the node at position k of view.nodes, without a lookup by id. */
  erlangsDeltaAt(k: number): number {
    return this.deltaAt[k];
  }

  /** Record a decision: reserve memory at `to`, move the load. */
  recordMove(c: ContainerView, from: NodeView, to: NodeView, serviceMs: number): void {
    this.reservedMiB.set(to.id, (this.reservedMiB.get(to.id) ?? 0) + c.memoryMiB);
    if (Number.isFinite(serviceMs) && c.requestRatePerS > 0) {
      this.addErlangs(from.id, -containerErlangs(c.requestRatePerS, serviceMs, from));
      this.addErlangs(to.id, containerErlangs(c.requestRatePerS, serviceMs, to));
    }
  }

  /** Nearest node (by mean RTT) among candidates that has room for the container, or undefined. */
  nearestWithRoom(c: ContainerView, candidates: readonly NodeId[]): { node: NodeView; rttMs: number } | undefined {
    let best: NodeView | undefined;
    let bestRtt = Infinity;
    for (const id of candidates) {
      const n = this.view.node(id);
      if (id !== c.nodeId && this.freeMiB(n) < c.memoryMiB) continue;
      const rtt = meanRttMs(this.view, c.users, id);
      if (rtt < bestRtt) {
        best = n;
        bestRtt = rtt;
      }
    }
    return best ? { node: best, rttMs: bestRtt } : undefined;
  }

  private addErlangs(id: NodeId, x: number): void {
    const v = (this.erlangDelta.get(id) ?? 0) + x;
    this.erlangDelta.set(id, v);
    const k = this.nodeIndex.get(id);
    if (k !== undefined) this.deltaAt[k] = v;
  }
}

export function fmtMs(x: number): string {
  return Number.isFinite(x) ? x.toFixed(1) : String(x);
}
