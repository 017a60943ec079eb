/**
 * The real migration primitive: move a running runc container from one
 * inventory node to another with CRIU, node to node, and never lose it.
 *
 *   preflight -> [predump x N] -> checkpoint -> transfer -> restore -> [lazy-pages] -> verify -> cleanup
 *
 * Post-copy (--mode postcopy): the checkpoint leaves the memory in the source's CRIU, the
 * restore starts the container at the destination at once, and `lazy-pages` lasts until the
 * destination has fetched every page (state `fetched`); only then is it verified.
 *
 * Each phase takes the migration from one state to the next (state.ts:
 * planned, prepared, [predumped], checkpointing, checkpointed, transferred,
 * restoring, restored, verified, cleaned). A failure anywhere, Ctrl-C
 * included, is handled from the state it leaves (rollback-plan.ts): before
 * the checkpoint nothing was changed and the error stands; from the
 * checkpoint until verified the container goes back to the source (the
 * destination is cleared first); once verified the migration is finished.
 * Every node-side step runs on the node it concerns (node.ts): nothing
 * assumes a shared filesystem or kernel.
 */
import type { MigrateOptions } from './options.ts';
import { preflight } from './preflight.ts';
import type { LiveMigrationResult } from './result.ts';
import { MigrationRun } from './run.ts';
import { isConmigError } from '../../model/errors.ts';
import { tail } from '../exec/types.ts';
import { checkpoint, cleanup, fetchPages, lazyCheckpoint, lazyRestore, prepareDiskless, restore, streamCheckpoint, verify, type StepContext } from './steps.ts';
import { destinationConfigs, predumpRound, preparePush, transfer } from './transfer.ts';
import type { Checkpointed, Predumped, Prepared } from './state.ts';

export type { HookContext, MigrateOptions, MigrationHooks } from './options.ts';
export { locateContainer } from './locate.ts';

/** Run one live migration; see the file comment. */
export async function migrateContainer(opts: MigrateOptions): Promise<LiveMigrationResult> {
  const run = new MigrationRun(opts);
  const ctx = run.ctx;
  try {
    await run.begin();
    let ready: Prepared | Predumped = await run.step('preflight', () =>
      preflight(ctx, run.plan, run.channel, { probeCache: opts.probeCache, dryRun: opts.dryRun === true }),
    );
    run.checkInterrupt();
    if (opts.dryRun) return await run.dryRunResult(ready);
    // the prober's baseline of answers before the freeze (50 ms) overlaps the cold push's set-up
    const prober = run.startProber();
    if (opts.mode === 'cold' && opts.diskless !== true && ready.kind === 'prepared' && ctx.src.preparePush) {
      const s = ready;
      const ok = await run.phase('preflight', () => preparePush(ctx, s), `push to ${run.plan.to} prepared before the freeze`).catch(async (e: unknown) => {
        await prober;
        throw e;
      });
      if (!ok) run.noteLast('could not be: the push takes the ordinary path');
    }
    await prober;

    // From here on the container is touched: a failure is rolled back from the state reached.
    if (opts.mode === 'precopy') {
      const rounds = opts.precopyRounds ?? 2;
      for (let k = 1; k <= rounds && !run.aborted; k++) {
        const before: Prepared | Predumped = ready;
        ready = await run.step('predump', () => predumpRound(ctx, before), `round ${k}`);
      }
    }
    run.checkInterrupt();
    const lazy = opts.mode === 'postcopy';
    const from: Prepared | Predumped = ready;
    let transferStart: number | undefined;
    let checkpointed: Checkpointed;
    if (lazy && from.kind === 'prepared') checkpointed = await run.step('checkpoint', () => lazyCheckpoint(ctx, from));
    else if (opts.mode === 'cold' && opts.diskless === true && from.kind === 'prepared') ({ state: checkpointed, transferStart } = await coldCheckpoint(run, ctx, from));
    else checkpointed = await run.step('checkpoint', () => checkpoint(ctx, from));
    run.checkInterrupt();
    // disk-less: the transfer began with the dump (the phases' startWallMs show the overlap)
    const transferred = await run.step('transfer', () => transfer(ctx, checkpointed), transferStart === undefined ? undefined : 'disk-less: began with the dump', transferStart);
    run.checkInterrupt();
    const restored = await run.step('restore', () => {
      run.probeDestination();
      return lazy ? lazyRestore(ctx, transferred) : restore(ctx, transferred);
    });
    // no interruption check here: a restored container is verified before anything else;
    // post-copy: not before its last page arrived
    const complete = lazy ? await run.step('lazy-pages', () => fetchPages(ctx, restored, opts.lazyTimeoutMs ?? 900_000)) : restored;
    const verified = await run.step('verify', () => verify(ctx, complete));

    // Verified: from here the migration has happened, even if interrupted.
    const cleaned = await run.step('cleanup', () => cleanup(ctx, verified));
    const result = await run.result(cleaned);
    run.checkInterruptAfterCompletion();
    return result;
  } catch (e) {
    throw await run.fail(e);
  } finally {
    await run.release();
  }
}

