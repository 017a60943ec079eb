/**
 * Resolution of a structurally valid scenario file into the `Scenario` the
 * simulator and the live backend run: generators and groups expanded into
 * explicit lists, defaults applied, random start positions and placements
 * drawn from named seeded streams, and every cross-field rule checked.
 *
 * Pure: file paths are resolved through an injected function, and files the
 * scenario refers to are returned as `fileRefs` for the io layer to check.
 */
import { createRng, type Rng } from '../random.ts';
import type {
  ContainerSpec,
  EdgeNodeSpec,
  LatencyModelParams,
  LiveScenarioOptions,
  MigrationCostParams,
  MobilitySpec,
  Point,
  PolicyRef,
  Scenario,
  UserSpec,
} from '../types.ts';
import {
  BUILTIN_POLICY_NAMES,
  DEFAULT_LATENCY,
  DEFAULT_MIGRATION_COST,
  DEFAULT_REQUESTS,
  LIVE_DEFAULTS,
  MOBILITY_DEFAULTS,
  SCENARIO_DEFAULTS,
  USER_DEFAULTS,
} from './defaults.ts';
import { unknownId, type PathSegment } from './problems.ts';
import type { ScenarioFile, ScenarioFileMobility, ScenarioFilePolicy } from './schema.ts';

import { resolveContainers } from './resolve-containers.ts';
import { ResolveContext, sample, type ResolveOptions, type ResolveResult } from './resolve-context.ts';
import { resolveTopology } from './resolve-topology.ts';
export type { FileRef, ResolveOptions, ResolveResult, ScenarioOverrides } from './resolve-context.ts';

class Resolver extends ResolveContext {
  resolve(): Scenario | undefined {
    const raw = this.raw;
    const seed = this.opts.overrides?.seed ?? raw.seed ?? SCENARIO_DEFAULTS.seed;
    const durationS = raw.durationS;
    const warmupS = raw.warmupS ?? SCENARIO_DEFAULTS.warmupS;
    if (warmupS >= durationS) this.problem(['warmupS'], `expected warmupS < durationS (${durationS}), got ${warmupS}`);
    const mode = raw.mode ?? SCENARIO_DEFAULTS.mode;

    const topology = resolveTopology(this);
    const latency = this.latency(topology.nodes);
    const { users, groups } = this.users(seed, topology.areaM);
    const containers = resolveContainers(this, seed, users, groups, topology.nodes);
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
        const user: UserSpec = { id, start: this.start(g.start, mobility, startRng, area), mobility, requests: { ...requests } };
        if (startIsDrawn(g.start, mobility)) user.startDrawn = true;
        users.push(user);
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
      ...(l.requestPath === undefined ? {} : { requestPath: l.requestPath }),
    };
  }
}

/** Whether `start` below draws the point from the seed. */
function startIsDrawn(start: ScenarioFile['users'][number]['start'], mobility: MobilitySpec): boolean {
  if (start && start !== 'random') return false;
  return !(start === undefined && mobility.kind === 'straight-path');
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
