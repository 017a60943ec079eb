/**
 * The transitions that move the container, each from one state to the next
 * (state.ts): checkpoint, restore, verify, clean up. Each irreversible command
 * is preceded by `ctx.enter(...)` of the state that says it may have happened.
 */
import { ConmigError } from '../../model/errors.ts';
import type { Inventory, InventoryNode } from '../inventory.ts';
import { tail } from '../exec/types.ts';
import { waitHealthy } from './health.ts';
import type { MigrationNode, NodeFactory } from './node.ts';
import { cleanUpOf } from './rollback-plan.ts';
import { cleanUp } from './rollback.ts';
import {
  roundsOf,
  type Checkpointed,
  type Checkpointing,
  type Cleaned,
  type Fetched,
  type MigrationState,
  type Predumped,
  type Prepared,
  type Restored,
  type Restoring,
  type Transferred,
  type Verified,
} from './state.ts';

/** What the transitions work with; none of it is part of the state. */
export interface StepContext {
  inventory: Inventory;
  from: InventoryNode;
  to: InventoryNode;
  src: MigrationNode;
  dst: MigrationNode;
  nodeOf: NodeFactory;
  /**
   * Make `s` the migration's state now, before an irreversible command: a failure from
   * here is rolled back from it. The one place a journal records "about to ...".
   */
  enter(s: MigrationState): Promise<void>;
  verifyTimeoutMs: number;
  /** Post-copy: run the lazy-pages daemon with the node's CRIU even where `criu-lazy-pages` is installed. */
  stockLazyDaemon?: boolean;
}

/** The final dump: the container stops, its checkpoint stays on the source. */
export async function checkpoint(ctx: StepContext, s: Prepared | Predumped): Promise<Checkpointed> {
  const { plan } = s;
  const rounds = roundsOf(s);
  const dumping: Checkpointing = { ...s, kind: 'checkpointing', rounds, checkpoint: { node: plan.from, dir: plan.srcDir, bundle: s.facts.srcBundle } };
  await ctx.enter(dumping);
  const r = await ctx.src.checkpoint(plan.container, plan.srcDir, rounds);
  if (r.ok) return { ...dumping, kind: 'checkpointed' };
  const after = await ctx.src.containerState(plan.container).catch(() => null);
  if (after && after.status === 'running') {
    await ctx.enter(s); // still running: nothing was changed but the dump's files
    throw new ConmigError('MIGRATION_FAILED', `runc checkpoint of "${plan.container}" failed on ${plan.from}; the container still runs there, nothing was changed`, {
      context: { node: plan.from, phase: 'checkpoint', runningOn: plan.from, stderr: r.stderr, criuLog: r.log },
    });
  }
  await ctx.enter({ ...dumping, kind: 'checkpointed' }); // it stopped: bring it back from whatever was written
  throw new ConmigError('MIGRATION_FAILED', `runc checkpoint of "${plan.container}" failed on ${plan.from}`, {
    context: { node: plan.from, phase: 'checkpoint', stderr: r.stderr, criuLog: r.log },
  });
}

export async function restore(ctx: StepContext, s: Transferred): Promise<Restored> {
  const { plan, facts } = s;
  const restoring: Restoring = { ...s, kind: 'restoring', destination: { node: plan.to, container: plan.container, bundle: facts.dstBundle } };
  await ctx.enter(restoring);
  const r = await ctx.dst.restore(plan.container, plan.dstDir, facts.dstBundle);
  if (!r.ok) {
    throw new ConmigError('MIGRATION_FAILED', `runc restore of "${plan.container}" failed on ${plan.to}`, {
      context: { node: plan.to, phase: 'restore', criuLog: tail(r.log, 15) },
    });
  }
  return { ...restoring, kind: 'restored' };
}

