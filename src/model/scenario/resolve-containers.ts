/** Resolving containers and their placement, and that every user is served by exactly one. */
import { ALPR_SERVICE_TIME } from '../alpr-samples.ts';
import { createRng } from '../random.ts';
import type { ContainerSpec, EdgeNodeSpec, ServiceTimeSpec, UserSpec } from '../types.ts';
import { CONTAINER_DEFAULTS } from './defaults.ts';
import { unknownId, type PathSegment } from './problems.ts';
import type { ScenarioFileContainer, ScenarioFilePerUser, ScenarioFileServiceTime } from './schema.ts';

import { ResolveContext, distanceM, sample } from './resolve-context.ts';

export function resolveContainers(
  ctx: ResolveContext,
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
        ctx.problem([...path, k], unknownId('a user or group id', ref, refNames));
      }
    });
    return ids;
  };

  const entries = ctx.raw.containers;
  // Explicit containers first: their users are taken before templates default to "the rest".
  entries.forEach((e, i) => {
    if ('perUser' in e) return;
    const c = e as ScenarioFileContainer;
    const path: PathSegment[] = ['containers', i];
    const served = expand(c.users, [...path, 'users']);
    for (const u of served) serve(u, c.id);
    const ni = nodeIndex.get(c.node);
    if (ni === undefined) {
      ctx.problem([...path, 'node'], unknownId('a node id', c.node, [...nodeIndex.keys()]));
    } else if (freeMiB[ni] < c.memoryMiB) {
      ctx.problem(
        [...path, 'memoryMiB'],
        `expected the initial placement to fit node ${c.node} (${nodes[ni].memoryMiB} MiB), but container ${c.id} needs ${c.memoryMiB} MiB and ${freeMiB[ni]} MiB are free`,
      );
    } else freeMiB[ni] -= c.memoryMiB;
    out.push(container(c.id, c.node, c, served));
    outPaths.push([...path, 'id']);
  });

  const placementRng = createRng(seed, 'placement');
  // Once a placement depends on the seed, so may every later one (memory it took).
  let seedDependent = false;
  let roundRobin = 0;
  let catchAll = -1;
  entries.forEach((e, i) => {
    if (!('perUser' in e)) return;
    const t = e as ScenarioFilePerUser;
    const path: PathSegment[] = ['containers', i];
    let served: string[];
    if (t.groups) served = expand(t.groups, [...path, 'groups']);
    else {
      if (catchAll >= 0) ctx.problem(path, `expected groups on all but one perUser template, got a second template without groups (the first is containers[${catchAll}])`);
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
      ctx.problem([...path, 'placement', 'node'], unknownId('a node id', placement.node, [...nodeIndex.keys()]));
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
      const spec = container(cid, ni === undefined ? '' : nodes[ni].id, t, [userId]);
      if (typeof placement !== 'object') {
        seedDependent ||= placement === 'random' || (placement === 'nearest' && user.startDrawn === true);
        if (seedDependent) spec.placedBy = placement;
      }
      out.push(spec);
      outPaths.push(path);
    }
    if (unplaced.length > 0) {
      const where = typeof placement === 'object' ? `node ${placement.node}` : 'any node';
      ctx.problem(
        [...path, typeof placement === 'object' ? 'placement' : 'memoryMiB'],
        `expected every container to fit on ${where} (${t.memoryMiB} MiB each), but ${unplaced.length} do not: ${sample(unplaced)}`,
      );
    }
  });

  ctx.checkUnique(out.map((c, i) => ({ id: c.id, path: outPaths[i] })), 'container');

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
  for (const [index, ids] of unserved) ctx.problem(['users', index], `expected every user to be served by exactly one container, but ${sample(ids)} ${ids.length === 1 ? 'is' : 'are'} served by none`);
  for (const [index, ids] of twice) ctx.problem(['users', index], `expected every user to be served by exactly one container, but ${sample(ids)} ${ids.length === 1 ? 'is' : 'are'} served by several`);
  return out;
}

function container(
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
