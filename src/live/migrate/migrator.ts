/**
 * The real migration primitive: move a running runc container from one
 * inventory node to another with CRIU, node to node, and never lose it.
 *
 * Each phase (timed with performance.now) takes the migration from one state
 * to the next (state.ts):
 *
 *   preflight -> [predump x N] -> checkpoint -> transfer -> restore -> verify -> cleanup
 *
 * and a failure is handled from the state it leaves, by planRollback
 * (rollback-plan.ts): before the checkpoint nothing was changed and the
 * error stands; from the checkpoint until verified, the destination is
 * cleared and the container restored on the source from its local
 * checkpoint, so it runs on exactly one node. Every file operation runs on
 * the node it concerns: nothing assumes a shared filesystem or kernel.
 */
import { performance } from 'node:perf_hooks';
import { ConmigError, isConmigError } from '../../model/errors.ts';
import type { MigrationMode } from '../../model/types.ts';
import type { Inventory, InventoryNode } from '../inventory.ts';
import { nodeByName } from '../inventory.ts';
import { bundleConfigForNode } from '../testbed/bundle.ts';
import type { CriuProbe } from '../criu-probe.ts';
import { SshExecPool, type ExecPool } from '../exec/pool.ts';
import { tail, type NodeExec } from '../exec/types.ts';
import { waitHealthy } from './health.ts';
import type { MigrationNode, NodeFactory, TransferChannel } from './node.ts';
import { ShellNode } from './shell-node.ts';
import { DowntimeProber } from './prober.ts';
import { preflight } from './preflight.ts';
import { planRollback } from './rollback-plan.ts';
import { cleanUp, removeDirs, rollBack } from './rollback.ts';
import type { Checkpointing, MigrationState, Restored, Restoring } from './state.ts';

export { locateContainer } from './locate.ts';
export { POSTCOPY_REFUSAL } from './preflight.ts';
import type { LiveMigrationResult, MigrationPhase, PhaseTiming } from './result.ts';

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
  /** Pre-copy rounds before the final dump. */
  precopyRounds?: number;
  /** Only run the pre-flight checks (nothing is changed on any node) and report. */
  dryRun?: boolean;
  /** Cache of CRIU probes by node (one probe per node per command). */
  probeCache?: Map<string, CriuProbe>;
  id?: number;
  reason?: string;
  /** Progress (the CLI shows it); called at the start and end of each phase. */
  onPhase?: (phase: MigrationPhase, state: 'start' | 'end', wallMs: number) => void;
}

function interrupted(): ConmigError {
  return new ConmigError('INTERRUPTED', 'interrupted');
}

