/**
 * The phases of one container migration, named once for the simulator's
 * migration process (src/sim/migration.ts), the live migrator
 * (src/live/migrate/) and the result records (MigrationRecord's `*Ms` columns).
 *
 *   preflight -> [predump x N] -> checkpoint -> transfer -> restore -> [lazy-pages] -> verify -> cleanup
 *                     any failure from the checkpoint on, before verify -> rollback
 *
 * Pre-copy's rounds while the container runs are `predump` (CRIU's name; the
 * record's column is `precopyMs`); `lazy-pages` is post-copy's page fetch after
 * the restore. The simulator models predump, checkpoint, transfer, restore and
 * lazy-pages; preflight, verify, cleanup and rollback exist only live.
 */
import type { MigrationRecord } from './results.ts';

export const MIGRATION_PHASES = ['preflight', 'predump', 'checkpoint', 'transfer', 'restore', 'lazy-pages', 'verify', 'cleanup', 'rollback'] as const;

export type MigrationPhase = (typeof MIGRATION_PHASES)[number];

/** The phases a MigrationRecord has a duration column for, and that column. */
export const RECORD_PHASE_COLUMNS = {
  predump: 'precopyMs',
  checkpoint: 'checkpointMs',
  transfer: 'transferMs',
  restore: 'restoreMs',
  'lazy-pages': 'lazyPagesMs',
} as const satisfies Partial<Record<MigrationPhase, keyof MigrationRecord>>;

export type RecordedPhase = keyof typeof RECORD_PHASE_COLUMNS;

/** Set the duration of `phase` in a record (its column by RECORD_PHASE_COLUMNS). */
export function setPhaseMs(rec: MigrationRecord, phase: RecordedPhase, ms: number): void {
  rec[RECORD_PHASE_COLUMNS[phase]] = ms;
}
