/** What the caller of migrateContainer gives (and what its fault-injection hooks see). */
import type { MigrationMode } from '../../model/types.ts';
import type { CriuProbe } from '../criu-probe.ts';
import type { Inventory, InventoryNode } from '../inventory.ts';
import type { AgentSetting, ExecPool } from '../exec/pool.ts';
import type { NodeExec } from '../exec/types.ts';
import type { NodeFactory } from './node.ts';
import type { MigrationPhase } from './result.ts';

/** What a hook sees: enough to inject faults deterministically in tests. */
export interface HookContext {
  container: string;
  from: InventoryNode;
  to: InventoryNode;
  /** Checkpoint directory on the source (images in `img/`). */
  srcDir: string;
  /** Checkpoint directory on the destination (images in `img/`). */
  dstDir: string;
  exec(node: string): NodeExec;
}

export interface MigrationHooks {
  /** Called when a phase is about to start (after the previous one finished). */
  beforePhase?(phase: MigrationPhase, ctx: HookContext): Promise<void> | void;
}

export interface MigrateOptions {
  inventory: Inventory;
  container: string;
  from: string;
  to: string;
  mode: MigrationMode;
  /** Connections to reuse (default: a new SSH pool, closed at the end). */
  pool?: ExecPool;
  /** The node agent for the pool made here (default CONMIG_AGENT, else auto; `off` = `--no-agent`). */
  agent?: AgentSetting;
  /** Who runs the node-side steps (default: one SSH command each over the pool, ShellNode). */
  nodes?: NodeFactory;
  hooks?: MigrationHooks;
  /** Abort = Ctrl-C: the current phase finishes or is rolled back, then INTERRUPTED is thrown. */
  signal?: AbortSignal;
  /** Client-side downtime probing (default on when the inventory knows the container's port). */
  probe?: boolean;
  probeIntervalMs?: number;
  /** Health path of the service (default /health). */
  healthPath?: string;
  /** Service port (default: the inventory's containers[].port). */
  port?: number;
  verifyTimeoutMs?: number;
  /**
   * Cold: true streams the dump's memory to a page server on the destination (disk-less);
   * false (the default) dumps to the source's disk, then pushes. Disk-less is opt-in: after
   * its dump the memory exists only at the destination, so a destination lost between the
   * dump and the restore takes the container with it until it comes back, where the dump
   * to disk rolls back onto the source. Disk-less itself falls back to the disk path when
   * the page server cannot be started or reached.
   */
  diskless?: boolean;
  /** Post-copy: how long the page fetch after the restore may take (default 15 min). */
  lazyTimeoutMs?: number;
  /**
   * Post-copy: run the destination's lazy-pages daemon with the node's CRIU even where the node has
   * `criu-lazy-pages` (CRIU with conmig's lazy-pages patch, used by default; docs/migrate.md). For comparisons.
   */
  stockLazyDaemon?: boolean;
  /** Pre-copy rounds before the final dump. */
  precopyRounds?: number;
  /** Only run the pre-flight checks (nothing is changed on any node) and report. */
  dryRun?: boolean;
  /** Cache of CRIU probes by node (one probe per node per command). */
  probeCache?: Map<string, CriuProbe>;
  /**
   * Journal folder (journal.ts): every state is written there, fsynced, before the step it
   * announces, so `conmig recover` can end the migration if this process dies. Unset: no journal.
   */
  journalDir?: string;
  id?: number;
  reason?: string;
  /** Progress (the CLI shows it); called at the start and end of each phase. */
  onPhase?: (phase: MigrationPhase, state: 'start' | 'end', wallMs: number) => void;
}
