/**
 * One control step, the same for every backend: show the policy the view,
 * validate what it decided against the view, and hand each accepted
 * migration to the backend. The simulator and the live backend both call
 * this; neither decides anything itself.
 */
import { validateDecisions, type AcceptedMigration, type DecisionValidation } from './decisions.ts';
import type { Policy } from './policy.ts';
import type { ClusterView } from './view.ts';

/** What a backend offers the controller: a view of the cluster and a way to start migrations. */
export interface ControlPort {
  readonly view: ClusterView;
  /** Start carrying out an accepted migration (the backend reports its progress in later views). */
  startMigration(m: AcceptedMigration): void;
}

export function controlStep(policy: Policy, port: ControlPort): DecisionValidation {
  const decisions = policy.decide(port.view);
  if (decisions.length === 0) return { accepted: [], rejected: [] };
  const result = validateDecisions(port.view, decisions);
  for (const m of result.accepted) port.startMigration(m);
  return result;
}
