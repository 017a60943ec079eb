/** Resolving the topology: nodes, switches, access points, links, and that the backhaul is connected. */
import type { AccessPointSpec, EdgeNodeSpec, LinkSpec, Point, Scenario } from '../types.ts';
import { NODE_DEFAULTS } from './defaults.ts';
import { unknownId, type PathSegment } from './problems.ts';

import { ResolveContext, sample } from './resolve-context.ts';

export function resolveTopology(ctx: ResolveContext): Scenario['topology'] {
  const t = ctx.raw.topology;
  const base: PathSegment[] = ['topology'];
  const nodes: EdgeNodeSpec[] = [];
  const nodePaths: PathSegment[][] = [];
  const links: LinkSpec[] = [];
  const linkPaths: PathSegment[][] = [];
  let gridArea: { width: number; height: number } | undefined;

  if (t.grid && t.nodes) ctx.problem([...base, 'grid'], 'expected either nodes or grid, got both');
  if (t.grid && t.links) ctx.problem([...base, 'links'], 'expected no explicit links with grid (the grid generates them), got a list');
  if (!t.grid && !t.nodes) ctx.problem(base, 'expected nodes or grid, got neither');
  if (t.grid) {
    const g = t.grid;
    const gp = [...base, 'grid'];
    const nid = (r: number, c: number) => `n-${r}-${c}`;
    for (let r = 0; r < g.rows; r++) {
      for (let c = 0; c < g.cols; c++) {
        nodes.push({
          id: nid(r, c),
          position: { xM: (c + 0.5) * g.spacingM, yM: (r + 0.5) * g.spacingM },
          cpuCores: g.node.cpuCores,
          memoryMiB: g.node.memoryMiB,
          backgroundLoad: g.node.backgroundLoad ?? NODE_DEFAULTS.backgroundLoad,
          speedFactor: g.node.speedFactor ?? NODE_DEFAULTS.speedFactor,
          ...(g.node.cpuPeriodMs !== undefined ? { cpuPeriodMs: g.node.cpuPeriodMs } : {}),
        });
        nodePaths.push(gp);
        const link = { latencyMs: g.link.latencyMs, bandwidthMbps: g.link.bandwidthMbps };
        if (c + 1 < g.cols) links.push({ a: nid(r, c), b: nid(r, c + 1), ...link }), linkPaths.push(gp);
        if (r + 1 < g.rows) links.push({ a: nid(r, c), b: nid(r + 1, c), ...link }), linkPaths.push(gp);
      }
    }
    gridArea = { width: g.cols * g.spacingM, height: g.rows * g.spacingM };
  } else if (t.nodes) {
    t.nodes.forEach((n, i) => {
      nodes.push({
        id: n.id,
        position: { xM: n.x, yM: n.y },
        cpuCores: n.cpuCores,
        memoryMiB: n.memoryMiB,
        backgroundLoad: n.backgroundLoad ?? NODE_DEFAULTS.backgroundLoad,
        speedFactor: n.speedFactor ?? NODE_DEFAULTS.speedFactor,
        ...(n.cpuPeriodMs !== undefined ? { cpuPeriodMs: n.cpuPeriodMs } : {}),
      });
      nodePaths.push([...base, 'nodes', i]);
    });
    (t.links ?? []).forEach((l, i) => {
      links.push({ ...l });
      linkPaths.push([...base, 'links', i]);
    });
  }
  // A bandwidth limit runs each core at the reference speed while its quota lasts: it cannot make one faster.
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i];
    if (n.cpuPeriodMs === undefined || n.speedFactor <= 1) continue;
    const where = t.grid ? [...base, 'grid', 'node'] : nodePaths[i];
    ctx.problem([...where, 'speedFactor'], `expected speedFactor <= 1 with cpuPeriodMs (a CPU limit of cpuCores x speedFactor cores), got ${n.speedFactor}`);
    if (t.grid) break; // one template: one problem
  }
  if (t.nodes && t.nodes.length === 0) ctx.problem([...base, 'nodes'], 'expected at least one node, got an empty list');

  const switches = [...(t.switches ?? [])];
  const accessPoints: AccessPointSpec[] = [];
  const apPaths: PathSegment[][] = [];
  if (t.accessPoints) {
    t.accessPoints.forEach((ap, i) => {
      accessPoints.push({ id: ap.id, position: { xM: ap.x, yM: ap.y }, attachedTo: ap.attachedTo });
      apPaths.push([...base, 'accessPoints', i]);
    });
  } else {
    nodes.forEach((n, i) => {
      accessPoints.push({ id: `ap-${n.id}`, position: { ...n.position }, attachedTo: n.id });
      apPaths.push(nodePaths[i]);
    });
  }

  // Unique ids: nodes and switches share the backhaul namespace; APs have their own.
  if (!t.grid) {
    ctx.checkUnique(
      [
        ...nodes.map((n, i) => ({ id: n.id, path: [...nodePaths[i], 'id'] })),
        ...switches.map((s, i) => ({ id: s, path: [...base, 'switches', i] })),
      ],
      'node/switch',
    );
  }
  if (t.accessPoints) ctx.checkUnique(accessPoints.map((a, i) => ({ id: a.id, path: [...apPaths[i], 'id'] })), 'access point');

  // References.
  const vertices = new Set<string>([...nodes.map((n) => n.id), ...switches]);
  const vertexList = [...vertices];
  const unknownVertex = (path: PathSegment[], v: string) => {
    ctx.problem(path, unknownId('a node or switch id', v, vertexList));
  };
  links.forEach((l, i) => {
    if (t.grid) return;
    if (!vertices.has(l.a)) unknownVertex([...linkPaths[i], 'a'], l.a);
    if (!vertices.has(l.b)) unknownVertex([...linkPaths[i], 'b'], l.b);
    if (l.a === l.b) ctx.problem([...linkPaths[i], 'b'], `expected a link between two different vertices, got ${l.a} to itself`);
  });
  if (t.accessPoints) accessPoints.forEach((ap, i) => vertices.has(ap.attachedTo) || unknownVertex([...apPaths[i], 'attachedTo'], ap.attachedTo));

  // Area.
  let areaM = t.areaM ? { ...t.areaM } : gridArea;
  if (!areaM) {
    const xs = [...nodes.map((n) => n.position.xM), ...accessPoints.map((a) => a.position.xM)];
    const ys = [...nodes.map((n) => n.position.yM), ...accessPoints.map((a) => a.position.yM)];
    areaM = { width: Math.max(1, ...xs), height: Math.max(1, ...ys) };
  } else {
    const area = areaM;
    const outside = (p: Point) => p.xM > area.width || p.yM > area.height;
    nodes.forEach((n, i) => {
      if (outside(n.position)) ctx.problem(nodePaths[i], `expected node ${n.id} inside the area ${area.width} x ${area.height} m, got (${n.position.xM}, ${n.position.yM})`);
    });
    if (t.accessPoints)
      accessPoints.forEach((a, i) => {
        if (outside(a.position)) ctx.problem(apPaths[i], `expected access point ${a.id} inside the area ${area.width} x ${area.height} m, got (${a.position.xM}, ${a.position.yM})`);
      });
  }

  // Connectivity: every node, switch and AP attachment must reach the first node.
  if (nodes.length > 0 && ctx.problems.length === 0) {
    const adjacency = new Map<string, string[]>();
    for (const v of vertices) adjacency.set(v, []);
    for (const l of links) {
      adjacency.get(l.a)?.push(l.b);
      adjacency.get(l.b)?.push(l.a);
    }
    const reached = new Set<string>([nodes[0].id]);
    const queue = [nodes[0].id];
    while (queue.length > 0) {
      const v = queue.shift() as string;
      for (const w of adjacency.get(v) ?? []) if (!reached.has(w)) reached.add(w), queue.push(w);
    }
    const unreached = vertexList.filter((v) => !reached.has(v));
    if (unreached.length > 0)
      ctx.problem(
        t.links ? [...base, 'links'] : base,
        `expected links connecting every node and switch, but ${sample(unreached)} cannot be reached from ${nodes[0].id}`,
      );
  }
  return { areaM, nodes, switches, accessPoints, links };
}
