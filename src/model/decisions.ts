/**
 * Validation of a policy's decisions, shared by the simulator and the live
 * backend so both accept and reject exactly the same moves.
 *
 * A decision is rejected when: its container or destination is unknown, the
 * container is already migrating, it targets the node the container is on, an
 * earlier decision in the same call already moves that container, or the
 * destination lacks free memory (memoryMiB − memoryUsedMiB − memory reserved by
 * decisions accepted earlier in this call).
 */
import type { ContainerView, ClusterView, MigrationDecision, NodeView } from './view.ts';
import type { ContainerId, MigrationMode, NodeId } from './types.ts';

export interface AcceptedMigration {
  containerId: ContainerId;
  from: NodeId;
  to: NodeId;
  mode: MigrationMode;
  reason: string;
}

export interface RejectedDecision {
  decision: MigrationDecision;
  reason: string;
}

export interface DecisionValidation {
  accepted: AcceptedMigration[];
  rejected: RejectedDecision[];
}

const MODES: ReadonlySet<string> = new Set<MigrationMode>(['cold', 'precopy', 'postcopy']);

/**
 * The view's lookups throw on an unknown id (NODE_UNKNOWN / CONTAINER_UNKNOWN);
 * tolerate an implementation that returns undefined instead.
 */
function tryLookup<T>(lookup: () => T | undefined): T | undefined {
  try {
    return lookup();
  } catch {
    return undefined;
  }
}

export function validateDecisions(view: ClusterView, decisions: readonly MigrationDecision[]): DecisionValidation {
  const accepted: AcceptedMigration[] = [];
  const rejected: RejectedDecision[] = [];
  if (decisions.length === 0) return { accepted, rejected };

  const inFlight = new Set<ContainerId>();
  for (const m of view.migrationsInFlight) inFlight.add(m.containerId);
  const decided = new Set<ContainerId>();
  const reservedMiB = new Map<NodeId, number>();

  for (const decision of decisions) {
    const reject = (reason: string): void => {
      rejected.push({ decision, reason });
    };
    const c: ContainerView | undefined = tryLookup(() => view.container(decision.containerId));
    if (!c) {
      reject(`unknown container "${decision.containerId}"`);
      continue;
    }
    const to: NodeView | undefined = tryLookup(() => view.node(decision.to));
    if (!to) {
      reject(`unknown node "${decision.to}"`);
      continue;
    }
    if (decision.mode !== undefined && !MODES.has(decision.mode)) {
      reject(`unknown migration mode "${String(decision.mode)}"`);
      continue;
    }
    if (c.migrating || inFlight.has(c.id)) {
      reject(`container "${c.id}" is already migrating`);
      continue;
    }
    if (decided.has(c.id)) {
      reject(`container "${c.id}" already has a decision in this step`);
      continue;
    }
    if (c.nodeId === to.id) {
      reject(`container "${c.id}" is already on "${to.id}"`);
      continue;
    }
    const reserved = reservedMiB.get(to.id) ?? 0;
    const freeMiB = to.memoryMiB - to.memoryUsedMiB - reserved;
    if (c.memoryMiB > freeMiB) {
      reject(`"${to.id}" has ${freeMiB.toFixed(0)} MiB free, container "${c.id}" needs ${c.memoryMiB} MiB`);
      continue;
    }
    reservedMiB.set(to.id, reserved + c.memoryMiB);
    decided.add(c.id);
    accepted.push({
      containerId: c.id,
      from: c.nodeId,
      to: to.id,
      mode: decision.mode ?? view.defaultMigrationMode,
      reason: decision.reason,
    });
  }
  return { accepted, rejected };
}
