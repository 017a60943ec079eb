/**
 * Run ids derived from what a run is, not from where or when it ran: the base
 * scenario's hash (src/cluster/scenario-hash.ts: the resolved scenario without
 * policies, seed, file location and output options), the overrides in the
 * order they are applied, the policy (name, parameters, and the text of a
 * custom module) and the seed. The same run in another sweep file, another
 * output folder or on another machine has the same id, so a folder of
 * finished runs can be resumed, merged or moved; change any part and it is a
 * new run. The simulator's own version is not part of it: after changing the
 * simulator, sweep into a fresh folder.
 */
import { createHash } from 'node:crypto';
import type { PlanOverride } from './plan.ts';

/** JSON with object keys sorted (recursively), so equal values give equal text. */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

export interface PolicyIdentity {
  name: string;
  params: Record<string, unknown>;
  /** sha256 of a custom policy module's text; absent for a built-in. */
  moduleSha256?: string;
}

export interface RunIdParts {
  scenarioHash: string;
  overrides: readonly PlanOverride[];
  policy: PolicyIdentity;
  seed: number;
}

const ID_VERSION = 'conmig-sweep-run/1';

/** 16 hex digits of sha256 over the parts (collisions: ~1 in 10^9 at 200,000 runs). */
export function runId(p: RunIdParts): string {
  const text = stableJson([ID_VERSION, p.scenarioHash, p.overrides.map((o) => [o.path, o.value]), p.policy, p.seed]);
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}
