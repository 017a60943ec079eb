/**
 * What one live migration measured. Shaped like MigrationRecord
 * (src/model/results.ts) so live runs write the same migrations.csv as the
 * simulator, plus the wall-clock phase list and details only a real run has.
 */
import type { MigrationPhase } from '../../model/phases.ts';
import type { MigrationRecord } from '../../model/results.ts';

export type { MigrationPhase };

export interface PhaseTiming {
  phase: MigrationPhase;
  /** Wall-clock duration (performance.now). */
  wallMs: number;
  /** Start, relative to the start of the migration. */
  startWallMs: number;
  /** Extra detail: pre-dump round number, bytes of that round, ... */
  note?: string;
}

export interface DowntimeMeasurement {
  /** How the prober reached the service: `controller -> <addr>:<port><path>` each intervalMs. */
  method: string;
  intervalMs: number;
  probes: number;
  failures: number;
  /** Last success before the gap to first success after it (0 if no gap was seen). */
  downtimeMs: number;
  /** Address that answered the last probe before the gap and the first after it. */
  lastBeforeGap: string | null;
  firstAfterGap: string | null;
}

export interface LiveMigrationResult extends MigrationRecord {
  /** Wall-clock per phase, in order, including repeated pre-dump rounds. */
  phases: PhaseTiming[];
  verifyMs: number;
  cleanupMs: number;
  /** Bytes of the checkpoint image directory (all pre-dump rounds + final dump). */
  checkpointBytes: number;
  /** Bytes of bundle/rootfs actually sent (0 when the destination had an identical rootfs). */
  bundleBytes: number;
  rootfsCached: boolean;
  downtime: DowntimeMeasurement | null;
  /** Node the container runs on after the command. */
  runningOn: string;
  /** CRIU / kernel of the two nodes (from the probe). */
  environment: Record<string, string>;
  /** Set for a dry run (`--dry-run`): only the pre-flight ran; `bytes` is then the estimate. */
  dryRun?: { estimatedBytes: number; destinationFreeBytes: number };
  /** For a rolled-back migration: what failed. */
  error?: { code: string; message: string; phase: MigrationPhase };
}
