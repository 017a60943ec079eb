/**
 * conmig's public API for code outside this repository, above all custom
 * policies: `import { definePolicy, type ClusterView } from 'conmig'`.
 */
export { definePolicy } from './model/policies/define.ts';
export { builtinPolicies, createBuiltinPolicy } from './model/policies/index.ts';
export { validateDecisions } from './model/decisions.ts';
export { estimateMigration, DEFAULT_MIGRATION_COST } from './model/migration-cost.ts';
export { ConmigError, type ErrorCode, type Problem } from './model/errors.ts';
export type { Policy, PolicyDefinition, PolicyFactory } from './model/policy.ts';
export type {
  ClusterView,
  ContainerView,
  MigrationDecision,
  MigrationInFlightView,
  NodeView,
  UserView,
} from './model/view.ts';
export type * from './model/types.ts';
export type * from './model/results.ts';
export { loadScenario } from './scenario-io/load.ts';
export { simulate } from './sim/simulator.ts';
export { runScenario } from './run/run-scenario.ts';
