/** One sample of every migration state (src/live/migrate/state.ts), built the way the transitions build them. */
import type { CriuProbe } from '../../src/live/criu-probe.ts';
import type {
  Checkpointed,
  Checkpointing,
  Cleaned,
  Fetched,
  MigrationPlan,
  MigrationState,
  Planned,
  Predumped,
  Prepared,
  PreflightFacts,
  Restored,
  Restoring,
  StateKind,
  Transferred,
  Verified,
} from '../../src/live/migrate/state.ts';

export const plan: MigrationPlan = {
  container: 'counter',
  mode: 'cold',
  from: 'node1',
  to: 'node2',
  srcDir: '/w1/checkpoints/counter-1',
  dstDir: '/w2/checkpoints/counter-1',
  service: { port: 8080, healthPath: '/health' },
};

const probe = (node: string): CriuProbe => ({
  node, criuVersion: 'Version: 4.2.1', kernel: '6.18', checkOk: true, checkOutput: 'Looks good.', memDirtyTrack: false, uffd: true, uffdNoncoop: true, failures: {},
});

export function facts(o: Partial<PreflightFacts> = {}): PreflightFacts {
  return {
    srcBundle: '/b1/counter', config: '{}', srcRootfs: '/i1/counter/rootfs', manifest: 'm', dstBundle: '/b2/counter', dstBundleExisted: false,
    rootfsCached: true, dstRootfs: '/i2/counter/rootfs', needBytes: 9e6, freeBytes: 1e9, probes: [probe('node1'), probe('node2')], ...o,
  };
}

/** The sample of `kind`, with `f` as pre-flight's facts. */
export function stateOf(kind: StateKind, f: PreflightFacts = facts()): MigrationState {
  const planned: Planned = { kind: 'planned', plan };
  const prepared: Prepared = { kind: 'prepared', plan, facts: f, channel: { from: 'node1', to: 'node2', ctlSock: '/tmp/c.ctl' } };
  const predumped: Predumped = { ...prepared, kind: 'predumped', rounds: 2 };
  const checkpointing: Checkpointing = { ...prepared, kind: 'checkpointing', rounds: 0, checkpoint: { node: 'node1', dir: plan.srcDir, bundle: f.srcBundle } };
  const checkpointed: Checkpointed = { ...checkpointing, kind: 'checkpointed' };
  const transferred: Transferred = { ...checkpointed, kind: 'transferred', sent: { checkpointBytes: 1e5, bundleBytes: 900, rootfsCached: true } };
  const restoring: Restoring = { ...transferred, kind: 'restoring', destination: { node: 'node2', container: 'counter', bundle: f.dstBundle } };
  const restored: Restored = { ...restoring, kind: 'restored' };
  const fetched: Fetched = { ...restored, kind: 'fetched', lazyBytes: 2 ** 20 };
  const verified: Verified = { ...restored, kind: 'verified' };
  const cleaned: Cleaned = { ...verified, kind: 'cleaned' };
  const all = { planned, prepared, predumped, checkpointing, checkpointed, transferred, restoring, restored, fetched, verified, cleaned };
  return all[kind];
}
