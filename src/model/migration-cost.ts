/**
 * Analytical cost of one container migration (cold, pre-copy, post-copy).
 *
 * Notation: M memory (MiB), I image/rootfs (MiB), D dirty rate (MiB/s),
 * W path bandwidth (Mbit/s), η transferEfficiency, ℓ one-way path latency (ms).
 *
 *   megabits(x)     = x * 8 * 1.048576                       (exact MiB -> Mbit)
 *   transfer(x)     = B + 2ℓ + megabits(x) / (η W) * 1000      [ms]; transfer(0) = 0 (nothing sent)
 *                     B = transferBaseMs: fixed start-up per transfer (ssh, tar), default 0
 *   checkpoint(x)   = checkpointBaseMs + checkpointMsPerMiB * x
 *   restore(x)      = restoreBaseMs + restoreMsPerMiB * x
 *   image           = imageCached ? 0 : I
 *
 * cold (stop, dump, copy, restore), coldTransport disk (the default):
 *   downtime = checkpoint(M) + transfer(M + image) + restore(M);  total = downtime
 *   bytes    = M + image
 *
 * cold, coldTransport stream (disk-less: CRIU's page server at the destination
 * receives pages as the dump writes them; the bundle is prepared before the freeze):
 *   the image is copied first, while running: t_img = transfer(image)
 *   pages flow from max(B + 2ℓ, checkpointBaseMs) after the freeze (the stream is
 *   set up and CRIU has collected the tasks and starts writing pages), at η W, and
 *   cannot overtake the dump; the last page lands at
 *   stream(M) = max(checkpoint(M), max(B + 2ℓ, checkpointBaseMs) + megabits(M) / (η W) * 1000)
 *   downtime = stream(M) + restore(M)   (restore starts when the last image lands)
 *            = checkpoint(M) + tail + restore(M),  tail = stream(M) - checkpoint(M) >= 0
 *   total = t_img + downtime;  bytes = image + M
 *   phases: checkpointMs = checkpoint(M), transferMs = stream(M) (both from the freeze)
 *   Assumes the dump writes pages at a constant rate (checkpointMsPerMiB) and the
 *   non-page images (a few KiB) follow the last page on the same stream.
 *
 * pre-copy (iterative, the container keeps running until the last round):
 *   the image is copied first, while running: t_img = transfer(image)
 *   round 0 copies x_0 = M; round k copies x_k = min(M, D * transfer(x_{k-1}) / 1000)
 *   rounds continue while the set to send is ≥ precopyStopMiB and fewer than
 *   precopyMaxRounds have run, and stop early when the next set would not be
 *   smaller (D ≥ η W: iterating cannot converge). Round 0 always runs.
 *   With x_f the dirty set left after the last round:
 *   downtime = checkpoint(x_f) + transfer(x_f) + restore(M)
 *              (restore still maps the whole memory image: CRIU restores all pages)
 *   total    = t_img + Σ transfer(x_k) + downtime;   bytes = image + Σ x_k + x_f
 *   converged = x_f < precopyStopMiB
 *   Note: pre-copy cost is not monotone in M or W at round boundaries (one more
 *   round can leave a smaller final set), which is inherent to iterative copying.
 *
 * post-copy (lazy pages):
 *   the image is copied first, while running: t_img = transfer(image)
 *   downtime = checkpoint(S) + transfer(S) + restore(S),  S = postcopyStateMiB
 *   then memory streams on demand: lazyPagesMs = transfer(M) at lazyPagesEfficiency
 *   (default transferEfficiency) instead of η
 *   total = t_img + downtime + lazyPagesMs;  bytes = image + S + M
 *   Requests served while pages stream pay postcopyFaultPenaltyMs (applied by the simulator).
 *
 * Sanity points. DEFAULT_MIGRATION_COST puts checkpoint of a ~124 MB container at
 * ≈0.21 s and restore at ≈0.18 s, as measured for runc/CRIU in ReSync (2025).
 * Ma et al. (IEEE TMC 2019, "Efficient live migration of edge services leveraging
 * container layered storage") report a busybox cold migration with Docker at
 * 600 Mbit/s of 7.5 s total / 3.5 s downtime; this model gives ≈0.2 s for a
 * busybox-sized container even with imageCached=false, because it has no Docker
 * daemon checkpoint/commit/pull overhead. It models runc+CRIU, not Docker.
 */
