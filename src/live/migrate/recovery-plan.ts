/**
 * How to end a migration whose controller died, decided from the journal's
 * last state (what the controller was about to do, state.ts) and what the
 * nodes show now (runc state, the checkpoint's images, whether a command of
 * the migration still runs there). A pure function: recover.ts observes and
 * carries the plan out; docs/migrate.md has the table.
 *
 * The rule: the container ends up running on exactly one node, with its
 * state. A copy that runs is kept (the source's unless the migration was
 * verified); a stopped container is restored from the source's checkpoint
 * (the rollback planRollback would have run); nothing is done while a node
 * that may hold the container cannot be checked, or while a command of the
 * migration (runc checkpoint/restore, the transfer's tar) still runs on a
 * node: the entry stays open and a later `conmig recover` tries again.
 */
import { planRollback, type ClearDestination, type CleanUp, type NodeDir, type RestoreSource } from './rollback-plan.ts';
import type { MigrationState, StateKind } from './state.ts';

/** runc's view of the container on a node (`absent`: no container of that name). */
export type ContainerStatus = 'running' | 'paused' | 'created' | 'stopped' | 'absent';

export type NodeObservation =
  | { reachable: false; error: string }
  | {
      reachable: true;
      container: ContainerStatus;
      /** The migration's checkpoint images are on this node (`<dir>/img/inventory.img`). */
      checkpoint: boolean;
      /** A command of this migration (one naming its checkpoint folder) still runs on this node. */
      busy: boolean;
    };

export interface Observation {
  source: NodeObservation;
  destination: NodeObservation;
  /**
   * The observation was repeated for the settle time and a transitional status
   * (paused, created, busy) stayed: it is not going to finish by itself.
   */
  settled: boolean;
}

export type RecoveryPlan =
  /** Nothing to decide now; the entry stays open. `retry`: observe again shortly. */
  | { action: 'wait'; retry: boolean; reason: string }
  /** The migration never stopped the container: remove its folders, nothing else. */
  | { action: 'untouched'; runningOn: string | null; removeDirs: NodeDir[]; closeChannel: boolean }
  /** The container runs on the source: the destination is cleared (container, folder, bundle it got). */
  | { action: 'keep-source'; node: string; clearDestination: ClearDestination; removeDirs: NodeDir[]; closeChannel: boolean }
  /** The container is frozen on the source (a dump that never finished): thaw it, clear the destination. */
  | { action: 'resume-source'; node: string; container: string; clearDestination: ClearDestination; removeDirs: NodeDir[]; closeChannel: boolean }
  /** It runs nowhere and its checkpoint is on the source: planRollback's way back. */
  | { action: 'restore-source'; clearDestination: ClearDestination; restoreSource: RestoreSource; closeChannel: boolean }
  /** It runs at the destination: finish the migration (the source's container state and both folders go). */
  | { action: 'keep-destination'; node: string; cleanUp: CleanUp; sourceReachable: boolean; closeChannel: boolean }
  /** It runs nowhere and there is nothing to restore it from: say so, keep every file; the entry stays open. */
  | { action: 'lost'; reason: string };

export type RecoveryAction = RecoveryPlan['action'];

/** States in which the container has not been stopped by the migration. */
const UNTOUCHED: readonly StateKind[] = ['planned', 'prepared', 'predumped'];
/** Post-copy states in which the source's lazy dump serves pages to a restore that was never issued. */
const LAZY_BEFORE_RESTORE: readonly StateKind[] = ['checkpointing', 'checkpointed', 'transferred'];
/** States from which the destination may hold the container (its restore was issued). */
const DESTINATION_MAY_HOLD: readonly StateKind[] = ['restoring', 'restored', 'fetched', 'verified', 'cleaned'];