/** Run one live migration; see the file comment. */
export async function migrateContainer(opts: MigrateOptions): Promise<LiveMigrationResult> {
  const inv = opts.inventory;
  const id = opts.container;
  const mode = opts.mode;
  const from = nodeByName(inv, opts.from);
  const to = nodeByName(inv, opts.to);
  if (from.name === to.name) {
    throw new ConmigError('USAGE', `--from and --to are the same node (${from.name})`);
  }
  const ownPool = !opts.pool;
  const pool = opts.pool ?? new SshExecPool(inv);
  const nodeOf: NodeFactory = (name) => new ShellNode(nodeByName(inv, name), pool.get(name));
  const src: MigrationNode = nodeOf(from.name);
  const dst: MigrationNode = nodeOf(to.name);
  const healthPath = opts.healthPath ?? '/health';
  const port = opts.port ?? inv.containers.find((c) => c.name === id)?.port;
  const t0 = performance.now();
  const startEpochS = Date.now() / 1000;
  const phases: PhaseTiming[] = [];
  const stamp = `${id}-${new Date().toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}-${process.pid}`;
  const srcDir = `${from.workDir}/checkpoints/${stamp}`;
  const dstDir = `${to.workDir}/checkpoints/${stamp}`;
  const hookCtx: HookContext = { container: id, from, to, srcDir, dstDir, exec: (n) => pool.get(n) };
  const isAborted = (): boolean => opts.signal?.aborted === true;
  const plan = { container: id, mode, from: from.name, to: to.name, srcDir, dstDir, service: port === undefined ? null : { port, healthPath } };
  /** Where the migration is: a failure is rolled back from it. */
  let state: MigrationState = { kind: 'planned', plan };
  /** The phase running (or last run) when something fails. */
  let current: MigrationPhase = 'preflight';

  async function phase<T>(name: MigrationPhase, fn: () => Promise<T>, note?: string): Promise<T> {
    await opts.hooks?.beforePhase?.(name, hookCtx);
    const s = performance.now();
    current = name;
    opts.onPhase?.(name, 'start', 0);
    try {
      return await fn();
    } finally {
      const wallMs = performance.now() - s;
      phases.push({ phase: name, wallMs, startWallMs: s - t0, ...(note ? { note } : {}) });
      opts.onPhase?.(name, 'end', wallMs);
    }
  }
  const sumPhase = (name: MigrationPhase): number => phases.filter((p) => p.phase === name).reduce((a, p) => a + p.wallMs, 0);

  let prober: DowntimeProber | null = null;
  const ctlSock = `/tmp/conmig-${process.pid}-${stamp.slice(-20).replace(/[^A-Za-z0-9-]/g, '')}.ctl`;
  const channel: TransferChannel = { from: from.name, to: to.name, ctlSock };
  try {
    // ------------------------------------------------------------------ preflight
    const pre = await phase('preflight', async () => {
      const facts = await preflight({
        inventory: inv,
        container: id,
        mode,
        from,
        to,
        src,
        dst,
        nodeOf,
        channel,
        probeCache: opts.probeCache,
        dryRun: opts.dryRun === true,
      });
      return facts;
    });
    state = { kind: 'prepared', plan, facts: pre, channel };
    if (isAborted()) throw interrupted();
    if (opts.dryRun) {
      const env: Record<string, string> = {};
      for (const p of pre.probes) {
        env[`${p.node}.kernel`] = p.kernel;
        env[`${p.node}.criu`] = p.criuVersion;
      }
      return {
        id: opts.id ?? 0, containerId: id, from: from.name, to: to.name, mode, reason: opts.reason ?? 'dry-run', startS: startEpochS,
        precopyRounds: 0, precopyMs: 0, checkpointMs: 0, transferMs: 0, restoreMs: 0, lazyPagesMs: 0, downtimeMs: 0,
        totalMs: performance.now() - t0, bytes: pre.needBytes, status: 'ok', phases, verifyMs: 0, cleanupMs: 0,
        checkpointBytes: 0, bundleBytes: 0, rootfsCached: pre.rootfsCached, downtime: null, runningOn: from.name, environment: env,
        dryRun: { estimatedBytes: pre.needBytes, destinationFreeBytes: pre.freeBytes },
      };
    }

    if (port !== undefined && opts.probe !== false) {
      prober = new DowntimeProber({ address: from.address, port, path: healthPath, intervalMs: opts.probeIntervalMs ?? 10 });
      prober.start();
      await new Promise((r) => setTimeout(r, 50)); // a baseline of successes before the freeze
    }

    // From here on the container is touched: a failure is rolled back from the state reached.
    let precopyRounds = 0;
    let checkpointBytes = 0;
    let bundleBytes = 0;
    let rootfsCached = pre.rootfsCached;
    try {
      // ---------------------------------------------------------------- pre-copy
      if (mode === 'precopy') {
        const rounds = opts.precopyRounds ?? 2;
        for (let k = 1; k <= rounds; k++) {
          if (isAborted()) break;
          await phase(
            'predump',
            async () => {
              await src.predump(id, srcDir, k);
              await src.pushDir(channel, to, srcDir, dstDir, `pre${k}`);
            },
            `round ${k}`,
          );
          precopyRounds = k;
          state = { kind: 'predumped', plan, facts: pre, channel, rounds: k };
        }
      }
      if (isAborted()) throw interrupted();

      // ---------------------------------------------------------------- checkpoint
      const dumping: Checkpointing = { kind: 'checkpointing', plan, facts: pre, channel, rounds: precopyRounds, checkpoint: { node: from.name, dir: srcDir, bundle: pre.srcBundle } };
      await phase('checkpoint', async () => {
        const before = state;
        state = dumping; // the container may stop from here
        const r = await src.checkpoint(id, srcDir, precopyRounds);
        if (!r.ok) {
          const after = await src.containerState(id).catch(() => null);
          if (after && after.status === 'running') {
            state = before; // still running: nothing was changed but the dump's files
            throw new ConmigError('MIGRATION_FAILED', `runc checkpoint of "${id}" failed on ${from.name}; the container still runs there, nothing was changed`, {
              context: { node: from.name, phase: 'checkpoint', runningOn: from.name, stderr: r.stderr, criuLog: r.log },
            });
          }
          state = { ...dumping, kind: 'checkpointed' }; // it stopped: bring it back from whatever was written
          throw new ConmigError('MIGRATION_FAILED', `runc checkpoint of "${id}" failed on ${from.name}`, {
            context: { node: from.name, phase: 'checkpoint', stderr: r.stderr, criuLog: r.log },
          });
        }
        state = { ...dumping, kind: 'checkpointed' };
      });
      if (isAborted()) throw interrupted();

      // ---------------------------------------------------------------- transfer
      await phase('transfer', async () => {
        const netnsPath = to.netns ? `/run/netns/${to.netns}` : null;
        const configCached = bundleConfigForNode(pre.config, netnsPath, { rootfsPath: pre.dstRootfs });
        const configSent = bundleConfigForNode(pre.config, netnsPath, { rootfsPath: `${pre.dstBundle}/rootfs` });
        const pushed = await src.pushCheckpoint(channel, to, {
          srcDir,
          dstDir,
          srcRootfs: pre.srcRootfs,
          manifest: pre.manifest,
          rootfsCached: pre.rootfsCached,
          dstBundle: pre.dstBundle,
          configCached,
          configSent,
        });
        checkpointBytes = pushed.imageBytes;
        rootfsCached = pushed.rootfsCached;
        if (precopyRounds > 0) checkpointBytes += await src.dirBytes(Array.from({ length: precopyRounds }, (_, k) => `${srcDir}/pre${k + 1}`));
        bundleBytes = Buffer.byteLength(rootfsCached ? configCached : configSent) + (rootfsCached ? 0 : pushed.rootfsBytes);
      });
      const transferred = { ...dumping, kind: 'transferred' as const, sent: { checkpointBytes, bundleBytes, rootfsCached } };
      state = transferred;
      if (isAborted()) throw interrupted();

      // ---------------------------------------------------------------- restore
      const restored = await phase('restore', async (): Promise<Restored> => {
        prober?.addTarget(to.address);
        const restoring: Restoring = { ...transferred, kind: 'restoring', destination: { node: to.name, container: id, bundle: pre.dstBundle } };
        state = restoring; // the destination may hold the container from here
        const r = await dst.restore(id, dstDir, pre.dstBundle);
        if (!r.ok) {
          throw new ConmigError('MIGRATION_FAILED', `runc restore of "${id}" failed on ${to.name}`, {
            context: { node: to.name, phase: 'restore', criuLog: tail(r.log, 15) },
          });
        }
        return { ...restoring, kind: 'restored' };
      });
      state = restored;
      // no interruption check here: a restored container is verified before anything else

      // ---------------------------------------------------------------- verify
      await phase('verify', async () => {
        const s = await dst.containerState(id);
        if (!s || s.status !== 'running') {
          throw new ConmigError('MIGRATION_FAILED', `"${id}" is ${s?.status ?? 'missing'} on ${to.name} after restore`, {
            context: { node: to.name, phase: 'verify' },
          });
        }
        if (port !== undefined) {
          const ok = await waitHealthy(to.address, port, healthPath, opts.verifyTimeoutMs ?? 10_000);
          if (!ok) {
            throw new ConmigError('MIGRATION_FAILED', `"${id}" does not answer http://${to.address}:${port}${healthPath} on ${to.name} after restore`, {
              context: { node: to.name, phase: 'verify' },
            });
          }
        }
      });
      state = { ...restored, kind: 'verified' };
    } catch (e) {
      const failedPhase = current;
      const decision = planRollback(state);
      if (decision.direction !== 'back') {
        // nothing was changed: only files of ours (pre-dump rounds, a failed dump's logs) to remove
        if (decision.direction === 'none') await removeDirs(decision.removeDirs, nodeOf);
        if (prober) await prober.stop();
        throw e;
      }
      const rb = await phase('rollback', () => rollBack(decision, { inventory: inv, nodeOf }));
      if (prober) await prober.stop();
      const cause = e instanceof Error ? e.message : String(e);
      if (isConmigError(e) && e.code === 'INTERRUPTED') {
        throw new ConmigError('INTERRUPTED', `interrupted during ${failedPhase}; ${rb.summary}`, {
          context: { container: id, phase: failedPhase, runningOn: rb.runningOn ?? 'unknown', rollback: rb.details },
        });
      }
      throw new ConmigError('MIGRATION_FAILED', `migration of "${id}" from ${from.name} to ${to.name} failed during ${failedPhase}: ${cause}; ${rb.summary}`, {
        context: {
          container: id,
          phase: failedPhase,
          runningOn: rb.runningOn ?? 'unknown',
          rollback: rb.details,
          ...(isConmigError(e) ? { node: e.context.node, stderr: e.context.stderr, criuLog: e.context.criuLog, command: e.context.command } : {}),
        },
        cause: e,
      });
    }

    // -------------------------------------------------------------------- cleanup
    // The destination is verified: from here the migration has happened, even if interrupted.
    await phase('cleanup', async () => {
      await cleanUp({ source: { node: from.name, container: id, dir: srcDir }, destination: { node: to.name, dir: dstDir } }, nodeOf);
    });
    const downtime = prober ? await prober.stop() : null;
    prober = null;
    const totalMs = performance.now() - t0;
    const env: Record<string, string> = {};
    for (const p of pre.probes) {
      env[`${p.node}.kernel`] = p.kernel;
      env[`${p.node}.criu`] = p.criuVersion;
    }
    const result: LiveMigrationResult = {
      id: opts.id ?? 0,
      containerId: id,
      from: from.name,
      to: to.name,
      mode,
      reason: opts.reason ?? 'manual',
      startS: startEpochS,
      precopyRounds,
      precopyMs: sumPhase('predump'),
      checkpointMs: sumPhase('checkpoint'),
      transferMs: sumPhase('transfer'),
      restoreMs: sumPhase('restore'),
      lazyPagesMs: 0,
      downtimeMs: downtime ? downtime.downtimeMs : sumPhase('checkpoint') + sumPhase('transfer') + sumPhase('restore'),
      totalMs,
      bytes: checkpointBytes + bundleBytes,
      status: 'ok',
      phases,
      verifyMs: sumPhase('verify'),
      cleanupMs: sumPhase('cleanup'),
      checkpointBytes,
      bundleBytes,
      rootfsCached,
      downtime,
      runningOn: to.name,
      environment: env,
    };
    if (isAborted()) {
      throw new ConmigError('INTERRUPTED', `interrupted after the migration completed: "${id}" runs on ${to.name}`, {
        context: { container: id, runningOn: to.name },
      });
    }
    return result;
  } finally {
    if (prober) await prober.stop();
    if (state.kind !== 'planned') await src.closeChannel(channel, to).catch(() => undefined);
    if (ownPool) await pool.closeAll();
  }
}

