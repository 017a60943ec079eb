/**
 * The backhaul as a graph: all-pairs minimum-latency paths between edge nodes
 * and switches, their one-way latency L(x,y) and bottleneck bandwidth B(x,y)
 * (the formulas are in latency.ts, which builds the RTT on them).
 */
import { ConmigError } from './errors.ts';
import type { NodeId, Topology } from './types.ts';

/** All-pairs minimum-latency paths over the backhaul (edge nodes and switches). */
export class BackhaulGraph {
  /** Vertex ids: edge nodes first (in topology order), then switches. */
  readonly vertices: readonly string[];
  private readonly index = new Map<string, number>();
  private readonly n: number;
  private readonly lat: Float64Array; // V x V one-way latency
  private readonly bw: Float64Array; // V x V bottleneck bandwidth
  private readonly predLink: Int32Array; // V x V: last link on the path src -> dst (-1 at src)
  private readonly linkEnds: Int32Array; // 2 per link

  constructor(topology: Topology) {
    const vertices = [...topology.nodes.map((nd) => nd.id), ...topology.switches];
    this.vertices = vertices;
    vertices.forEach((v, i) => {
      if (this.index.has(v)) {
        throw new ConmigError('SCENARIO_INVALID', `backhaul vertex "${v}" is defined twice`, {
          context: { vertex: v },
        });
      }
      this.index.set(v, i);
    });
    const n = vertices.length;
    this.n = n;

    // Adjacency as link indices per vertex.
    const adj: number[][] = vertices.map(() => []);
    this.linkEnds = new Int32Array(topology.links.length * 2);
    topology.links.forEach((l, li) => {
      const a = this.index.get(l.a);
      const b = this.index.get(l.b);
      if (a === undefined || b === undefined) {
        const bad = a === undefined ? l.a : l.b;
        throw new ConmigError('SCENARIO_INVALID', `link ${li} names unknown backhaul vertex "${bad}"`, {
          context: { link: li, vertex: bad },
          problems: [{ path: `topology.links[${li}]`, message: `unknown vertex "${bad}"` }],
        });
      }
      this.linkEnds[2 * li] = a;
      this.linkEnds[2 * li + 1] = b;
      adj[a].push(li);
      adj[b].push(li);
    });

    this.lat = new Float64Array(n * n).fill(Infinity);
    this.bw = new Float64Array(n * n);
    this.predLink = new Int32Array(n * n).fill(-1);
    const done = new Uint8Array(n);
    for (let s = 0; s < n; s++) {
      done.fill(0);
      const row = s * n;
      this.lat[row + s] = 0;
      this.bw[row + s] = Infinity;
      for (let iter = 0; iter < n; iter++) {
        // Dense Dijkstra: pick the closest unfinished vertex (ties: larger bottleneck, lower index).
        let u = -1;
        for (let v = 0; v < n; v++) {
          if (done[v]) continue;
          if (
            u < 0 ||
            this.lat[row + v] < this.lat[row + u] ||
            (this.lat[row + v] === this.lat[row + u] && this.bw[row + v] > this.bw[row + u])
          ) {
            u = v;
          }
        }
        if (u < 0 || this.lat[row + u] === Infinity) break;
        done[u] = 1;
        for (const li of adj[u]) {
          const link = topology.links[li];
          const v = this.linkEnds[2 * li] === u ? this.linkEnds[2 * li + 1] : this.linkEnds[2 * li];
          if (done[v]) continue;
          const l = this.lat[row + u] + link.latencyMs;
          const b = Math.min(this.bw[row + u], link.bandwidthMbps);
          if (l < this.lat[row + v] || (l === this.lat[row + v] && b > this.bw[row + v])) {
            this.lat[row + v] = l;
            this.bw[row + v] = b;
            this.predLink[row + v] = li;
          }
        }
      }
      for (let v = 0; v < n; v++) {
        if (this.lat[row + v] === Infinity) {
          throw new ConmigError(
            'SCENARIO_INVALID',
            `backhaul is disconnected: no path from "${vertices[s]}" to "${vertices[v]}"`,
            { context: { from: vertices[s], vertex: vertices[v] } },
          );
        }
      }
    }
  }

  has(vertex: string): boolean {
    return this.index.has(vertex);
  }

  vertexIndex(vertex: string): number {
    const i = this.index.get(vertex);
    if (i === undefined) {
      throw new ConmigError('NODE_UNKNOWN', `unknown backhaul vertex "${vertex}"`, {
        context: { vertex },
      });
    }
    return i;
  }

  /** One-way latency of the minimum-latency path (0 for a == b). */
  latencyMs(a: string, b: string): number {
    return this.lat[this.vertexIndex(a) * this.n + this.vertexIndex(b)];
  }

  /** Bottleneck bandwidth of that path (Infinity for a == b). */
  bottleneckMbps(a: string, b: string): number {
    return this.bw[this.vertexIndex(a) * this.n + this.vertexIndex(b)];
  }

  /** Index-based variants for hot loops. */
  latencyMsAt(ai: number, bi: number): number {
    return this.lat[ai * this.n + bi];
  }

  bottleneckMbpsAt(ai: number, bi: number): number {
    return this.bw[ai * this.n + bi];
  }

  /** Indices into topology.links of the path a -> b, in order from a ([] for a == b). */
  pathLinks(a: string, b: string): number[] {
    const s = this.vertexIndex(a);
    let v = this.vertexIndex(b);
    const out: number[] = [];
    while (v !== s) {
      const li = this.predLink[s * this.n + v];
      out.push(li);
      v = this.linkEnds[2 * li] === v ? this.linkEnds[2 * li + 1] : this.linkEnds[2 * li];
    }
    return out.reverse();
  }
}
