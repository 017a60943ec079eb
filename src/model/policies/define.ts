/**
 * definePolicy: turns a policy definition into a factory that merges the
 * scenario's parameters over the defaults and checks them. A parameter's type
 * is the type of its default (number, string, boolean, array, object); numbers
 * must not be NaN. Unknown names and wrong types are reported together as
 * POLICY_INVALID problems at `policies.<name>.params.<key>`.
 */
import { ConmigError, formatProblems, type Problem } from '../errors.ts';
import type { Policy, PolicyDefinition, PolicyFactory } from '../policy.ts';

function kindOf(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'array';
  return typeof x;
}

function typeProblem(expected: unknown, value: unknown): string | undefined {
  const want = kindOf(expected);
  const got = kindOf(value);
  if (want === 'null') return undefined; // a null default does not constrain the type
  if (want !== got) return `expected ${want} (like the default ${JSON.stringify(expected)}), got ${got}`;
  if (got === 'number' && Number.isNaN(value)) return 'expected a number, got NaN';
  return undefined;
}

export function definePolicy<P extends Record<string, unknown>>(def: PolicyDefinition<P>): PolicyFactory<P> {
  const defaults: Readonly<P> = Object.freeze({ ...def.defaults });
  const keys = Object.keys(defaults);
  const base = `policies.${def.name}.params`;

  function create(params: Partial<P> | Record<string, unknown> = {}): Policy {
    const problems: Problem[] = [];
    const merged: Record<string, unknown> = { ...defaults };
    for (const [key, value] of Object.entries(params)) {
      const path = `${base}.${key}`;
      if (!Object.hasOwn(defaults, key)) {
        problems.push({ path, message: `unknown parameter (valid: ${keys.length ? keys.join(', ') : 'none'})` });
        continue;
      }
      if (value === undefined) continue;
      const problem = typeProblem(defaults[key], value);
      if (problem) {
        problems.push({ path, message: problem });
        continue;
      }
      merged[key] = value;
    }
    if (problems.length === 0 && def.validate) {
      for (const msg of def.validate(merged as P)) {
        // `field: message` -> a problem at that field; anything else at the params object.
        const m = /^([A-Za-z0-9_.[\]-]+):\s*(.*)$/s.exec(msg);
        problems.push(m ? { path: `${base}.${m[1]}`, message: m[2] } : { path: base, message: msg });
      }
    }
    if (problems.length > 0) {
      throw new ConmigError('POLICY_INVALID', `policy "${def.name}" has invalid parameters:\n${formatProblems(problems)}`, {
        context: { policy: def.name },
        problems,
      });
    }
    const frozen = Object.freeze(merged) as Readonly<P>;
    return Object.freeze({
      name: def.name,
      params: frozen,
      decide: (view) => def.decide(view, frozen),
    } satisfies Policy);
  }

  return Object.freeze({ kind: 'conmig-policy' as const, name: def.name, defaults, create });
}
