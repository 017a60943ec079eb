/**
 * What one live migration measured. Shaped like MigrationRecord
 * (src/model/results.ts) so live runs write the same migrations.csv as the
 * simulator, plus the wall-clock phase list and details only a real run has.
 */
import type { MigrationPhase } from '../../model/phases.ts';
import type { MigrationRecord } from '../../model/results.ts';
import type { ColdTransport } from '../../model/types.ts';
import type { CriuProbe } from '../criu-probe.ts';
import type { Cleaned, Prepared } from './state.ts';

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

/** What a result needs besides the state: who asked, when, and the timed phases. */
export interface ResultMeta {
  id: number;
  reason: string;
  /** Wall-clock start (epoch seconds). */
  startS: number;
  totalMs: number;
  phases: PhaseTiming[];
}

/** Wall time of a phase, summed over its runs (pre-dump rounds). */
export function phaseMs(phases: PhaseTiming[], phase: MigrationPhase): number {
  return phases.filter((p) => p.phase === phase).reduce((a, p) => a + p.wallMs, 0);
}

function environmentOf(probes: CriuProbe[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const p of probes) {
    env[`${p.node}.kernel`] = p.kernel;
    env[`${p.node}.criu`] = p.criuVersion;
  }
  return env;
}

/** A migration that happened; without a prober, downtime is the sum of the phases the container was down in. */
export function migratedResult(s: Cleaned, m: ResultMeta, downtime: DowntimeMeasurement | null): LiveMigrationResult {
  const { plan, sent } = s;
  const ms = (p: MigrationPhase): number => phaseMs(m.phases, p);
  // post-copy: the memory the destination fetched after the restore (not in the pushed images)
  const lazyBytes = s.lazyBytes ?? 0;
  return {
    id: m.id,
    containerId: plan.container,
    from: plan.from,
    to: plan.to,
    mode: plan.mode,
    reason: m.reason,
    startS: m.startS,
    precopyRounds: s.rounds,
    precopyMs: ms('predump'),
    checkpointMs: ms('checkpoint'),
    transferMs: ms('transfer'),
    restoreMs: ms('restore'),
    lazyPagesMs: ms('lazy-pages'),
    downtimeMs: downtime ? downtime.downtimeMs : downFromPhases(m.phases),
    totalMs: m.totalMs,
    bytes: sent.checkpointBytes + lazyBytes + sent.bundleBytes,
    status: 'ok',
    phases: m.phases,
    verifyMs: ms('verify'),
    cleanupMs: ms('cleanup'),
    checkpointBytes: sent.checkpointBytes + lazyBytes,
    bundleBytes: sent.bundleBytes,
    rootfsCached: sent.rootfsCached,
    downtime,
    runningOn: plan.to,
    environment: environmentOf(s.facts.probes),
    ...(plan.mode === 'cold' ? { transport: coldTransportOf(m.phases) } : {}),
  };
}

/**
 * How a cold migration's memory travelled: `stream` when the transfer began before the dump
 * ended (CRIU's page server, disk-less), else `disk`. The record's transferMs then runs from the
 * checkpoint's start to the last image landing, which is what calibrate reads for `stream`.
 */
export function coldTransportOf(phases: PhaseTiming[]): ColdTransport {
  return overlapsDump(phases) ? 'stream' : 'disk';
}

function overlapsDump(phases: PhaseTiming[]): boolean {
  const ck = phases.filter((p) => p.phase === 'checkpoint').at(-1);
  const tr = phases.find((p) => p.phase === 'transfer');
  return Boolean(ck && tr && tr.startWallMs < ck.startWallMs + ck.wallMs);
}

/**
 * Downtime without a prober: checkpoint + transfer + restore, or, when the transfer overlapped
 * the dump (disk-less cold), from the start of the last checkpoint to the end of the restore.
 */
function downFromPhases(phases: PhaseTiming[]): number {
  const ck = phases.filter((p) => p.phase === 'checkpoint').at(-1);
  const rs = phases.filter((p) => p.phase === 'restore').at(-1);
  if (ck && rs && overlapsDump(phases)) return rs.startWallMs + rs.wallMs - ck.startWallMs;
  return phaseMs(phases, 'checkpoint') + phaseMs(phases, 'transfer') + phaseMs(phases, 'restore');
}

/** A dry run: only pre-flight ran; `bytes` is its estimate. */
export function dryRunResult(s: Prepared, m: ResultMeta): LiveMigrationResult {
  const { plan, facts } = s;
  return {
    id: m.id, containerId: plan.container, from: plan.from, to: plan.to, mode: plan.mode, reason: m.reason, startS: m.startS,
    precopyRounds: 0, precopyMs: 0, checkpointMs: 0, transferMs: 0, restoreMs: 0, lazyPagesMs: 0, downtimeMs: 0,
    totalMs: m.totalMs, bytes: facts.needBytes, status: 'ok', phases: m.phases, verifyMs: 0, cleanupMs: 0,
    checkpointBytes: 0, bundleBytes: 0, rootfsCached: facts.rootfsCached, downtime: null, runningOn: plan.from, environment: environmentOf(facts.probes),
    dryRun: { estimatedBytes: facts.needBytes, destinationFreeBytes: facts.freeBytes },
  };
}
