/**
 * Network latency model: backhaul shortest paths and the user -> node RTT.
 *
 * Notation: u user, a its access point, v(a) the backhaul vertex a is wired to,
 * n an edge node, d(u,a) the user-AP distance in km, P(x,y) the
 * minimum-latency backhaul path between vertices x and y.
 *
 *   Backhaul one-way latency   L(x,y) = sum over links l in P(x,y) of latency_l      [ms]
 *   Bottleneck bandwidth       B(x,y) = min over links l in P(x,y) of bandwidth_l    [Mbit/s]
 *                              (of that minimum-latency path; ties between equal-latency
 *                              paths are broken towards the larger bottleneck)
 *
 * Geometric model (kind 'geometric'):
 *   Access one-way latency     A(u,a) = accessBaseMs + accessMsPerKm * d(u,a)
 *   Payload transmission       T(a,n) = (requestKiB + responseKiB) * 8.192 / B(v(a),n)  [ms]
 *                              (1 KiB = 8192 bit, and kbit / (Mbit/s) = ms). When n is the
 *                              vertex the AP is wired to (access-only hop, B = infinity) no
 *                              transmission is counted: the access link is not modelled as
 *                              a bottleneck.
 *   Network RTT                RTT(u,n) = 2 * (A(u,a) + L(v(a),n)) + T(a,n)
 *
 * Linear model (kind 'linear', ShareOn decision.py):
 *   RTT(u,n) = | C_n - xM(u) * msPerM |
 *   where C_n = edgeConstantsMs[n]. ShareOn treats this as the whole network latency:
 *   there is no separate access, backhaul or payload term, and the AP is ignored.
 *
 * Cost: the graph is built once (Dijkstra from every vertex, O(V^2) each with a
 * dense scan, V <= ~200), then every RTT is two array reads and a multiply-add.
 */
import { BackhaulGraph } from './backhaul.ts';
import { ConmigError } from './errors.ts';
import type { AccessPointSpec, LatencyModelParams, NodeId, Point, Topology } from './types.ts';

export { BackhaulGraph } from './backhaul.ts';

/** kbit per KiB: 1 KiB = 8192 bit. With Mbit/s this gives ms directly. */
const KBIT_PER_KIB = 8.192;

export function distanceKm(a: Point, b: Point): number {
  return Math.hypot(a.xM - b.xM, a.yM - b.yM) / 1000;
}

/** Transmission time of a payload over a path: KiB * 8.192 / Mbit/s = ms (0 on an infinite bottleneck). */
export function payloadTransmissionMs(payloadKiB: number, bottleneckMbps: number): number {
  return bottleneckMbps === Infinity ? 0 : (payloadKiB * KBIT_PER_KIB) / bottleneckMbps;
}

/** User -> node network RTT for either latency model, with per-AP precomputation. */
export class LatencyModel {
  readonly params: LatencyModelParams;
  readonly graph: BackhaulGraph;
  readonly nodeIds: readonly NodeId[];
  readonly accessPoints: readonly AccessPointSpec[];
  private readonly nodeIndexById = new Map<NodeId, number>();
  private readonly apIndexById = new Map<string, number>();
  /** AP x node: 2 * backhaul one-way latency (ms). */
  private readonly backhaulRtt: Float64Array;
  /** AP x node: transmission ms per KiB of payload (0 on access-only hops). */
  private readonly msPerKiB: Float64Array;
  /** linear kind: C_n per node index. */
  private readonly edgeConstants: Float64Array;
  /** Node orders per AP, cached per payload size (users usually share one). */
  private readonly orderCache = new Map<number, (readonly number[] | undefined)[]>();
  // Flattened parameters for the hot path.
  private readonly linear: boolean;
  private readonly msPerM: number;
  private readonly accessBaseMs: number;
  private readonly accessMsPerKm: number;
  private readonly nodeCount: number;
  private readonly apX: Float64Array;
  private readonly apY: Float64Array;
  private readonly idOrderCache = new Map<number, (readonly NodeId[] | undefined)[]>();

