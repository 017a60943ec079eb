/**
 * Moving the checkpoint: pre-copy rounds while the container runs, and the
 * final push after the freeze. Every byte goes from the source to the
 * destination over the node-to-node channel opened in pre-flight, never
 * through the controller or a shared folder.
 */
import { bundleConfigForNode } from '../testbed/bundle.ts';
import { containerCgroupsPath } from '../testbed/cgroup.ts';
import { isConmigError } from '../../model/errors.ts';
import type { StepContext } from './steps.ts';
import { roundsOf, type Checkpointed, type Predumped, type Prepared, type Transferred } from './state.ts';

/** The destination's config.json: with the cached rootfs, or with the one the transfer sends. */
export function destinationConfigs(ctx: StepContext, s: Prepared | Checkpointed): { configCached: string; configSent: string } {
  const { plan, facts } = s;
  const netnsPath = ctx.to.netns ? `/run/netns/${ctx.to.netns}` : null;
  // restored under the destination's CPU-limited parent (or runc's default cgroup where the node has none)
  const cgroupsPath = ctx.to.cpu ? containerCgroupsPath(ctx.to.cpu.cgroupParent, plan.container) : null;
  return {
    configCached: bundleConfigForNode(facts.config, netnsPath, { rootfsPath: facts.dstRootfs, cgroupsPath }),
    configSent: bundleConfigForNode(facts.config, netnsPath, { rootfsPath: `${facts.dstBundle}/rootfs`, cgroupsPath }),
  };
}

/**
 * Before the freeze: the push's node-to-node session set up now (where the source's steps can:
 * the node agent), so the push after the freeze only sends bytes. Best effort: false when not
 * prepared (the push then takes the ordinary path); an unreachable node is still a failure.
 */
export async function preparePush(ctx: StepContext, s: Prepared): Promise<boolean> {
  const { plan, facts } = s;
  if (!ctx.src.preparePush) return false;
  try {
    return await ctx.src.preparePush(s.channel, ctx.to, { srcDir: plan.srcDir, dstDir: plan.dstDir, srcRootfs: facts.srcRootfs, dstBundle: facts.dstBundle });
  } catch (e) {
    if (isConmigError(e) && ['NODE_UNREACHABLE', 'HOSTKEY_MISMATCH'].includes(e.code)) throw e;
    return false;
  }
}

/** One pre-copy round: dump the memory at the source (the container runs on), push it. */
export async function predumpRound(ctx: StepContext, s: Prepared | Predumped): Promise<Predumped> {
  const { plan } = s;
  const round = roundsOf(s) + 1;
  await ctx.src.predump(plan.container, plan.srcDir, round);
  await ctx.src.pushDir(s.channel, ctx.to, plan.srcDir, plan.dstDir, `pre${round}`);
  return { ...s, kind: 'predumped', rounds: round };
}

/**
 * The checkpoint, the destination's config.json (network namespace,
 * root.path and cgroupsPath for that node) and, unless an identical one is there and
 * unchanged since pre-flight, the rootfs; the bundle is put in place there.
 */
export async function transfer(ctx: StepContext, s: Checkpointed): Promise<Transferred> {
  const { plan, facts } = s;
  const { configCached, configSent } = destinationConfigs(ctx, s);
  const pushed = await ctx.src.pushCheckpoint(s.channel, ctx.to, {
    srcDir: plan.srcDir,
    dstDir: plan.dstDir,
    srcRootfs: facts.srcRootfs,
    manifest: facts.manifest,
    rootfsCached: facts.rootfsCached,
    dstBundle: facts.dstBundle,
    configCached,
    configSent,
  });
  // disk-less cold: the memory pages went to the destination during the dump
  let checkpointBytes = pushed.imageBytes + (s.streamedBytes ?? 0);
  if (s.rounds > 0) checkpointBytes += await ctx.src.dirBytes(Array.from({ length: s.rounds }, (_, k) => `${plan.srcDir}/pre${k + 1}`));
  const cached = pushed.rootfsCached;
  const bundleBytes = Buffer.byteLength(cached ? configCached : configSent) + (cached ? 0 : pushed.rootfsBytes);
  return { ...s, kind: 'transferred', sent: { checkpointBytes, bundleBytes, rootfsCached: cached } };
}
