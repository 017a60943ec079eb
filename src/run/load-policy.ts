/**
 * Turning a scenario's policy entry into a Policy: a built-in by name, or a
 * user's module (its default export made with `definePolicy`). Importing a
 * module is I/O, so it lives here at the edge and not in src/model/. Policies
 * may be TypeScript or JavaScript, in any folder (policy-hooks.ts).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConmigError } from '../model/errors.ts';
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

export async function loadPolicy(ref: PolicyRef, scenario: Scenario): Promise<Policy> {
  if (ref.module === undefined) return createBuiltinPolicy(ref);
  const base = scenario.file ? path.dirname(scenario.file) : process.cwd();
  const file = path.resolve(base, ref.module);
  if (!existsSync(file)) {
    throw new ConmigError('POLICY_NOT_FOUND', `policy module ${ref.module} not found (looked at ${file})`, {
      context: { scenario: scenario.file, policy: ref.name },
    });
  }
  let mod: { default?: unknown };
  try {
    mod = (await importModule(file)) as { default?: unknown };
  } catch (cause) {
    throw new ConmigError('POLICY_INVALID', `policy module ${file} failed to load`, { context: { policy: ref.name }, cause });
  }
  if (!isPolicyFactory(mod.default)) {
    throw new ConmigError(
      'POLICY_INVALID',
      `policy module ${file} must have a default export made with definePolicy({ name, defaults, decide })`,
      { context: { policy: ref.name } },
    );
  }
  return mod.default.create(ref.params);
}
