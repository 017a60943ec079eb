/**
 * Pre-flight: everything a migration can check before it touches the
 * container, so a refusal changes nothing. Both nodes reachable; the container
 * runs on the source and not at the destination; CRIU on both nodes allows
 * the mode; enough disk at the destination; whether an identical rootfs is
 * already there; the source reaches the destination with its transfer key
 * (which opens the node-to-node channel the checkpoint will take).
 */
import { ConmigError } from '../../model/errors.ts';
import type { MigrationMode } from '../../model/types.ts';
import { assertModeSupported, type CriuProbe } from '../criu-probe.ts';
import { tail } from '../exec/types.ts';
import { locateWith } from './locate.ts';
import type { TransferChannel } from './node.ts';
import type { MigrationPlan, PreflightFacts, Prepared } from './state.ts';
import type { StepContext } from './steps.ts';

/** What pre-flight needs beyond the plan and the nodes. */
export interface PreflightOptions {
  /** CRIU probes by node, reused across migrations of one command. */
  probeCache?: Map<string, CriuProbe>;
  /** Check only: do not write the CRIU config. */
  dryRun: boolean;
}

const MiB = 2 ** 20;

/** planned -> prepared: the checks pass and the channel is open (a refusal closes it again). */
export async function preflight(ctx: StepContext, plan: MigrationPlan, channel: TransferChannel, o: PreflightOptions): Promise<Prepared> {
  const { src, dst, from, to } = ctx;
  const reach = await Promise.allSettled([src.reach(), dst.reach()]);
  for (const r of reach) if (r.status === 'rejected') throw r.reason;
  if (!from.transfer) {
    throw new ConmigError('INVENTORY_INVALID', `node ${from.name} has no transfer key (nodes[].transfer) to push checkpoints to other nodes`, {
      context: { node: from.name },
    });
  }
  const srcBundle = await runsOnlyOnSource(ctx, plan.container);
  const probes = await probeBoth(ctx, plan.mode, o.probeCache);
  // at once (a node agent runs them side by side): the rootfs facts, whether the destination's
  // bundle folder exists, and the node-to-node SSH channel the checkpoint will take, opened now:
  // it proves the source can reach the destination (key, host key) and saves a handshake in the downtime
  const [rootfsR, existedR, openedR] = await Promise.allSettled([
    src.readConfig(srcBundle).then((config) => rootfsFacts(ctx, plan.container, config, srcBundle)),
    dst.exists(`${to.bundlesDir}/${plan.container}`),
    src.openChannel(channel, to),
  ]);
  if (rootfsR.status === 'rejected' || existedR.status === 'rejected') {
    if (openedR.status === 'fulfilled' && openedR.value.ok) await src.closeChannel(channel, to).catch(() => undefined);
    throw rootfsR.status === 'rejected' ? rootfsR.reason : (existedR as PromiseRejectedResult).reason;
  }
  if (openedR.status === 'rejected') throw openedR.reason;
  const [rootfs, dstBundleExisted, opened] = [rootfsR.value, existedR.value, openedR.value];
  if (!opened.ok) {
    throw new ConmigError('NODE_UNREACHABLE', `${from.name} cannot reach ${to.name} (${to.address}:${to.sshPort}) over SSH with its transfer key`, {
      context: { node: from.name, address: `${to.address}:${to.sshPort}`, sshError: tail(opened.stderr, 4), phase: 'preflight' },
    });
  }
  try {
    // CRIU options runc cannot pass (commands.ts CRIU_CONF), on both nodes
    if (!o.dryRun) await Promise.all([src.writeCriuConfig(), dst.writeCriuConfig()]);
  } catch (e) {
    await src.closeChannel(channel, to).catch(() => undefined);
    throw e;
  }
  return { kind: 'prepared', plan, facts: { srcBundle, dstBundleExisted, probes, ...rootfs }, channel };
}

