/**
 * A user's policy, watched: what it does wrong ends the run with a
 * POLICY_FAILED error naming the policy, the simulated time and the problem,
 * instead of an internal error, a hang or a silent exit.
 *
 * - decide must return, within the per-step time budget: it is called from a
 *   one-line script run with node:vm's `timeout`, whose watchdog interrupts
 *   whatever JavaScript runs meanwhile, a loop in the policy's own function
 *   included (same thread: no copy of the view).
 * - It must return a list of decisions (objects with containerId and to), and
 *   not an absurd number of them.
 * - process.exit() while the policy's code runs (its module, its factory, its
 *   decide) throws instead of ending the process.
 * Only custom modules are watched: the built-ins are conmig's own code, and
 * the watchdog costs about 0.1 ms a call.
 */
import vm from 'node:vm';
import { ConmigError } from '../model/errors.ts';
import type { Policy } from '../model/policy.ts';
import type { ClusterView, MigrationDecision } from '../model/view.ts';

/** Default wall-clock budget of one decide call. */
export const DEFAULT_POLICY_TIMEOUT_S = 10;

export interface PolicyIdentity {
  /** The scenario's label of the policy. */
  label: string;
  /** The module as the scenario names it. */
  module: string;
}

export function policyFailure(who: PolicyIdentity, problem: string, nowMs?: number, cause?: unknown): ConmigError {
  const when = nowMs === undefined ? '' : ` at simulated time ${(nowMs / 1000).toFixed(3)} s`;
  return new ConmigError('POLICY_FAILED', `policy "${who.label}" (${who.module}) failed${when}: ${problem}`, {
    context: { policy: who.label, module: who.module },
    cause,
  });
}

class ExitCalled extends Error {
  constructor(readonly code: unknown) {
    super(`process.exit(${code === undefined ? '' : String(code)})`);
  }
}

/**
 * Run the policy's code with process.exit trapped: a call becomes `onExit`'s
 * error (also when the policy catches what the trap throws).
 */
export function withExitTrapped<T>(fn: () => T, onExit: (call: string) => Error): T {
  const original = process.exit;
  let call: ExitCalled | undefined;
  process.exit = ((code?: unknown) => {
    call = new ExitCalled(code);
    throw call;
  }) as typeof process.exit;
  try {
    const result = fn();
    if (result instanceof Promise) {
      // An import: the trap stays until it settles.
      return result.then(
        (v: unknown) => {
          if (call) throw onExit(`called ${call.message}`);
          return v;
        },
        (e: unknown) => {
          throw call ? onExit(`called ${call.message}`) : e;
        },
      ).finally(() => (process.exit = original)) as T;
    }
    if (call) throw onExit(`called ${call.message}`);
    process.exit = original;
    return result;
  } catch (e) {
    process.exit = original;
    throw call ? onExit(`called ${call.message}`) : e;
  }
}

/** `TypeError: x is undefined (at /path/policy.ts:12:5)`: the error and where in the user's code. */
export function describeThrown(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const at = /^\s+at (?:.*? \()?(.+?:\d+:\d+)\)?$/m.exec(e.stack ?? '');
  return `${e.name}: ${e.message}${at ? ` (at ${at[1]})` : ''}`;
}

function describeValue(x: unknown): string {
  if (x === null || x === undefined) return String(x);
  if (Array.isArray(x)) return `a list of ${x.length}`;
  if (x instanceof Promise) return 'a Promise (decide must be synchronous)';
  if (typeof x === 'object') return 'an object';
  return `${typeof x} ${String(x).slice(0, 40)}`;
}

/** The most decisions one step may return: far more than any sensible policy (one per container). */
export function maxDecisions(view: ClusterView): number {
  return Math.max(1000, 10 * view.containers.length);
}

function checkDecisions(result: unknown, view: ClusterView): string | undefined {
  if (!Array.isArray(result)) return `decide returned ${describeValue(result)}, expected a list of decisions ({ containerId, to, reason })`;
  const max = maxDecisions(view);
  if (result.length > max) return `decide returned ${result.length.toLocaleString('en-US')} decisions, more than ${max.toLocaleString('en-US')} (10 per container, at least 1,000)`;
  for (let i = 0; i < result.length; i++) {
    const d = result[i] as Partial<MigrationDecision> | null;
    if (typeof d !== 'object' || d === null || typeof d.containerId !== 'string' || typeof d.to !== 'string') {
      return `decide returned a list whose element ${i} is ${describeValue(d)}${typeof d === 'object' && d !== null ? ' without string containerId and to' : ''}, expected { containerId, to, reason }`;
    }
  }
  return undefined;
}

/** The policy, watched (see the file comment). */
export function guardPolicy(policy: Policy, who: PolicyIdentity, timeoutS: number = DEFAULT_POLICY_TIMEOUT_S): Policy {
  const timeoutMs = Math.max(1, Math.round(timeoutS * 1000));
  const sandbox = vm.createContext({ call: undefined as (() => unknown) | undefined });
  const script = new vm.Script('call()', { filename: 'conmig-policy-step' });
  return {
    name: policy.name,
    params: policy.params,
    decide(view: ClusterView): MigrationDecision[] {
      const at = view.nowMs;
      sandbox.call = () => policy.decide(view);
      let result: unknown;
      try {
        result = withExitTrapped(
          () => script.runInContext(sandbox, { timeout: timeoutMs }),
          (call) => policyFailure(who, call, at),
        );
      } catch (e) {
        if (e instanceof ConmigError && e.code === 'POLICY_FAILED') throw e;
        if ((e as NodeJS.ErrnoException)?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
          throw policyFailure(who, `decide did not return within its time budget of ${timeoutS} s (stopped; --policy-timeout sets the budget)`, at);
        }
        throw policyFailure(who, `decide threw ${describeThrown(e)}`, at);
      } finally {
        sandbox.call = undefined;
      }
      const problem = checkDecisions(result, view);
      if (problem) throw policyFailure(who, problem, at);
      return result as MigrationDecision[];
    },
  };
}
