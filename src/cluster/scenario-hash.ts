import { createHash } from 'node:crypto';
import type { Scenario } from '../model/types.ts';

/**
 * Identity of an experiment: the scenario as written, resolved, without which
 * policy and seed ran it, where the file lives, output options, and whether it
 * ran simulated or live (so a live run and its simulation compare as the same).
 *
 * What the resolver drew from the seed is counted as the rule that drew it,
 * not as the draw: a start drawn at random (`start: random`) is hashed as
 * "random", a container whose start node depends on the seed as its placement
 * rule (`placedBy`). So every seed of one scenario file has one hash, and
 * `--seeds` can aggregate them; changing anything written, including a fixed
 * start or node, changes it.
 */
export function scenarioHash(s: Scenario): string {
  const { policies: _p, seed: _s, file: _f, output: _o, mode: _m, live: _l, ...rest } = s;
  const written = {
    ...rest,
    users: rest.users.some((u) => u.startDrawn) ? rest.users.map(({ startDrawn, ...u }) => (startDrawn ? { ...u, start: 'random' } : u)) : rest.users,
    containers: rest.containers.some((c) => c.placedBy)
      ? rest.containers.map(({ placedBy, ...c }) => (placedBy ? { ...c, node: { placement: placedBy } } : c))
      : rest.containers,
  };
  return createHash('sha256').update(JSON.stringify(written)).digest('hex').slice(0, 16);
}
