/**
 * The built-in policies and lookup by name. Loading custom policy modules is
 * I/O (dynamic import) and happens at the edge (CLI), not here.
 */
import { ConmigError } from '../errors.ts';
import type { Policy, PolicyFactory } from '../policy.ts';
import type { BuiltinPolicyName, PolicyRef } from '../types.ts';
import { nearestPolicy } from './nearest.ts';
import { neverPolicy } from './never.ts';
import { thresholdPolicy } from './threshold.ts';
import { trafficAwarePolicy } from './traffic-aware.ts';

export { definePolicy } from './define.ts';
export { nearestPolicy, neverPolicy, thresholdPolicy, trafficAwarePolicy };

export const builtinPolicies: Record<BuiltinPolicyName, PolicyFactory> = {
  never: neverPolicy,
  nearest: nearestPolicy,
  threshold: thresholdPolicy,
  'traffic-aware': trafficAwarePolicy,
};

export function isBuiltinPolicyName(name: string): name is BuiltinPolicyName {
  return Object.hasOwn(builtinPolicies, name);
}

/** Build a built-in policy from a scenario's policy entry; throws POLICY_NOT_FOUND / POLICY_INVALID. */
export function createBuiltinPolicy(ref: PolicyRef): Policy {
  if (!isBuiltinPolicyName(ref.name)) {
    throw new ConmigError(
      'POLICY_NOT_FOUND',
      `unknown policy "${ref.name}" (built-ins: ${Object.keys(builtinPolicies).join(', ')}; custom policies need a module)`,
      { context: { policy: ref.name, valid: Object.keys(builtinPolicies) } },
    );
  }
  return builtinPolicies[ref.name].create(ref.params);
}