/** The container runs at the destination and, if it has a port, answers there. */
export async function verify(ctx: StepContext, s: Restored | Fetched): Promise<Verified> {
  const { plan } = s;
  const st = await ctx.dst.containerState(plan.container);
  if (!st || st.status !== 'running') {
    throw new ConmigError('MIGRATION_FAILED', `"${plan.container}" is ${st?.status ?? 'missing'} on ${plan.to} after restore`, {
      context: { node: plan.to, phase: 'verify' },
    });
  }
  if (plan.service) {
    const { port, healthPath } = plan.service;
    if (!(await waitHealthy(ctx.to.address, port, healthPath, ctx.verifyTimeoutMs))) {
      throw new ConmigError('MIGRATION_FAILED', `"${plan.container}" does not answer http://${ctx.to.address}:${port}${healthPath} on ${plan.to} after restore`, {
        context: { node: plan.to, phase: 'verify' },
      });
    }
  }
  return { ...s, kind: 'verified', ...('lazyBytes' in s ? { lazyBytes: s.lazyBytes } : {}) };
}

/** The source's container state and both checkpoint folders go (the source's bundle stays: a rootfs cache for the way back). */
export async function cleanup(ctx: StepContext, s: Verified): Promise<Cleaned> {
  await cleanUp(cleanUpOf(s), ctx.nodeOf);
  return { ...s, kind: 'cleaned' };
}

// ---- post-copy (CRIU lazy pages) ----

/**
 * Post-copy's dump: everything but the memory goes to `<dir>/img`; CRIU keeps the memory (the
 * container frozen) and serves it from a page server on the source's address. Like the cold
 * dump, a failure while the container still runs changes nothing.
 */
export async function lazyCheckpoint(ctx: StepContext, s: Prepared): Promise<Checkpointed> {
  const { plan } = s;
  const dumping: Checkpointing = { ...s, kind: 'checkpointing', rounds: 0, checkpoint: { node: plan.from, dir: plan.srcDir, bundle: s.facts.srcBundle } };
  await ctx.enter(dumping);
  const r = await ctx.src.lazyCheckpoint(plan.container, plan.srcDir, ctx.from.address);
  if (r.ok && r.port !== undefined) return { ...dumping, kind: 'checkpointed', lazy: { port: r.port } };
  await ctx.src.abortLazyDump(plan.srcDir).catch(() => undefined);
  const after = await ctx.src.containerState(plan.container).catch(() => null);
  if (after && after.status === 'running') {
    await ctx.enter(s);
    throw new ConmigError('MIGRATION_FAILED', `runc checkpoint --lazy-pages of "${plan.container}" failed on ${plan.from}; the container still runs there, nothing was changed`, {
      context: { node: plan.from, phase: 'checkpoint', runningOn: plan.from, stderr: r.ok ? '' : r.stderr, criuLog: r.ok ? '' : r.log },
    });
  }
  throw new ConmigError('MIGRATION_FAILED', `runc checkpoint --lazy-pages of "${plan.container}" failed on ${plan.from}`, {
    context: { node: plan.from, phase: 'checkpoint', stderr: r.ok ? '' : r.stderr, criuLog: r.ok ? '' : r.log },
  });
}

/** Post-copy's restore: the lazy-pages daemon at the destination, then `runc restore --lazy-pages`. */
export async function lazyRestore(ctx: StepContext, s: Transferred): Promise<Restored> {
  const { plan, facts } = s;
  if (!s.lazy) throw new ConmigError('MIGRATION_FAILED', `post-copy restore of "${plan.container}" without a lazy checkpoint`, { context: { phase: 'restore' } });
  const restoring: Restoring = { ...s, kind: 'restoring', destination: { node: plan.to, container: plan.container, bundle: facts.dstBundle } };
  await ctx.enter(restoring);
  const r = await ctx.dst.lazyRestore(plan.container, plan.dstDir, facts.dstBundle, ctx.from.address, s.lazy.port, { stockDaemon: ctx.stockLazyDaemon === true });
  if (!r.ok) {
    throw new ConmigError('MIGRATION_FAILED', `runc restore --lazy-pages of "${plan.container}" failed on ${plan.to}`, {
      context: { node: plan.to, phase: 'restore', stderr: r.stderr, criuLog: tail(r.log, 15) },
    });
  }
  return { ...restoring, kind: 'restored' };
}