export function planRecovery(s: MigrationState, o: Observation): RecoveryPlan {
  const { plan } = s;
  const src = o.source;
  const dst = o.destination;
  const closeChannel = s.kind !== 'planned';

  // Post-copy before the restore: the busy command on the source is the lazy dump, which serves
  // pages to nobody (the controller that would have restored died) and would hold the container
  // frozen forever: end it (runc resumes the source's copy, as after any failed dump).
  if (s.plan.mode === 'postcopy' && LAZY_BEFORE_RESTORE.includes(s.kind) && src.reachable && src.busy && !(dst.reachable && dst.container === 'running')) {
    const rb = planRollback(s);
    if (rb.direction === 'back') return { action: 'restore-source', clearDestination: rb.clearDestination, restoreSource: rb.restoreSource, closeChannel };
  }
  // A command of the migration still runs on a node: its outcome decides; wait for it.
  const busy = [src.reachable && src.busy ? plan.from : null, dst.reachable && dst.busy ? plan.to : null].filter((n): n is string => n !== null);
  if (busy.length > 0) {
    return { action: 'wait', retry: !o.settled, reason: `a command of this migration still runs on ${busy.join(' and ')}` };
  }
  // Transitional statuses: a dump freezes (paused), a restore creates before it runs.
  if (!o.settled && ((src.reachable && (src.container === 'paused' || src.container === 'created')) || (dst.reachable && (dst.container === 'paused' || dst.container === 'created')))) {
    return { action: 'wait', retry: true, reason: 'the container is in a transitional state (paused or created)' };
  }

  const srcRuns = src.reachable && src.container === 'running';
  const dstRuns = dst.reachable && dst.container === 'running';
  const srcPaused = src.reachable && src.container === 'paused';

  if (UNTOUCHED.includes(s.kind) || !('facts' in s)) {
    const rb = planRollback(s);
    const removeDirs = rb.direction === 'none' ? rb.removeDirs : [];
    if (srcPaused && !dstRuns && 'facts' in s) {
      // a pre-dump round's freeze that never ended (planned: the migration never touched it)
      return { action: 'resume-source', node: plan.from, container: plan.container, clearDestination: clearOf(s), removeDirs: [], closeChannel };
    }
    return { action: 'untouched', runningOn: srcRuns ? plan.from : dstRuns ? plan.to : null, removeDirs, closeChannel };
  }

  // From here the migration may have stopped the container (checkpointing and later).
  const clear = clearOf(s);
  const cleanUp = cleanUpFromPlan(s);
  const mayHold = DESTINATION_MAY_HOLD.includes(s.kind);
  // post-copy's `fetched`: every page at the destination, the source's copy gone: it is done too
  const done = s.kind === 'fetched' || s.kind === 'verified' || s.kind === 'cleaned';

  if (srcRuns && dstRuns) {
    // two copies: keep the one the migration had settled on
    if (done) return { action: 'keep-destination', node: plan.to, cleanUp, sourceReachable: true, closeChannel };
    return { action: 'keep-source', node: plan.from, clearDestination: clear, removeDirs: [], closeChannel };
  }
  if (dstRuns) {
    return { action: 'keep-destination', node: plan.to, cleanUp, sourceReachable: src.reachable, closeChannel };
  }
  if (srcRuns) {
    if (!dst.reachable && mayHold) return { action: 'wait', retry: false, reason: `${plan.to} cannot be reached and may run "${plan.container}" too (its restore had been issued)` };
    return { action: 'keep-source', node: plan.from, clearDestination: clear, removeDirs: [], closeChannel };
  }
  // It runs nowhere that could be checked.
  if (!src.reachable) return { action: 'wait', retry: false, reason: `${plan.from} cannot be reached: "${plan.container}" may run there or be restored from its checkpoint there` };
  if (!dst.reachable && mayHold) return { action: 'wait', retry: false, reason: `${plan.to} cannot be reached and may run "${plan.container}" (its restore had been issued)` };
  if (srcPaused) {
    return { action: 'resume-source', node: plan.from, container: plan.container, clearDestination: clear, removeDirs: [], closeChannel };
  }
  if (done) {
    return {
      action: 'lost',
      reason: `the migration had completed, but "${plan.container}" no longer runs on ${plan.to} (nor on ${plan.from}): it stopped after the migration`,
    };
  }
  if (!src.checkpoint) {
    return { action: 'lost', reason: `"${plan.container}" runs on neither ${plan.from} nor ${plan.to} and its checkpoint is not on ${plan.from} (${plan.srcDir}/img)` };
  }
  if (s.plan.mode === 'postcopy') {
    // the checkpoint has no memory (it stayed in the source's CRIU, now ended): nothing to restore from
    return { action: 'lost', reason: `"${plan.container}" runs on neither ${plan.from} nor ${plan.to}, and a post-copy checkpoint holds no memory (the pages were served by the source's CRIU, which has ended): nothing to restore it from` };
  }
  const rb = planRollback(s);
  if (rb.direction === 'back' && rb.restoreSource.pagesFrom && !dst.reachable) {
    return { action: 'wait', retry: false, reason: `the checkpoint's memory pages are on ${plan.to} (disk-less dump), which cannot be reached` };
  }
  if (rb.direction !== 'back') throw new Error(`planRollback(${s.kind}) is not a way back`); // unreachable: every state left here has a checkpoint
  return { action: 'restore-source', clearDestination: rb.clearDestination, restoreSource: rb.restoreSource, closeChannel };
}

type WithFacts = Extract<MigrationState, { facts: unknown }>;

/** The destination cleared of the container and of what the migration put there (the bundle only if it created it). */
function clearOf(s: WithFacts): ClearDestination {
  return {
    node: s.plan.to,
    container: s.plan.container,
    dir: s.plan.dstDir,
    bundle: s.facts.dstBundleExisted ? null : s.facts.dstBundle,
    mayHoldContainer: DESTINATION_MAY_HOLD.includes(s.kind),
  };
}

/** The cleanup of a finished migration (cleanUpOf's, from the plan: the same folders). */
function cleanUpFromPlan(s: WithFacts): CleanUp {
  return {
    source: { node: s.plan.from, container: s.plan.container, dir: s.plan.srcDir },
    destination: { node: s.plan.to, dir: s.plan.dstDir },
  };
}
