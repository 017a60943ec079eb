/**
 * Resolution of a structurally valid scenario file into the `Scenario` the
 * simulator and the live backend run: generators and groups expanded into
 * explicit lists, defaults applied, random start positions and placements
 * drawn from named seeded streams, and every cross-field rule checked.
 *
 * Pure: file paths are resolved through an injected function, and files the
 * scenario refers to are returned as `fileRefs` for the io layer to check.
 */
import { ALPR_SERVICE_TIME } from '../alpr-samples.ts';
import { createRng, type Rng } from '../random.ts';
import type {
  AccessPointSpec,
  ContainerSpec,
  EdgeNodeSpec,
  LatencyModelParams,
  LinkSpec,
  LiveScenarioOptions,
  MigrationCostParams,
  MobilitySpec,
  Point,
  PolicyRef,
  Scenario,
  ServiceTimeSpec,
  UserSpec,
} from '../types.ts';
import {
  BUILTIN_POLICY_NAMES,
  CONTAINER_DEFAULTS,
  DEFAULT_LATENCY,
  DEFAULT_MIGRATION_COST,
  DEFAULT_REQUESTS,
  LIVE_DEFAULTS,
  MOBILITY_DEFAULTS,
  NODE_DEFAULTS,
  SCENARIO_DEFAULTS,
  USER_DEFAULTS,
} from './defaults.ts';
import { formatPath, unknownId, type PathSegment, type ScenarioProblem } from './problems.ts';
import type {
  ScenarioFile,
  ScenarioFileContainer,
  ScenarioFileMobility,
  ScenarioFilePerUser,
  ScenarioFilePolicy,
  ScenarioFileServiceTime,
} from './schema.ts';

export interface ScenarioOverrides {
  seed?: number;
  /** A policy name: one of the scenario's policies (keeps its params) or a built-in. */
  policy?: string;
}

export interface ResolveOptions {
  /** Absolute path of the scenario file, recorded in `Scenario.file`. */
  file?: string;
  /** Resolves a path written in the file (relative to the file). Default: unchanged. */
  resolvePath?: (relative: string) => string;
  overrides?: ScenarioOverrides;
}

/** A file the scenario refers to; the io layer checks that it exists. */
export interface FileRef {
  path: PathSegment[];
  /** As resolved by `resolvePath`. */
  file: string;
  /** As written in the scenario. */
  written: string;
  what: 'trace file' | 'policy module';
}

export interface ResolveResult {
  /** Present when there are no problems. */
  scenario?: Scenario;
  problems: ScenarioProblem[];
  fileRefs: FileRef[];
}

/** How many ids to name before "…" in a problem about many users or containers. */
const LIST_MAX = 3;

function sample(ids: readonly string[]): string {
  return ids.length <= LIST_MAX ? ids.join(', ') : `${ids.slice(0, LIST_MAX).join(', ')}, … (${ids.length} in all)`;
}

function distanceM(a: Point, b: Point): number {
  return Math.hypot(a.xM - b.xM, a.yM - b.yM);
}

class Resolver {
  readonly problems: ScenarioProblem[] = [];
  readonly fileRefs: FileRef[] = [];
  private readonly resolvePath: (relative: string) => string;

  constructor(
    private readonly raw: ScenarioFile,
    private readonly opts: ResolveOptions,
  ) {
    this.resolvePath = opts.resolvePath ?? ((p) => p);
  }

  problem(path: PathSegment[], message: string): void {
    this.problems.push({ path, message });
  }

  private checkRange(path: PathSegment[], r: readonly [number, number] | undefined): void {
    if (r && r[0] > r[1]) this.problem(path, `expected a range [lo, hi] with lo <= hi, got [${r[0]}, ${r[1]}]`);
  }

  /** Report ids that occur more than once (at each later occurrence). */
  private checkUnique(entries: readonly { id: string; path: PathSegment[] }[], what: string): void {
    const first = new Map<string, string>();
    for (const e of entries) {
      const seen = first.get(e.id);
      if (seen !== undefined) this.problem(e.path, `expected a unique ${what} id, got ${JSON.stringify(e.id)} again (first at ${seen})`);
      else first.set(e.id, formatPath(e.path));
    }
  }