/**
 * Post-copy's `lazy-pages` phase: the container runs at the destination while its pages
 * arrive. Ends only when the destination's lazy-pages daemon says every page is in (exit 0)
 * and the source's lazy dump ended; a daemon that failed has already killed its container
 * (node side), and the failure is rolled back from `restored`: the source's copy resumes.
 */
export async function fetchPages(ctx: StepContext, s: Restored, timeoutMs: number): Promise<Fetched> {
  const { plan } = s;
  const [d, src] = await Promise.all([ctx.dst.lazyWait(plan.dstDir, timeoutMs), ctx.src.lazyDumpWait(plan.srcDir, timeoutMs).catch(() => ({ rc: null, lazyBytes: 0 }))]);
  if (!d.ok) {
    throw new ConmigError('MIGRATION_FAILED', `post-copy page fetch of "${plan.container}" failed on ${plan.to} before the last page arrived (${d.stderr}); the destination's partial copy was killed`, {
      context: { node: plan.to, phase: 'lazy-pages', criuLog: tail(d.log, 15), sourceDump: src.rc === null ? 'still running' : `exit ${src.rc}` },
    });
  }
  return { ...s, kind: 'fetched', lazyBytes: src.lazyBytes };
}

// ---- disk-less cold (CRIU page server on the destination) ----

/**
 * Before the freeze: the destination's bundle (config.json for that node) and a one-shot
 * `criu page-server` listening on its address, ready for the dump's memory. Its port.
 */
export async function prepareDiskless(ctx: StepContext, s: Prepared, config: string): Promise<number> {
  const { plan, facts } = s;
  const [, port] = await Promise.all([ctx.dst.prepareBundle(facts.dstBundle, config), ctx.dst.startPageServer(plan.dstDir, ctx.to.address)]);
  if (!(port > 0)) throw new ConmigError('COMMAND_FAILED', `criu page-server on ${plan.to} gave no port`, { context: { node: plan.to } });
  return port;
}

/**
 * The disk-less dump: the memory pages stream to the destination's page server while CRIU
 * dumps (no memory image on the source's disk); the rest lands in `<dir>/img` on the source.
 * A failure while the container still runs changes nothing (the caller then falls back to
 * the dump to disk).
 */
export async function streamCheckpoint(ctx: StepContext, s: Prepared, port: number): Promise<Checkpointed> {
  const { plan } = s;
  const dumping: Checkpointing = {
    ...s,
    kind: 'checkpointing',
    rounds: 0,
    checkpoint: { node: plan.from, dir: plan.srcDir, bundle: s.facts.srcBundle, pagesAt: { node: plan.to, dir: plan.dstDir } },
  };
  await ctx.enter(dumping);
  const r = await ctx.src.streamCheckpoint(plan.container, plan.srcDir, ctx.to.address, port);
  if (r.ok) return { ...dumping, kind: 'checkpointed', streamedBytes: r.pageBytes ?? 0 };
  const after = await ctx.src.containerState(plan.container).catch(() => null);
  if (after && after.status === 'running') {
    await ctx.enter(s);
    throw new ConmigError('MIGRATION_FAILED', `runc checkpoint --page-server of "${plan.container}" failed on ${plan.from}; the container still runs there, nothing was changed`, {
      context: { node: plan.from, phase: 'checkpoint', runningOn: plan.from, stderr: r.stderr, criuLog: r.log, diskless: 'failed' },
    });
  }
  await ctx.enter({ ...dumping, kind: 'checkpointed' });
  throw new ConmigError('MIGRATION_FAILED', `runc checkpoint --page-server of "${plan.container}" failed on ${plan.from}`, {
    context: { node: plan.from, phase: 'checkpoint', stderr: r.stderr, criuLog: r.log },
  });
}