  constructor(params: LatencyModelParams, topology: Topology, graph?: BackhaulGraph) {
    this.params = params;
    this.graph = graph ?? new BackhaulGraph(topology);
    this.nodeIds = topology.nodes.map((nd) => nd.id);
    this.accessPoints = topology.accessPoints;
    this.nodeIds.forEach((id, i) => this.nodeIndexById.set(id, i));
    topology.accessPoints.forEach((ap, i) => this.apIndexById.set(ap.id, i));

    const nN = this.nodeIds.length;
    const nA = topology.accessPoints.length;
    this.linear = params.kind === 'linear';
    this.msPerM = params.kind === 'linear' ? params.msPerM : 0;
    this.accessBaseMs = params.kind === 'geometric' ? params.accessBaseMs : 0;
    this.accessMsPerKm = params.kind === 'geometric' ? params.accessMsPerKm : 0;
    this.nodeCount = nN;
    this.apX = Float64Array.from(topology.accessPoints, (ap) => ap.position.xM);
    this.apY = Float64Array.from(topology.accessPoints, (ap) => ap.position.yM);
    this.backhaulRtt = new Float64Array(nA * nN);
    this.msPerKiB = new Float64Array(nA * nN);
    topology.accessPoints.forEach((ap, a) => {
      if (!this.graph.has(ap.attachedTo)) {
        throw new ConmigError('SCENARIO_INVALID', `access point "${ap.id}" is attached to unknown vertex "${ap.attachedTo}"`, {
          context: { accessPoint: ap.id, vertex: ap.attachedTo },
          problems: [{ path: `topology.accessPoints[${a}].attachedTo`, message: `unknown vertex "${ap.attachedTo}"` }],
        });
      }
      const va = this.graph.vertexIndex(ap.attachedTo);
      for (let k = 0; k < nN; k++) {
        const vn = this.graph.vertexIndex(this.nodeIds[k]);
        this.backhaulRtt[a * nN + k] = 2 * this.graph.latencyMsAt(va, vn);
        this.msPerKiB[a * nN + k] = payloadTransmissionMs(1, this.graph.bottleneckMbpsAt(va, vn));
      }
    });

    this.edgeConstants = new Float64Array(nN);
    if (params.kind === 'linear') {
      this.nodeIds.forEach((id, k) => {
        const c = params.edgeConstantsMs[id];
        if (typeof c !== 'number' || !Number.isFinite(c)) {
          throw new ConmigError('SCENARIO_INVALID', `linear latency model has no edge constant for node "${id}"`, {
            context: { node: id },
            problems: [{ path: `latency.edgeConstantsMs.${id}`, message: 'missing or not a finite number' }],
          });
        }
        this.edgeConstants[k] = c;
      });
    }
  }

  nodeIndex(id: NodeId): number {
    const i = this.nodeIndexById.get(id);
    if (i === undefined) throw new ConmigError('NODE_UNKNOWN', `unknown node "${id}"`, { context: { node: id } });
    return i;
  }

  apIndex(id: string): number {
    const i = this.apIndexById.get(id);
    if (i === undefined) {
      throw new ConmigError('SCENARIO_INVALID', `unknown access point "${id}"`, { context: { accessPoint: id } });
    }
    return i;
  }

  /** One-way access latency user -> AP (geometric); 0 for the linear model, which has no access term. */
  accessMs(userPos: Point, ap: AccessPointSpec): number {
    if (this.params.kind !== 'geometric') return 0;
    return this.params.accessBaseMs + this.params.accessMsPerKm * distanceKm(userPos, ap.position);
  }

  /** Network RTT (ms) of one request/response between a user at userPos attached to ap and a node. */
  networkRttMs(userPos: Point, ap: AccessPointSpec, nodeId: NodeId, requestKiB: number, responseKiB: number): number {
    return this.networkRttMsAt(userPos, this.apIndex(ap.id), this.nodeIndex(nodeId), requestKiB + responseKiB);
  }