  resolve(): Scenario | undefined {
    const raw = this.raw;
    const seed = this.opts.overrides?.seed ?? raw.seed ?? SCENARIO_DEFAULTS.seed;
    const durationS = raw.durationS;
    const warmupS = raw.warmupS ?? SCENARIO_DEFAULTS.warmupS;
    if (warmupS >= durationS) this.problem(['warmupS'], `expected warmupS < durationS (${durationS}), got ${warmupS}`);
    const mode = raw.mode ?? SCENARIO_DEFAULTS.mode;

    const topology = this.topology();
    const latency = this.latency(topology.nodes);
    const { users, groups } = this.users(seed, topology.areaM);
    const containers = this.containers(seed, users, groups, topology.nodes);
    const migration = {
      mode: raw.migration?.mode ?? SCENARIO_DEFAULTS.migrationMode,
      cost: { ...DEFAULT_MIGRATION_COST, ...definedOnly(raw.migration?.cost ?? {}) } as MigrationCostParams,
    };
    if (migration.cost.transferEfficiency <= 0)
      this.problem(['migration', 'cost', 'transferEfficiency'], `expected a fraction in (0, 1], got ${migration.cost.transferEfficiency}`);
    const policies = this.policies();
    const perUserSeries = raw.output?.perUserSeries ?? 'auto';
    const live = this.live(mode, containers);

    if (this.problems.length > 0) return undefined;
    const scenario: Scenario = {
      name: raw.name,
      description: raw.description ?? SCENARIO_DEFAULTS.description,
      file: this.opts.file ?? '',
      mode,
      seed,
      durationS,
      warmupS,
      controlIntervalS: raw.controlIntervalS ?? SCENARIO_DEFAULTS.controlIntervalS,
      metricsWindowS: raw.metricsWindowS ?? SCENARIO_DEFAULTS.metricsWindowS,
      reportIntervalS: raw.reportIntervalS ?? SCENARIO_DEFAULTS.reportIntervalS,
      qosThresholdMs: raw.qosThresholdMs ?? SCENARIO_DEFAULTS.qosThresholdMs,
      latency,
      topology,
      users,
      containers,
      migration,
      policies,
      output: {
        requestTrace: raw.output?.requestTrace ?? SCENARIO_DEFAULTS.requestTrace,
        perUserSeries: perUserSeries === 'auto' ? users.length <= SCENARIO_DEFAULTS.perUserSeriesAutoMaxUsers : perUserSeries,
      },
    };
    if (live) scenario.live = live;
    return scenario;
  }

  // -------------------------------------------------------------------------
  // Topology
  // -------------------------------------------------------------------------

