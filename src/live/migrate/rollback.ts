/**
 * Carrying out a rollback plan (rollback-plan.ts) on the nodes, so that the
 * container runs on exactly one node, and saying where: first the destination
 * is cleared (no container left there, or, if that cannot be known, nothing
 * more is done: two copies are worse than none), then the container is
 * restored on the source from its local checkpoint and checked.
 */
import { nodeByName, type Inventory } from '../inventory.ts';
import { tail } from '../exec/types.ts';
import { waitHealthy } from './health.ts';
import type { NodeFactory } from './node.ts';
import type { ClearDestination, CleanUp, NodeDir, RestoreSource } from './rollback-plan.ts';

export interface RollbackOutcome {
  /** Where the container runs now; null if that is not known (see the summary). */
  runningOn: string | null;
  summary: string;
  details: string[];
}

export interface RollbackEnv {
  inventory: Inventory;
  nodeOf: NodeFactory;
}

/** Best effort: the migration's own folders (nothing else was changed). */
export async function removeDirs(dirs: NodeDir[], nodeOf: NodeFactory): Promise<void> {
  await Promise.allSettled(dirs.map((d) => nodeOf(d.node).removeDir(d.dir, 30_000)));
}

/** Best effort as well: the container already runs at the destination. */
export async function cleanUp(c: CleanUp, nodeOf: NodeFactory): Promise<void> {
  await Promise.allSettled([
    nodeOf(c.source.node).retire(c.source.container, c.source.dir),
    nodeOf(c.destination.node).removeDir(c.destination.dir, 60_000),
  ]);
}

export async function rollBack(p: { clearDestination: ClearDestination; restoreSource: RestoreSource }, env: RollbackEnv): Promise<RollbackOutcome> {
  const details: string[] = [];
  const d = p.clearDestination;
  const r = p.restoreSource;
  // disk-less cold: the memory pages are at the destination; bring them back before clearing it
  if (r.pagesFrom && !r.lazy) {
    const from = r.pagesFrom;
    try {
      await env.nodeOf(r.node).pullPages(nodeByName(env.inventory, from.node), r.dir, from.dir);
      details.push(`${r.node}: memory pages fetched back from ${from.node}`);
    } catch (e) {
      details.push(`${r.node}: fetching the memory pages back from ${from.node} failed (${(e as Error).message})`);
      const running = await env.nodeOf(r.node).containerState(r.container).catch(() => null);
      if (!running || running.status !== 'running') {
        return {
          runningOn: null,
          summary: `NOT rolled back: the checkpoint's memory pages are on ${from.node} at ${from.dir}/img (disk-less dump) and could not be fetched back; the rest is kept on ${r.node} at ${r.dir}/img`,
          details,
        };
      }
    }
  }
  if (!(await clearDestination(d, env, details))) {
    return {
      runningOn: null,
      summary: `NOT rolled back: ${d.node} may still run "${d.container}" (it could not be checked); the checkpoint is kept on ${r.node} at ${r.dir}/img`,
      details,
    };
  }
  return restoreSource(r, env, details);
}

/** True if the destination certainly has no container of that name. */
async function clearDestination(d: ClearDestination, env: RollbackEnv, details: string[]): Promise<boolean> {
  try {
    const clean = await env.nodeOf(d.node).clear(d.container, d.dir, d.bundle);
    details.push(clean ? `${d.node}: no container "${d.container}", checkpoint files removed` : `${d.node}: container "${d.container}" could not be removed`);
    return clean;
  } catch (e) {
    details.push(`${d.node}: unreachable during rollback (${(e as Error).message})`);
    // unreachable: it cannot have the container unless its restore had been started
    return !d.mayHoldContainer;
  }
}

async function restoreSource(r: RestoreSource, env: RollbackEnv, details: string[]): Promise<RollbackOutcome> {
  if (r.lazy) return resumeLazySource(r, env, details);
  const src = env.nodeOf(r.node);
  const n = nodeByName(env.inventory, r.node);
  try {
    const already = await src.containerState(r.container);
    if (!already || already.status !== 'running') {
      if (already) await src.deleteContainer(r.container);
      const out = await src.restore(r.container, r.dir, r.bundle);
      if (!out.ok) {
        details.push(`${r.node}: restore failed: ${tail(out.log, 10)}`);
        return {
          runningOn: null,
          summary: `ROLLBACK FAILED: "${r.container}" runs nowhere; its checkpoint is kept on ${r.node} at ${r.dir}/img (restore by hand: runc --root ${n.runcRoot} restore -d --image-path ${r.dir}/img --bundle ${r.bundle} ${r.container})`,
          details,
        };
      }
    }
    if (r.service) {
      const { port, healthPath } = r.service;
      const ok = await waitHealthy(n.address, port, healthPath, 10_000);
      details.push(`${r.node}: restored from the local checkpoint, ${ok ? 'answers' : 'does NOT answer'} http://${n.address}:${port}${healthPath}`);
    } else details.push(`${r.node}: restored from the local checkpoint`);
    await src.removeDir(r.dir);
    return { runningOn: r.node, summary: `rolled back: "${r.container}" runs on ${r.node} again`, details };
  } catch (e) {
    details.push(`${r.node}: ${(e as Error).message}`);
    return {
      runningOn: null,
      summary: `ROLLBACK FAILED: could not restore "${r.container}" on ${r.node}; its checkpoint is kept there at ${r.dir}/img`,
      details,
    };
  }
}

/**
 * Post-copy's way back: the checkpoint has no memory, so the only copy that can come back is
 * the source's own, which CRIU still holds (frozen) while its page server serves: end the lazy
 * dump (runc then resumes it, as after any failed dump) and check that it runs. The destination
 * was cleared first, so there are never two copies. If the source's copy is gone (CRIU ended
 * it, taking the transfer for finished) the container is lost: said, never restored from the
 * page-less checkpoint.
 */
async function resumeLazySource(r: RestoreSource, env: RollbackEnv, details: string[]): Promise<RollbackOutcome> {
  const src = env.nodeOf(r.node);
  const n = nodeByName(env.inventory, r.node);
  try {
    await src.abortLazyDump(r.dir);
    const st = await src.containerState(r.container);
    if (!st || st.status !== 'running') {
      details.push(`${r.node}: "${r.container}" is ${st?.status ?? 'gone'} after the lazy dump ended`);
      return {
        runningOn: null,
        summary: `LOST: "${r.container}" runs nowhere: post-copy keeps its memory only in the source's CRIU until every page is fetched, and that copy is ${st?.status ?? 'gone'} on ${r.node}; the destination's partial copy was killed (its missing pages would read as zeroes). Logs kept on ${r.node} at ${r.dir}/work`,
        details,
      };
    }
    if (r.service) {
      const { port, healthPath } = r.service;
      const ok = await waitHealthy(n.address, port, healthPath, 10_000);
      details.push(`${r.node}: the lazy dump ended, runc resumed "${r.container}" with its memory as at the freeze; it ${ok ? 'answers' : 'does NOT answer'} http://${n.address}:${port}${healthPath}`);
    } else details.push(`${r.node}: the lazy dump ended, runc resumed "${r.container}" with its memory as at the freeze`);
    await src.removeDir(r.dir);
    return { runningOn: r.node, summary: `rolled back: "${r.container}" runs on ${r.node} again (as at the freeze: what it did at the destination meanwhile is lost)`, details };
  } catch (e) {
    details.push(`${r.node}: ${(e as Error).message}`);
    return { runningOn: null, summary: `ROLLBACK FAILED: could not check "${r.container}" on ${r.node} after ending its lazy dump`, details };
  }
}
