import { createHash } from 'node:crypto';
import type { Scenario } from '../model/types.ts';

/**
 * Identity of an experiment: the resolved scenario without which policy and
 * seed ran it, where the file lives, output options, and whether it ran
 * simulated or live (so a live run and its simulation compare as the same).
 */
export function scenarioHash(s: Scenario): string {
  const { policies: _p, seed: _s, file: _f, output: _o, mode: _m, live: _l, ...rest } = s;
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex').slice(0, 16);
}
