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
export async function verify(ctx: StepContext, s: Restored): Promise<Verified> {
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
  return { ...s, kind: 'verified' };
}

/** The source's container state and both checkpoint folders go (the source's bundle stays: a rootfs cache for the way back). */
export async function cleanup(ctx: StepContext, s: Verified): Promise<Cleaned> {
  await cleanUp(cleanUpOf(s), ctx.nodeOf);
  return { ...s, kind: 'cleaned' };
}