import type { ColdTransport, MigrationCostParams, MigrationMode } from './types.ts';
import { BYTES_PER_MIB, mibToMegabits } from './units.ts';

export interface MigrationEstimate {
  mode: MigrationMode;
  /** Time the service does not answer. */
  downtimeMs: number;
  /** From the decision to the end of the last byte (post-copy: lazy pages done). */
  totalMs: number;
  /** Bytes sent over the backhaul. */
  bytes: number;
  /** 'stream' for a streamed (disk-less) cold migration; undefined otherwise (disk cold, other modes). */
  transport?: ColdTransport;
  phases: {
    precopyRounds: number;
    /** Sum of the pre-copy rounds (container running). */
    precopyMs: number;
    checkpointMs: number;
    /** Transfer during the stop (cold: memory and, if not cached, image; streamed cold: from the freeze, overlapping the checkpoint). */
    transferMs: number;
    restoreMs: number;
    lazyPagesMs: number;
    /** Image copy while running (pre-copy, post-copy, streamed cold); disk cold includes it in transferMs. */
    imageMs: number;
  };
  converged: boolean;
}

export interface MigrationInput {
  memoryMiB: number;
  imageMiB: number;
  dirtyRateMiBps: number;
  mode: MigrationMode;
  bandwidthMbps: number;
  pathLatencyMs: number;
  cost: MigrationCostParams;
}

/**
 * Defaults for runc + CRIU. Checkpoint/restore fitted to ReSync (2025): a ~124 MB
 * (118 MiB) container checkpoints in ≈0.21 s and restores in ≈0.18 s:
 * 40 + 1.44 * 118.3 ≈ 210 ms and 50 + 1.10 * 118.3 ≈ 180 ms.
 */
export const DEFAULT_MIGRATION_COST: MigrationCostParams = Object.freeze({
  checkpointBaseMs: 40,
  checkpointMsPerMiB: 1.44,
  restoreBaseMs: 50,
  restoreMsPerMiB: 1.1,
  transferEfficiency: 0.9,
  imageCached: true,
  precopyStopMiB: 8,
  precopyMaxRounds: 8,
  postcopyStateMiB: 2,
  postcopyFaultPenaltyMs: 5,
});

export { mibToMegabits } from './units.ts';

export function checkpointMs(memoryMiB: number, cost: MigrationCostParams): number {
  return cost.checkpointBaseMs + cost.checkpointMsPerMiB * memoryMiB;
}

export function restoreMs(memoryMiB: number, cost: MigrationCostParams): number {
  return cost.restoreBaseMs + cost.restoreMsPerMiB * memoryMiB;
}

/** Goodput of a path (Mbit/s) after protocol overhead. */
export function effectiveBandwidthMbps(bandwidthMbps: number, cost: MigrationCostParams): number {
  return bandwidthMbps * cost.transferEfficiency;
}

/** Set-up of one transfer: its fixed start-up (transferBaseMs) and one path RTT. */
export function transferSetupMs(pathLatencyMs: number, cost?: Pick<MigrationCostParams, 'transferBaseMs'>): number {
  return (cost?.transferBaseMs ?? 0) + 2 * pathLatencyMs;
}

/** Time to send `mib` over an uncontended path; 0 when there is nothing to send. */
export function transferMs(mib: number, bandwidthMbps: number, pathLatencyMs: number, cost: MigrationCostParams): number {
  if (mib <= 0) return 0;
  return transferSetupMs(pathLatencyMs, cost) + (mibToMegabits(mib) / effectiveBandwidthMbps(bandwidthMbps, cost)) * 1000;
}

/**
 * Streamed (disk-less) cold: when the last page lands, measured from the freeze,
 * for `mib` of memory: max(checkpoint(mib), max(B + 2ℓ, checkpointBaseMs) + megabits(mib) / (η W) * 1000).
 * Pages cannot cross before the stream is set up, nor before CRIU writes them.
 */
