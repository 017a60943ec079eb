/**
 * The live migration as a state machine: what has happened so far and what
 * each state owns on the nodes. Every state is plain data (names, paths,
 * numbers), so a journal can write it as JSON before an irreversible step and
 * a recovery can read it back.
 *
 *   planned -> prepared -> [predumped x N] -> checkpointing -> checkpointed -> transferred
 *           -> restoring -> restored -> [fetched] -> verified -> cleaned
 *
 * `checkpointing` and `restoring` are entered before the irreversible command
 * (runc checkpoint stops the container; runc restore may leave it, whole or
 * half restored, at the destination), so a failure or a crash inside the
 * command is rolled back as "may have happened". rollback-plan.ts decides the
 * rollback from the state alone.
 */
import type { MigrationMode } from '../../model/types.ts';
import type { CriuProbe } from '../criu-probe.ts';
import type { TransferChannel } from './node.ts';

/** Fixed when the migration starts. */
export interface MigrationPlan {
  container: string;
  mode: MigrationMode;
  /** Source and destination (inventory names). */
  from: string;
  to: string;
  /** The migration's checkpoint folder on each node (images in img/, pre-dump rounds in preN/). */
  srcDir: string;
  dstDir: string;
  /** Where the service answers HTTP (verify, and the rollback's check); null: runc state only. */
  service: { port: number; healthPath: string } | null;
}

/** What pre-flight learnt; fixed for the rest of the migration. Plain data. */
export interface PreflightFacts {
  /** The container's bundle on the source: a rollback restores it from there. */
  srcBundle: string;
  /** Its config.json, the base of the destination's. */
  config: string;
  srcRootfs: string;
  /** Metadata fingerprint of the source rootfs, re-taken after the freeze. */
  manifest: string;
  dstBundle: string;
  /** The destination's bundle folder existed before: a rollback leaves it. */
  dstBundleExisted: boolean;
  /** An identical rootfs is already at the destination, at `dstRootfs`. */
  rootfsCached: boolean;
  dstRootfs: string;
  /** Estimate of what the checkpoint needs at the destination, and what it has. */
  needBytes: number;
  freeBytes: number;
  probes: CriuProbe[];
}

/** The container's checkpoint on the source, and the bundle it is restored with. */
export interface CheckpointRef {
  node: string;
  dir: string;
  bundle: string;
  /**
   * Disk-less cold: the dump's memory pages went straight to this folder's img/ on the
   * destination (CRIU's page server), not to `dir`: a way back must fetch them first.
   */
  pagesAt?: { node: string; dir: string };
}

/** The container at the destination: its runc id and bundle there. */
export interface DestinationRef {
  node: string;
  container: string;
  bundle: string;
}

/** What the transfer measured. */
export interface SentBytes {
  /** Image bytes (all pre-dump rounds + the final dump). */
  checkpointBytes: number;
  /** config.json and, unless cached, the rootfs. */
  bundleBytes: number;
  rootfsCached: boolean;
}

/** Nothing touched yet: pre-flight runs (read-only checks). */
export interface Planned {
  kind: 'planned';
  plan: MigrationPlan;
}

/** Pre-flight passed: CRIU config written, node-to-node channel open; the container runs untouched. */
export interface Prepared {
  kind: 'prepared';
  plan: MigrationPlan;
  facts: PreflightFacts;
  channel: TransferChannel;
}

/** Pre-copy rounds 1..rounds written at the source and pushed; the container still runs. */
export interface Predumped extends Omit<Prepared, 'kind'> {
  kind: 'predumped';
  rounds: number;
}

/** runc checkpoint issued: the container may have stopped, its checkpoint may be partial. */
export interface Checkpointing extends Omit<Prepared, 'kind'> {
  kind: 'checkpointing';
  rounds: number;
  checkpoint: CheckpointRef;
}

/** The container is stopped; its checkpoint is on the source (and stays there until verified). */
export interface Checkpointed extends Omit<Checkpointing, 'kind'> {
  kind: 'checkpointed';
  /**
   * Post-copy: the memory is NOT in the checkpoint; CRIU keeps it on the source and serves it
   * from its page server on this port until the destination has every page. A rollback can
   * then only resume the source's copy (never restore from the checkpoint).
   */
  lazy?: { port: number };
  /** Disk-less cold: memory bytes the dump streamed to the destination's page server. */
  streamedBytes?: number;
}

/** Images, config.json and (if needed) rootfs are at the destination, its bundle in place. */
export interface Transferred extends Omit<Checkpointed, 'kind'> {
  kind: 'transferred';
  sent: SentBytes;
}

/** runc restore issued at the destination: it may hold the container, whole or half restored. */
export interface Restoring extends Omit<Transferred, 'kind'> {
  kind: 'restoring';
  destination: DestinationRef;
}

/** The restore exited 0; not yet verified. */
export interface Restored extends Omit<Restoring, 'kind'> {
  kind: 'restored';
}

/**
 * Post-copy only: every page arrived at the destination (its lazy-pages daemon ended with
 * success) and the source's copy is gone: from here the container exists only at the
 * destination, so a failure goes forward, never back.
 */
export interface Fetched extends Omit<Restored, 'kind'> {
  kind: 'fetched';
  /** Memory bytes the destination fetched after the restore. */
  lazyBytes: number;
}

/** The container runs (and answers) at the destination: the migration has happened. */
export interface Verified extends Omit<Restored, 'kind'> {
  lazyBytes?: number;
  kind: 'verified';
}

/** The source's container state and both checkpoint folders are removed. */
export interface Cleaned extends Omit<Verified, 'kind'> {
  kind: 'cleaned';
}

export type MigrationState =
  | Planned
  | Prepared
  | Predumped
  | Checkpointing
  | Checkpointed
  | Transferred
  | Restoring
  | Restored
  | Fetched
  | Verified
  | Cleaned;

export type StateKind = MigrationState['kind'];

/** Every state, in the order a migration passes them (pre-copy's `predumped` only with --mode precopy, post-copy's `fetched` only with --mode postcopy). */
export const STATE_KINDS = [
  'planned',
  'prepared',
  'predumped',
  'checkpointing',
  'checkpointed',
  'transferred',
  'restoring',
  'restored',
  'fetched',
  'verified',
  'cleaned',
] as const satisfies readonly StateKind[];

// Compile-time: every kind of MigrationState is in STATE_KINDS (the rollback table's test walks it).
const allKindsListed: Record<Exclude<StateKind, (typeof STATE_KINDS)[number]>, never> = {};
void allKindsListed;

/** Pre-copy rounds done in a state (0 before any and for cold). */
export function roundsOf(s: MigrationState): number {
  return 'rounds' in s ? s.rounds : 0;
}