  /** Hot-path variant with indices and the summed payload. */
  networkRttMsAt(userPos: Point, apIndex: number, nodeIndex: number, payloadKiB: number): number {
    return this.networkRttMsXY(userPos.xM, userPos.yM, apIndex, nodeIndex, payloadKiB);
  }

  /** The same with the position as two numbers: the simulator's per-request path allocates nothing. */
  networkRttMsXY(xM: number, yM: number, apIndex: number, nodeIndex: number, payloadKiB: number): number {
    if (this.linear) return Math.abs(this.edgeConstants[nodeIndex] - xM * this.msPerM);
    const dx = xM - this.apX[apIndex];
    const dy = yM - this.apY[apIndex];
    const access = this.accessBaseMs + (this.accessMsPerKm * Math.sqrt(dx * dx + dy * dy)) / 1000;
    const i = apIndex * this.nodeCount + nodeIndex;
    return 2 * access + this.backhaulRtt[i] + payloadKiB * this.msPerKiB[i];
  }

  /** Geometric part that does not depend on the user's position: 2 * backhaul + transmission. */
  backhaulRttMsAt(apIndex: number, nodeIndex: number, payloadKiB: number): number {
    const i = apIndex * this.nodeIds.length + nodeIndex;
    return this.backhaulRtt[i] + payloadKiB * this.msPerKiB[i];
  }

  /**
   * Node indices ordered by RTT from an AP, nearest first, ties by node id.
   * Geometric: exact for every user of this AP (access latency is the same for
   * all nodes). Linear: ordered from the AP's own position (use nodeOrderAt for a user).
   * Cached per (AP, payload); callers must not mutate the result.
   */
  nodesByRtt(apIndex: number, payloadKiB = 0): readonly number[] {
    let perAp = this.orderCache.get(payloadKiB);
    if (!perAp) {
      perAp = new Array<readonly number[] | undefined>(this.accessPoints.length);
      this.orderCache.set(payloadKiB, perAp);
    }
    const cached = perAp[apIndex];
    if (cached) return cached;
    const order = this.sortNodes((k) =>
      this.params.kind === 'linear'
        ? this.networkRttMsAt(this.accessPoints[apIndex].position, apIndex, k, payloadKiB)
        : this.backhaulRttMsAt(apIndex, k, payloadKiB),
    );
    perAp[apIndex] = order;
    return order;
  }

  /** nodesByRtt as node ids (cached too): what ClusterView.nodesByRtt returns for geometric scenarios. */
  nodeIdsByRtt(apIndex: number, payloadKiB = 0): readonly NodeId[] {
    let perAp = this.idOrderCache.get(payloadKiB);
    if (!perAp) {
      perAp = new Array<readonly NodeId[] | undefined>(this.accessPoints.length);
      this.idOrderCache.set(payloadKiB, perAp);
    }
    let ids = perAp[apIndex];
    if (!ids) {
      ids = this.nodesByRtt(apIndex, payloadKiB).map((k) => this.nodeIds[k]);
      perAp[apIndex] = ids;
    }
    return ids;
  }

  /** Node order for a user at a position: the cached AP order (geometric) or a fresh sort (linear). */
  nodeOrderAt(userPos: Point, apIndex: number, payloadKiB = 0): readonly number[] {
    if (this.params.kind === 'geometric') return this.nodesByRtt(apIndex, payloadKiB);
    return this.sortNodes((k) => this.networkRttMsAt(userPos, apIndex, k, payloadKiB));
  }

  private sortNodes(rtt: (k: number) => number): number[] {
    const keys = this.nodeIds.map((_, k) => rtt(k));
    return this.nodeIds
      .map((_, k) => k)
      .sort((x, y) => keys[x] - keys[y] || (this.nodeIds[x] < this.nodeIds[y] ? -1 : this.nodeIds[x] > this.nodeIds[y] ? 1 : 0));
  }
}
