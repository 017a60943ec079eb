/**
 * What to do after a failure, decided from the state at the failure alone
 * (a pure function, so the same decision serves a migration that failed and,
 * from a journal, one whose controller died). The table (docs/migrate.md):
 *
 *   state at failure               | direction | steps
 *   planned                        | none      | - (nothing was touched)
 *   prepared, predumped            | none      | remove both checkpoint folders (pre-dump rounds, a failed dump's logs)
 *   checkpointing, checkpointed,   | back      | clear the destination (unreachable: it cannot hold the container),
 *     transferred                  |           |   then restore on the source from its checkpoint
 *   restoring, restored            | back      | clear the destination (unreachable: it MAY hold it: stop there),
 *                                  |           |   then restore on the source from its checkpoint
 *   (post-copy: the checkpoint has no memory; "restore on the source" is then "end the
 *    lazy dump so CRIU resumes the source's copy", never a restore from the checkpoint)
 *   fetched (post-copy)            | forward   | clean up: every page is at the destination, the source's copy is gone
 *   verified                       | forward   | clean up: the migration has happened
 *   cleaned                        | none      | - (done)
 */
import type { Fetched, MigrationPlan, MigrationState, Verified } from './state.ts';

export interface NodeDir {
  node: string;
  dir: string;
}

/** The destination must not keep a (half-)restored container, nor our files. */
export interface ClearDestination {
  node: string;
  container: string;
  dir: string;
  /** The bundle folder the transfer created (null: it existed before and is kept). */
  bundle: string | null;
  /**
   * Whether the destination may hold the container (its restore was issued): if it
   * cannot be reached, the rollback must then stop rather than risk two copies.
   */
  mayHoldContainer: boolean;
}

/** Bring the container back on the source from its local checkpoint (unless it runs there). */
export interface RestoreSource {
  node: string;
  container: string;
  /** Checkpoint folder (images in img/), removed once restored. */
  dir: string;
  bundle: string;
  service: MigrationPlan['service'];
  /**
   * Post-copy: the checkpoint holds no memory (CRIU served it from the source's page server).
   * The way back is then to end the lazy dump, after which runc resumes the source's copy; if
   * that copy is gone the container is lost, and it is never restored from the checkpoint.
   */
  lazy?: boolean;
  /**
   * Disk-less cold: the checkpoint's memory pages are in this folder's img/ on another node
   * (the destination's page server got them): fetched back before the destination is cleared.
   */
  pagesFrom?: { node: string; dir: string };
}

/** After a verified migration: the source's container state and both checkpoint folders go. */
export interface CleanUp {
  source: NodeDir & { container: string };
  destination: NodeDir;
}

export type RollbackPlan =
  /** Nothing was changed: remove what we wrote (best effort); the error stands as it is. */
  | { direction: 'none'; removeDirs: NodeDir[] }
  /** The container may be stopped: it goes back to the source, destination first. */
  | { direction: 'back'; clearDestination: ClearDestination; restoreSource: RestoreSource }
  /** It runs at the destination: finish the migration. */
  | { direction: 'forward'; cleanUp: CleanUp };

export function planRollback(s: MigrationState): RollbackPlan {
  switch (s.kind) {
    case 'planned':
    case 'cleaned':
      return { direction: 'none', removeDirs: [] };
    case 'prepared':
    case 'predumped':
      return { direction: 'none', removeDirs: checkpointDirs(s.plan) };
    case 'checkpointing':
    case 'checkpointed':
    case 'transferred':
    case 'restoring':
    case 'restored': {
      const { plan, facts, checkpoint } = s;
      return {
        direction: 'back',
        clearDestination: {
          node: plan.to,
          container: plan.container,
          dir: plan.dstDir,
          bundle: facts.dstBundleExisted ? null : facts.dstBundle,
          mayHoldContainer: s.kind === 'restoring' || s.kind === 'restored',
        },
        restoreSource: {
          node: checkpoint.node,
          container: plan.container,
          dir: checkpoint.dir,
          bundle: checkpoint.bundle,
          service: plan.service,
          ...(plan.mode === 'postcopy' ? { lazy: true } : {}),
          ...(checkpoint.pagesAt ? { pagesFrom: checkpoint.pagesAt } : {}),
        },
      };
    }
    case 'fetched':
    case 'verified':
      return { direction: 'forward', cleanUp: cleanUpOf(s) };
  }
}

export function checkpointDirs(plan: MigrationPlan): NodeDir[] {
  return [
    { node: plan.from, dir: plan.srcDir },
    { node: plan.to, dir: plan.dstDir },
  ];
}

/** The cleanup of a verified migration (also the cleanup phase's own). */
export function cleanUpOf(s: Verified | Fetched): CleanUp {
  return {
    source: { node: s.checkpoint.node, container: s.plan.container, dir: s.checkpoint.dir },
    destination: { node: s.destination.node, dir: s.plan.dstDir },
  };
}