/**
 * Cold's dump: disk-less when it can be (the memory streams to a `criu page-server` on the
 * destination while CRIU dumps, the destination's bundle written before the freeze), else to
 * the source's disk as before. The choice is made by trying, before anything irreversible:
 * the page server must start on the destination, and the streaming dump must connect to it
 * (CRIU connects before it dumps any memory; a dump that fails while the container still runs
 * changed nothing). Either failure falls back to the dump to disk, said in the phase's note.
 */
async function coldCheckpoint(run: MigrationRun, ctx: StepContext, s: Prepared): Promise<{ state: Checkpointed; transferStart?: number }> {
  const to = s.plan.to;
  let why: string;
  let port: number | null = null;
  try {
    const { configCached, configSent } = destinationConfigs(ctx, s);
    // the push's session set up beside it (best effort: preparePush says false, never throws but for an unreachable node)
    [port] = await run.phase('preflight', () => Promise.all([prepareDiskless(ctx, s, s.facts.rootfsCached ? configCached : configSent), preparePush(ctx, s)]), `disk-less: bundle and criu page-server ready on ${to}`);
  } catch (e) {
    // a node that cannot be reached is a failure (nothing was changed yet), not a reason to fall back
    if (isConmigError(e) && ['NODE_UNREACHABLE', 'HOSTKEY_MISMATCH', 'INTERRUPTED'].includes(e.code)) throw e;
    why = `no page server on ${to} (${e instanceof Error ? e.message : String(e)})`;
    await ctx.dst.stopPageServer(s.plan.dstDir).catch(() => undefined);
  }
  run.checkInterrupt();
  if (port !== null) {
    const t = run.now();
    try {
      const state = await run.step('checkpoint', () => streamCheckpoint(ctx, s, port), `disk-less: memory streamed to ${to}'s page server`);
      return { state, transferStart: t };
    } catch (e) {
      // only a dump that failed while the container kept running falls back; anything else is rolled back
      if (!(isConmigError(e) && e.context.diskless === 'failed')) throw e;
      why = `runc checkpoint --page-server failed while the container kept running (${tail(String(e.context.stderr ?? ''), 2)})`;
      await ctx.dst.stopPageServer(s.plan.dstDir).catch(() => undefined);
      // the prepared push writes into the folder removed here: the push takes the ordinary path
      await ctx.src.abortPush?.(s.plan.srcDir).catch(() => undefined);
      await ctx.dst.removeDir(s.plan.dstDir).catch(() => undefined);
    }
    run.checkInterrupt();
  }
  const state = await run.step('checkpoint', () => checkpoint(ctx, s), `to disk (the fallback): ${why!}`);
  return { state };
}
