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
import { checkpoint, cleanup, fetchPages, lazyCheckpoint, lazyRestore, restore, verify } from './steps.ts';
import { predumpRound, transfer } from './transfer.ts';
import type { Predumped, Prepared } from './state.ts';

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
    await run.startProber();

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
    const checkpointed = await run.step('checkpoint', () => (lazy && ready.kind === 'prepared' ? lazyCheckpoint(ctx, ready) : checkpoint(ctx, ready)));
    run.checkInterrupt();
    const transferred = await run.step('transfer', () => transfer(ctx, checkpointed));
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
