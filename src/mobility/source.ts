/**
 * createLegSource: the one entry point the simulator uses to get a user's
 * trajectory, dispatching on the user's mobility kind.
 */
import { ConmigError } from '../model/errors.ts';
import { createRng } from '../model/random.ts';
import type { UserSpec } from '../model/types.ts';
import { manhattanSource } from './manhattan.ts';
import { randomWaypointSource, staticSource, straightPathSource, type Area } from './models.ts';
import { resolveTraceUser, traceSource } from './trace.ts';
import type { LegSource, TraceStore } from './types.ts';

export interface LegSourceContext {
  areaM: Area;
  /** Scenario seed; the user's legs draw from stream `mobility:<user id>`. */
  seed: number;
  /** Needed only for trace users. */
  traces?: TraceStore;
}

/**
 * The user's trajectory. Same (seed, user id, spec, area) -> identical legs;
 * users are independent of each other. Throws SCENARIO_INVALID for bad model
 * parameters and TRACE_INVALID for unusable traces (when created, not later).
 */
export function createLegSource(user: UserSpec, ctx: LegSourceContext): LegSource {
  const m = user.mobility;
  const rng = createRng(ctx.seed, `mobility:${user.id}`);
  const needsArea = m.kind === 'random-waypoint' || m.kind === 'manhattan';
  if (needsArea && !(ctx.areaM.width > 0 && ctx.areaM.height > 0)) {
    throw new ConmigError('SCENARIO_INVALID', `topology.areaM: ${m.kind} mobility needs an area of positive size`, {
      context: { user: user.id, field: 'topology.areaM' },
      problems: [{ path: 'topology.areaM', message: 'expected width > 0 and height > 0' }],
    });
  }
  switch (m.kind) {
    case 'static':
      return staticSource(user);
    case 'random-waypoint':
      return randomWaypointSource(user, m, ctx.areaM, rng);
    case 'manhattan':
      return manhattanSource(user, m, ctx.areaM, rng);
    case 'straight-path':
      return straightPathSource(user, m);
    case 'trace': {
      if (ctx.traces === undefined) {
        throw new ConmigError('SIM_INVARIANT', `user ${user.id} replays a trace but no TraceStore was given`, {
          context: { user: user.id, file: m.file },
        });
      }
      const data = ctx.traces.get(m.file, m.format);
      const key = resolveTraceUser(user.id, [...data.keys()], m.file);
      const points = data.get(key);
      if (points === undefined || points.length === 0) {
        throw new ConmigError('TRACE_INVALID', `${m.file}: trace user ${key} has no points`, {
          context: { file: m.file, user: user.id },
        });
      }
      return traceSource(points);
    }
  }
}