  private topology(): Scenario['topology'] {
    const t = this.raw.topology;
    const base: PathSegment[] = ['topology'];
    const nodes: EdgeNodeSpec[] = [];
    const nodePaths: PathSegment[][] = [];
    const links: LinkSpec[] = [];
    const linkPaths: PathSegment[][] = [];
    let gridArea: { width: number; height: number } | undefined;

    if (t.grid && t.nodes) this.problem([...base, 'grid'], 'expected either nodes or grid, got both');
    if (t.grid && t.links) this.problem([...base, 'links'], 'expected no explicit links with grid (the grid generates them), got a list');
    if (!t.grid && !t.nodes) this.problem(base, 'expected nodes or grid, got neither');
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
        });
        nodePaths.push([...base, 'nodes', i]);
      });
      (t.links ?? []).forEach((l, i) => {
        links.push({ ...l });
        linkPaths.push([...base, 'links', i]);
      });
    }
    if (t.nodes && t.nodes.length === 0) this.problem([...base, 'nodes'], 'expected at least one node, got an empty list');

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
      this.checkUnique(
        [
          ...nodes.map((n, i) => ({ id: n.id, path: [...nodePaths[i], 'id'] })),
          ...switches.map((s, i) => ({ id: s, path: [...base, 'switches', i] })),
        ],
        'node/switch',
      );
    }
    if (t.accessPoints) this.checkUnique(accessPoints.map((a, i) => ({ id: a.id, path: [...apPaths[i], 'id'] })), 'access point');

    // References.
    const vertices = new Set<string>([...nodes.map((n) => n.id), ...switches]);
    const vertexList = [...vertices];
    const unknownVertex = (path: PathSegment[], v: string) => {
      this.problem(path, unknownId('a node or switch id', v, vertexList));
    };
    links.forEach((l, i) => {
      if (t.grid) return;
      if (!vertices.has(l.a)) unknownVertex([...linkPaths[i], 'a'], l.a);
      if (!vertices.has(l.b)) unknownVertex([...linkPaths[i], 'b'], l.b);
      if (l.a === l.b) this.problem([...linkPaths[i], 'b'], `expected a link between two different vertices, got ${l.a} to itself`);
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
        if (outside(n.position)) this.problem(nodePaths[i], `expected node ${n.id} inside the area ${area.width} x ${area.height} m, got (${n.position.xM}, ${n.position.yM})`);
      });
      if (t.accessPoints)
        accessPoints.forEach((a, i) => {
          if (outside(a.position)) this.problem(apPaths[i], `expected access point ${a.id} inside the area ${area.width} x ${area.height} m, got (${a.position.xM}, ${a.position.yM})`);
        });
    }

    // Connectivity: every node, switch and AP attachment must reach the first node.
    if (nodes.length > 0 && this.problems.length === 0) {
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
        this.problem(
          t.links ? [...base, 'links'] : base,
          `expected links connecting every node and switch, but ${sample(unreached)} cannot be reached from ${nodes[0].id}`,
        );
    }
    return { areaM, nodes, switches, accessPoints, links };
  }

  private latency(nodes: readonly EdgeNodeSpec[]): LatencyModelParams {
    const l = this.raw.latency;
    if (!l) return { ...DEFAULT_LATENCY };
    if (l.kind === 'geometric') return { kind: 'geometric', accessBaseMs: l.accessBaseMs, accessMsPerKm: l.accessMsPerKm };
    const path: PathSegment[] = ['latency', 'edgeConstantsMs'];
    const ids = nodes.map((n) => n.id);
    const missing = [...new Set(ids)].filter((id) => !(id in l.edgeConstantsMs));
    if (missing.length > 0) this.problem(path, `expected a constant for every node, missing ${sample(missing)}`);
    for (const key of Object.keys(l.edgeConstantsMs)) {
      if (!ids.includes(key)) {
        this.problem([...path, key], unknownId('a node id', key, ids));
      }
    }
    return { kind: 'linear', edgeConstantsMs: { ...l.edgeConstantsMs }, msPerM: l.msPerM };
  }

  // -------------------------------------------------------------------------
  // Users
  // -------------------------------------------------------------------------

  private users(seed: number, area: { width: number; height: number }): { users: UserSpec[]; groups: Map<string, { ids: string[]; index: number }> } {
    const startRng = createRng(seed, 'start');
    const users: UserSpec[] = [];
    const groups = new Map<string, { ids: string[]; index: number }>();
    const names: { id: string; path: PathSegment[] }[] = [];
    this.raw.users.forEach((g, i) => {
      const path: PathSegment[] = ['users', i];
      const count = g.count ?? USER_DEFAULTS.count;
      const mobility = this.mobility(g.mobility, [...path, 'mobility'], area);
      const requests = { ...DEFAULT_REQUESTS, ...definedOnly(g.requests ?? {}) };
      if (g.start && g.start !== 'random' && (g.start.x > area.width || g.start.y > area.height))
        this.problem([...path, 'start'], `expected a start inside the area ${area.width} x ${area.height} m, got (${g.start.x}, ${g.start.y})`);
      const ids = count === 1 ? [g.id] : Array.from({ length: count }, (_, k) => `${g.id}-${k}`);
      names.push({ id: g.id, path: [...path, 'id'] });
      if (count > 1) for (const id of ids) names.push({ id, path: [...path, 'id'] });
      groups.set(g.id, { ids, index: i });
      for (const id of ids) {
        users.push({ id, start: this.start(g.start, mobility, startRng, area), mobility, requests: { ...requests } });
      }
    });
    this.checkUnique(names, 'user');
    return { users, groups };
  }

  private start(start: ScenarioFile['users'][number]['start'], mobility: MobilitySpec, rng: Rng, area: { width: number; height: number }): Point {
    if (start && start !== 'random') return { xM: start.x, yM: start.y };
    if (start === undefined && mobility.kind === 'straight-path') return { ...mobility.from };
    return { xM: rng() * area.width, yM: rng() * area.height };
  }

  private mobility(m: ScenarioFileMobility | undefined, path: PathSegment[], area: { width: number; height: number }): MobilitySpec {
    if (!m) return { kind: 'static' };
    const pause = (p: [number, number] | undefined): [number, number] => (p ? [p[0], p[1]] : [...MOBILITY_DEFAULTS.pauseS] as [number, number]);
    switch (m.kind) {
      case 'static':
        return { kind: 'static' };
      case 'random-waypoint':
        this.checkRange([...path, 'speedMps'], m.speedMps);
        this.checkRange([...path, 'pauseS'], m.pauseS);
        return { kind: 'random-waypoint', speedMps: [m.speedMps[0], m.speedMps[1]], pauseS: pause(m.pauseS) };
      case 'manhattan':
        this.checkRange([...path, 'speedMps'], m.speedMps);
        this.checkRange([...path, 'pauseS'], m.pauseS);
        return {
          kind: 'manhattan',
          blockM: m.blockM,
          speedMps: [m.speedMps[0], m.speedMps[1]],
          turnProbability: m.turnProbability ?? MOBILITY_DEFAULTS.turnProbability,
          pauseS: pause(m.pauseS),
        };
      case 'straight-path': {
        for (const end of ['from', 'to'] as const) {
          const p = m[end];
          if (p.x > area.width || p.y > area.height)
            this.problem([...path, end], `expected a point inside the area ${area.width} x ${area.height} m, got (${p.x}, ${p.y})`);
        }
        return {
          kind: 'straight-path',
          from: { xM: m.from.x, yM: m.from.y },
          to: { xM: m.to.x, yM: m.to.y },
          speedMps: m.speedMps,
          atEnd: m.atEnd ?? MOBILITY_DEFAULTS.atEnd,
        };
      }
      case 'trace': {
        const file = this.resolvePath(m.file);
        this.fileRefs.push({ path: [...path, 'file'], file, written: m.file, what: 'trace file' });
        return { kind: 'trace', file, format: m.format ?? MOBILITY_DEFAULTS.traceFormat };
      }
    }
  }

  // -------------------------------------------------------------------------
  // Containers and placement
  // -------------------------------------------------------------------------

  private containers(
    seed: number,
    users: readonly UserSpec[],
    groups: ReadonlyMap<string, { ids: string[]; index: number }>,
    nodes: readonly EdgeNodeSpec[],
  ): ContainerSpec[] {
    const out: ContainerSpec[] = [];
    const outPaths: PathSegment[][] = [];
    const servedBy = new Map<string, string[]>();
    const userIds = new Set(users.map((u) => u.id));
    const nodeIndex = new Map(nodes.map((n, i) => [n.id, i]));
    const freeMiB = nodes.map((n) => n.memoryMiB);
    const refNames = [...userIds, ...groups.keys()];
    const serve = (userId: string, containerId: string) => servedBy.set(userId, [...(servedBy.get(userId) ?? []), containerId]);

    /** Expand user/group references; report unknown ones. */
    const expand = (refs: readonly string[], path: PathSegment[]): string[] => {
      const ids: string[] = [];
      refs.forEach((ref, k) => {
        const group = groups.get(ref);
        if (group) ids.push(...group.ids);
        else if (userIds.has(ref)) ids.push(ref);
        else {
          this.problem([...path, k], unknownId('a user or group id', ref, refNames));
        }
      });
      return ids;
    };

    const entries = this.raw.containers;
    // Explicit containers first: their users are taken before templates default to "the rest".
    entries.forEach((e, i) => {
      if ('perUser' in e) return;
      const c = e as ScenarioFileContainer;
      const path: PathSegment[] = ['containers', i];
      const served = expand(c.users, [...path, 'users']);
      for (const u of served) serve(u, c.id);
      const ni = nodeIndex.get(c.node);
      if (ni === undefined) {
        this.problem([...path, 'node'], unknownId('a node id', c.node, [...nodeIndex.keys()]));
      } else if (freeMiB[ni] < c.memoryMiB) {
        this.problem(
          [...path, 'memoryMiB'],
          `expected the initial placement to fit node ${c.node} (${nodes[ni].memoryMiB} MiB), but container ${c.id} needs ${c.memoryMiB} MiB and ${freeMiB[ni]} MiB are free`,
        );
      } else freeMiB[ni] -= c.memoryMiB;
      out.push(this.container(c.id, c.node, c, served));
      outPaths.push([...path, 'id']);
    });

    const placementRng = createRng(seed, 'placement');
    let roundRobin = 0;
    let catchAll = -1;
    entries.forEach((e, i) => {
      if (!('perUser' in e)) return;
      const t = e as ScenarioFilePerUser;
      const path: PathSegment[] = ['containers', i];
      let served: string[];
      if (t.groups) served = expand(t.groups, [...path, 'groups']);
      else {
        if (catchAll >= 0) this.problem(path, `expected groups on all but one perUser template, got a second template without groups (the first is containers[${catchAll}])`);
        catchAll = i;
        const explicitlyTaken = new Set<string>();
        entries.forEach((o) => {
          if ('perUser' in o && (o as ScenarioFilePerUser).groups) for (const ref of (o as ScenarioFilePerUser).groups ?? []) for (const u of groups.get(ref)?.ids ?? [ref]) explicitlyTaken.add(u);
        });
        served = users.map((u) => u.id).filter((u) => !servedBy.has(u) && !explicitlyTaken.has(u));
      }
      const prefix = t.idPrefix ?? CONTAINER_DEFAULTS.idPrefix;
      const placement = t.placement ?? CONTAINER_DEFAULTS.placement;
      const unplaced: string[] = [];
      const userById = new Map(users.map((u) => [u.id, u]));
      if (typeof placement === 'object' && !nodeIndex.has(placement.node)) {
        this.problem([...path, 'placement', 'node'], unknownId('a node id', placement.node, [...nodeIndex.keys()]));
        return;
      }
      for (const userId of served) {
        const cid = `${prefix}-${userId}`;
        serve(userId, cid);
        const user = userById.get(userId) as UserSpec;
        let ni: number | undefined;
        const fits = (k: number) => freeMiB[k] >= t.memoryMiB;
        if (typeof placement === 'object') {
          const k = nodeIndex.get(placement.node) as number;
          ni = fits(k) ? k : undefined;
        } else if (placement === 'nearest') {
          let bestD = Infinity;
          nodes.forEach((n, k) => {
            const d = distanceM(n.position, user.start);
            if (fits(k) && d < bestD) (bestD = d), (ni = k);
          });
        } else if (placement === 'random') {
          const candidates = nodes.map((_, k) => k).filter(fits);
          ni = candidates.length > 0 ? candidates[Math.floor(placementRng() * candidates.length)] : undefined;
        } else {
          for (let step = 0; step < nodes.length && ni === undefined; step++) {
            const k = (roundRobin + step) % nodes.length;
            if (fits(k)) ni = k;
          }
          if (ni !== undefined) roundRobin = ni + 1;
        }
        if (ni === undefined) unplaced.push(cid);
        else freeMiB[ni] -= t.memoryMiB;
        out.push(this.container(cid, ni === undefined ? '' : nodes[ni].id, t, [userId]));
        outPaths.push(path);
      }
      if (unplaced.length > 0) {
        const where = typeof placement === 'object' ? `node ${placement.node}` : 'any node';
        this.problem(
          [...path, typeof placement === 'object' ? 'placement' : 'memoryMiB'],
          `expected every container to fit on ${where} (${t.memoryMiB} MiB each), but ${unplaced.length} do not: ${sample(unplaced)}`,
        );
      }
    });

    this.checkUnique(out.map((c, i) => ({ id: c.id, path: outPaths[i] })), 'container');

    // Every user served by exactly one container.
    const unserved = new Map<number, string[]>();
    const twice = new Map<number, string[]>();
    for (const info of groups.values()) {
      for (const u of info.ids) {
        const by = servedBy.get(u) ?? [];
        if (by.length === 0) unserved.set(info.index, [...(unserved.get(info.index) ?? []), u]);
        if (by.length > 1) twice.set(info.index, [...(twice.get(info.index) ?? []), `${u} (by ${by.join(', ')})`]);
      }
    }
    for (const [index, ids] of unserved) this.problem(['users', index], `expected every user to be served by exactly one container, but ${sample(ids)} ${ids.length === 1 ? 'is' : 'are'} served by none`);
    for (const [index, ids] of twice) this.problem(['users', index], `expected every user to be served by exactly one container, but ${sample(ids)} ${ids.length === 1 ? 'is' : 'are'} served by several`);
    return out;
  }

  private container(
    id: string,
    node: string,
    c: { memoryMiB: number; imageMiB?: number; dirtyRateMiBps?: number; serviceTime: ScenarioFileServiceTime },
    users: string[],
  ): ContainerSpec {
    return {
      id,
      node,
      memoryMiB: c.memoryMiB,
      imageMiB: c.imageMiB ?? CONTAINER_DEFAULTS.imageMiB,
      dirtyRateMiBps: c.dirtyRateMiBps ?? CONTAINER_DEFAULTS.dirtyRateMiBps,
      users,
      serviceTime: serviceTime(c.serviceTime),
    };
  }

  // -------------------------------------------------------------------------
  // Policies and live
  // -------------------------------------------------------------------------

  private policies(): PolicyRef[] {
    const raw = this.raw;
    let entries: { entry: ScenarioFilePolicy; path: PathSegment[] }[] = [];
    if (raw.policies && raw.policy !== undefined) this.problem(['policy'], 'expected either policies or policy, got both');
    if (raw.policies) entries = raw.policies.map((entry, i) => ({ entry, path: ['policies', i] }));
    else if (raw.policy !== undefined) entries = [{ entry: raw.policy, path: ['policy'] }];

    const refs: PolicyRef[] = [];
    for (const { entry, path } of entries) {
      const ref: PolicyRef = typeof entry === 'string' ? { name: entry, params: {} } : { name: entry.name, params: { ...(entry.params ?? {}) } };
      const namePath = typeof entry === 'string' ? path : [...path, 'name'];
      if (typeof entry !== 'string' && entry.module !== undefined) {
        ref.module = this.resolvePath(entry.module);
        this.fileRefs.push({ path: [...path, 'module'], file: ref.module, written: entry.module, what: 'policy module' });
      } else if (!(BUILTIN_POLICY_NAMES as readonly string[]).includes(ref.name)) {
        this.problem(namePath, unknownId(`a built-in policy (${BUILTIN_POLICY_NAMES.join(', ')}) or { name, module }`, ref.name, BUILTIN_POLICY_NAMES));
      }
      refs.push(ref);
    }
    this.checkUnique(refs.map((r, i) => ({ id: r.name, path: entries[i].path })), 'policy');

    const override = this.opts.overrides?.policy;
    if (override !== undefined) {
      const listed = refs.find((r) => r.name === override);
      if (listed) return [listed];
      if (!(BUILTIN_POLICY_NAMES as readonly string[]).includes(override)) {
        this.problem([], `--policy: ${unknownId(`one of the scenario's policies (${refs.map((r) => r.name).join(', ') || 'none'}) or a built-in (${BUILTIN_POLICY_NAMES.join(', ')})`, override, [...refs.map((r) => r.name), ...BUILTIN_POLICY_NAMES])}`);
        return [];
      }
      return [{ name: override, params: {} }];
    }
    if (entries.length === 0) this.problem([], 'expected policies (a list) or policy, got neither');
    return refs;
  }

  private live(mode: 'sim' | 'live', containers: readonly ContainerSpec[]): LiveScenarioOptions | undefined {
    const l = this.raw.live;
    if (!l) {
      if (mode === 'live') this.problem(['mode'], 'expected a live section when mode is live, got none');
      return undefined;
    }
    const ids = containers.map((c) => c.id);
    const known = new Set(ids);
    const names: Record<string, string> = {};
    for (const c of containers) names[c.id] = c.id;
    for (const [cid, name] of Object.entries(l.containerNames ?? {})) {
      if (!known.has(cid)) {
        this.problem(['live', 'containerNames', cid], unknownId('a container id', cid, ids));
      }
      names[cid] = name;
    }
    return {
      inventory: this.resolvePath(l.inventory),
      timeScale: l.timeScale ?? LIVE_DEFAULTS.timeScale,
      onDowntime: l.onDowntime ?? LIVE_DEFAULTS.onDowntime,
      containerNames: names,
    };
  }
}

function serviceTime(s: ScenarioFileServiceTime): ServiceTimeSpec {
  switch (s.kind) {
    case 'alpr':
      return ALPR_SERVICE_TIME;
    case 'exponential':
      return { kind: 'exponential', meanMs: s.meanMs };
    case 'deterministic':
      return { kind: 'deterministic', valueMs: s.valueMs };
    case 'lognormal':
      return { kind: 'lognormal', meanMs: s.meanMs, sdMs: s.sdMs };
    case 'empirical':
      return s.name === undefined ? { kind: 'empirical', samplesMs: [...s.samplesMs] } : { kind: 'empirical', samplesMs: [...s.samplesMs], name: s.name };
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Resolve a structurally valid scenario file (see `ScenarioFileSchema`). Pure. */
export function resolveScenario(raw: ScenarioFile, opts: ResolveOptions = {}): ResolveResult {
  const r = new Resolver(raw, opts);
  const scenario = r.resolve();
  return scenario && r.problems.length === 0 ? { scenario, problems: [], fileRefs: r.fileRefs } : { problems: r.problems, fileRefs: r.fileRefs };
}