export function streamMs(mib: number, bandwidthMbps: number, pathLatencyMs: number, cost: MigrationCostParams): number {
  const cp = checkpointMs(mib, cost);
  if (mib <= 0) return cp;
  const start = Math.max(transferSetupMs(pathLatencyMs, cost), cost.checkpointBaseMs);
  return Math.max(cp, start + (mibToMegabits(mib) / effectiveBandwidthMbps(bandwidthMbps, cost)) * 1000);
}

/** The post-copy background fetch's cost constants: lazyPagesEfficiency (if set) as the efficiency. */
export function lazyPagesCost(cost: MigrationCostParams): MigrationCostParams {
  return cost.lazyPagesEfficiency === undefined ? cost : { ...cost, transferEfficiency: cost.lazyPagesEfficiency };
}

export function estimateMigration(input: MigrationInput): MigrationEstimate {
  const { memoryMiB: mem, cost } = input;
  const tr = (mib: number): number => transferMs(mib, input.bandwidthMbps, input.pathLatencyMs, cost);
  const imageMiB = cost.imageCached ? 0 : input.imageMiB;

  if (input.mode === 'cold' && cost.coldTransport === 'stream') {
    const imageMs = tr(imageMiB);
    const cp = checkpointMs(mem, cost);
    const t = streamMs(mem, input.bandwidthMbps, input.pathLatencyMs, cost);
    const rs = restoreMs(mem, cost);
    const downtimeMs = t + rs;
    return {
      mode: 'cold',
      downtimeMs,
      totalMs: imageMs + downtimeMs,
      bytes: (mem + imageMiB) * BYTES_PER_MIB,
      transport: 'stream',
      phases: { precopyRounds: 0, precopyMs: 0, checkpointMs: cp, transferMs: t, restoreMs: rs, lazyPagesMs: 0, imageMs },
      converged: true,
    };
  }

  if (input.mode === 'cold') {
    const cp = checkpointMs(mem, cost);
    const t = tr(mem + imageMiB);
    const rs = restoreMs(mem, cost);
    const downtimeMs = cp + t + rs;
    return {
      mode: 'cold',
      downtimeMs,
      totalMs: downtimeMs,
      bytes: (mem + imageMiB) * BYTES_PER_MIB,
      phases: { precopyRounds: 0, precopyMs: 0, checkpointMs: cp, transferMs: t, restoreMs: rs, lazyPagesMs: 0, imageMs: 0 },
      converged: true,
    };
  }

  const imageMs = tr(imageMiB);

  if (input.mode === 'postcopy') {
    const state = cost.postcopyStateMiB;
    const cp = checkpointMs(state, cost);
    const t = tr(state);
    const rs = restoreMs(state, cost);
    const lazy = transferMs(mem, input.bandwidthMbps, input.pathLatencyMs, lazyPagesCost(cost));
    const downtimeMs = cp + t + rs;
    return {
      mode: 'postcopy',
      downtimeMs,
      totalMs: imageMs + downtimeMs + lazy,
      bytes: (imageMiB + state + mem) * BYTES_PER_MIB,
      phases: { precopyRounds: 0, precopyMs: 0, checkpointMs: cp, transferMs: t, restoreMs: rs, lazyPagesMs: lazy, imageMs },
      converged: true,
    };
  }

  // pre-copy
  let dirty = mem;
  let rounds = 0;
  let precopyMs = 0;
  let sentMiB = 0;
  while (rounds < cost.precopyMaxRounds && (rounds === 0 || dirty >= cost.precopyStopMiB)) {
    const d = tr(dirty);
    const next = Math.min(mem, (input.dirtyRateMiBps * d) / 1000);
    if (rounds > 0 && next >= dirty) break; // not shrinking: another round cannot help
    precopyMs += d;
    sentMiB += dirty;
    rounds++;
    dirty = next;
  }
  const cp = checkpointMs(dirty, cost);
  const t = tr(dirty);
  const rs = restoreMs(mem, cost);
  const downtimeMs = cp + t + rs;
  return {
    mode: 'precopy',
    downtimeMs,
    totalMs: imageMs + precopyMs + downtimeMs,
    bytes: (imageMiB + sentMiB + dirty) * BYTES_PER_MIB,
    phases: { precopyRounds: rounds, precopyMs, checkpointMs: cp, transferMs: t, restoreMs: rs, lazyPagesMs: 0, imageMs },
    converged: dirty < cost.precopyStopMiB,
  };
}
