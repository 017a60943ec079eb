/**
 * The public policy API. A policy is a small object: given the cluster view it
 * returns migration decisions. It keeps no hidden state between calls (what it
 * needs, such as the time of a container's last migration, is in the view), so
 * the same policy gives the same decisions in simulation and live.
 *
 * Custom policies are modules whose default export is `definePolicy(...)`:
 *
 *   import { definePolicy } from 'conmig';
 *   export default definePolicy({
 *     name: 'stay-below-80ms',
 *     defaults: { limitMs: 80 },
 *     decide(view, p) { ... return [{ containerId, to, reason }]; },
 *   });
 */
import type { ClusterView, MigrationDecision } from './view.ts';

export interface Policy {
  readonly name: string;
  /** Effective parameters (defaults merged with the scenario's). */
  readonly params: Readonly<Record<string, unknown>>;
  decide(view: ClusterView): MigrationDecision[];
}

export interface PolicyDefinition<P extends Record<string, unknown>> {
  readonly name: string;
  readonly defaults: P;
  /** Optional check of merged parameters; return problems as `field: message` strings. */
  validate?(params: P): string[];
  decide(view: ClusterView, params: Readonly<P>): MigrationDecision[];
}

export interface PolicyFactory<P extends Record<string, unknown> = Record<string, unknown>> {
  readonly kind: 'conmig-policy';
  readonly name: string;
  readonly defaults: Readonly<P>;
  /** Build a policy with parameters from a scenario; throws ConmigError on bad params. */
  create(params?: Partial<P> | Record<string, unknown>): Policy;
}