/** The container runs on the source (its bundle) and the destination has none of that name. */
async function runsOnlyOnSource(ctx: StepContext, id: string): Promise<string> {
  const { src, dst, from, to, inventory: inv } = ctx;
  // both at once; the destination's answer (or failure) counts only if the source's passes
  const [stateR, thereR] = await Promise.allSettled([src.containerState(id), dst.containerState(id)]);
  if (stateR.status === 'rejected') throw stateR.reason;
  const state = stateR.value;
  if (!state || state.status !== 'running') {
    const where = await locateWith(inv, ctx.nodeOf, id);
    const elsewhere = where.running.filter((n) => n !== from.name);
    const checked = inv.nodes.map((n) => n.name).filter((n) => !where.unreachable.includes(n));
    const msg = elsewhere.length
      ? `container "${id}" does not run on ${from.name}; it runs on ${elsewhere.join(', ')}`
      : state
        ? `container "${id}" on ${from.name} is ${state.status}, not running`
        : `container "${id}" runs on no node (checked ${checked.join(', ')}${where.unreachable.length ? `; unreachable: ${where.unreachable.join(', ')}` : ''})`;
    throw new ConmigError('CONTAINER_UNKNOWN', msg, { context: { container: id, node: from.name, runningOn: elsewhere.join(', ') || undefined } });
  }
  if (thereR.status === 'rejected') throw thereR.reason;
  const there = thereR.value;
  if (there) {
    throw new ConmigError('MIGRATION_FAILED', `${to.name} already has a container named "${id}" (${there.status}); nothing was changed`, {
      context: { node: to.name, container: id, phase: 'preflight' },
    });
  }
  return state.bundle;
}

/** CRIU features, once per node per command; the mode must be possible on both. */
async function probeBoth(ctx: StepContext, mode: MigrationMode, probeCache: Map<string, CriuProbe> | undefined): Promise<CriuProbe[]> {
  const cache = probeCache ?? new Map<string, CriuProbe>();
  const probes = await Promise.all(
    [ctx.src, ctx.dst].map(async (n) => {
      const hit = cache.get(n.name);
      if (hit) return hit;
      const p = await n.probeCriu();
      cache.set(n.name, p);
      return p;
    }),
  );
  // post-copy's conditions (userfaultfd, pipes CRIU's lazy page server can size) are the probe's
  assertModeSupported(mode, probes);
  return probes;
}

type RootfsFacts = Pick<PreflightFacts, 'config' | 'srcRootfs' | 'manifest' | 'dstBundle' | 'rootfsCached' | 'dstRootfs' | 'needBytes' | 'freeBytes'>;

/** The container's rootfs, whether the destination has an identical one, and room for the checkpoint. */
async function rootfsFacts(ctx: StepContext, id: string, config: string, srcBundle: string): Promise<RootfsFacts> {
  const { src, dst, from, to } = ctx;
  let cfg: { root?: { path?: string } };
  try {
    cfg = JSON.parse(config) as { root?: { path?: string } };
  } catch (e) {
    throw new ConmigError('MIGRATION_FAILED', `config.json of "${id}" on ${from.name} is not JSON`, { context: { node: from.name }, cause: e });
  }
  const rootRel = cfg.root?.path ?? 'rootfs';
  const srcRootfs = rootRel.startsWith('/') ? rootRel : `${srcBundle}/${rootRel}`;
  const imgMatch = srcRootfs.match(new RegExp(`^${from.imagesDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/([^/]+)/rootfs/?$`));
  const dstBundle = `${to.bundlesDir}/${id}`;
  // where an identical rootfs may already be at the destination: its copy of the
  // image (by the source path, or the inventory's image name), or a copy left by an earlier migration
  const image = imgMatch?.[1] ?? ctx.inventory.containers.find((c) => c.name === id)?.image;
  const candidates = [...(image ? [`${to.imagesDir}/${image}/rootfs`] : []), `${dstBundle}/rootfs`];
  const [{ rssBytes, rootfsBytes, manifest }, srcSum, freeBytes, ...dstHashes] = await Promise.all([
    src.measure(id, srcRootfs),
    src.treeHash(srcRootfs),
    dst.checkpointSpace(),
    ...candidates.map((c) => dst.treeHash(c)),
  ]);
  const hit = candidates.findIndex((_, k) => srcSum !== 'none' && dstHashes[k] === srcSum);
  const rootfsCached = hit >= 0;
  // memory of every process of the container + the rootfs unless cached + a margin
  const needBytes = rssBytes + (rootfsCached ? 0 : rootfsBytes) + 8 * MiB;
  if (freeBytes < needBytes) {
    throw new ConmigError(
      'MIGRATION_FAILED',
      `not enough disk on ${to.name}: ${to.workDir}/checkpoints has ${(freeBytes / MiB).toFixed(1)} MiB free, the checkpoint needs about ${(needBytes / MiB).toFixed(1)} MiB (memory ${(rssBytes / MiB).toFixed(1)} MiB${rootfsCached ? '' : ` + rootfs ${(rootfsBytes / MiB).toFixed(1)} MiB`}); nothing was changed`,
      { context: { node: to.name, phase: 'preflight', freeBytes, needBytes } },
    );
  }
  return { config, srcRootfs, manifest, dstBundle, rootfsCached, dstRootfs: rootfsCached ? candidates[hit] : `${dstBundle}/rootfs`, needBytes, freeBytes };
}
