/**
 * Turning a scenario's policy entry into a Policy: a built-in by name, or a
 * user's module (its default export made with `definePolicy`). Importing a
 * module is I/O, so it lives here at the edge and not in src/model/. Policies
 * may be TypeScript or JavaScript, in any folder (policy-hooks.ts).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConmigError, type ErrorCode, type Problem } from '../model/errors.ts';
import { describeThrown, guardPolicy, policyFailure, withExitTrapped } from './guard-policy.ts';
import { registerPolicyHooks } from './policy-hooks.ts';
import type { Policy, PolicyFactory } from '../model/policy.ts';
import { createBuiltinPolicy } from '../model/policies/index.ts';
import type { PolicyRef, Scenario } from '../model/types.ts';

/**
 * A user's module, from any folder: the hooks (policy-hooks.ts) resolve
 * `conmig` to this conmig and load TypeScript as an ES module.
 */
async function importModule(file: string): Promise<unknown> {
  registerPolicyHooks();
  return import(pathToFileURL(file).href);
}

function isPolicyFactory(x: unknown): x is PolicyFactory {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'conmig-policy';
}

export interface LoadPolicyOptions {
  /** Wall-clock budget of one decide call of a custom policy, in seconds (default DEFAULT_POLICY_TIMEOUT_S). */
  policyTimeoutS?: number;
}

/** A ConmigError from another copy of conmig (a policy's own): as one of this copy, so it is reported as such. */
function asConmigError(e: unknown): ConmigError | undefined {
  if (e instanceof ConmigError) return e;
  const x = e as { name?: unknown; code?: unknown; message?: unknown; problems?: unknown; context?: unknown } | null;
  if (typeof x !== 'object' || x === null || x.name !== 'ConmigError' || typeof x.code !== 'string') return undefined;
  return new ConmigError(x.code as ErrorCode, String(x.message), {
    problems: Array.isArray(x.problems) ? (x.problems as Problem[]) : [],
    context: typeof x.context === 'object' && x.context !== null ? (x.context as Record<string, unknown>) : {},
  });
}

export async function loadPolicy(ref: PolicyRef, scenario: Scenario, opts: LoadPolicyOptions = {}): Promise<Policy> {
  if (ref.module === undefined) return createBuiltinPolicy(ref);
  const who = { label: ref.name, module: ref.module };
  const base = scenario.file ? path.dirname(scenario.file) : process.cwd();
  const file = path.resolve(base, ref.module);
  if (!existsSync(file)) {
    throw new ConmigError('POLICY_NOT_FOUND', `policy module ${ref.module} not found (looked at ${file})`, {
      context: { scenario: scenario.file, policy: ref.name },
    });
  }
  let mod: { default?: unknown };
  try {
    mod = (await withExitTrapped(() => importModule(file), (call) => policyFailure(who, `its module ${call} while loading`))) as { default?: unknown };
  } catch (cause) {
    if (cause instanceof ConmigError && cause.code === 'POLICY_FAILED') throw cause;
    throw new ConmigError('POLICY_INVALID', `policy module ${file} failed to load: ${describeThrown(cause)}`, { context: { policy: ref.name } });
  }
  const factory = mod.default;
  if (!isPolicyFactory(factory)) {
    throw new ConmigError(
      'POLICY_INVALID',
      `policy module ${file} must have a default export made with definePolicy({ name, defaults, decide })`,
      { context: { policy: ref.name } },
    );
  }
  let policy: unknown;
  try {
    policy = withExitTrapped(() => factory.create(ref.params), (call) => policyFailure(who, `its factory ${call}`));
  } catch (e) {
    const known = asConmigError(e);
    if (known) throw known;
    throw policyFailure(who, `its factory threw ${describeThrown(e)}`);
  }
  if (typeof policy !== 'object' || policy === null || typeof (policy as Policy).decide !== 'function') {
    throw policyFailure(who, `its factory returned ${policy === null ? 'null' : typeof policy}, not a policy with decide(view)`);
  }
  return guardPolicy(policy as Policy, who, opts.policyTimeoutS);
}
