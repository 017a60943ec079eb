/**
 * The migration sequence (src/live/migrate/migrator.ts) over in-memory nodes:
 * a fault at every node-side call a migration makes (each node dying before
 * or after the step, or the step failing), and Ctrl-C before every phase.
 * Whatever happens, the container never runs on two nodes, the error says
 * truthfully where it runs, and what it says was rolled back was.
 */
import { describe, expect, it } from 'vitest';
import { ConmigError, isConmigError } from '../../src/model/errors.ts';
import type { MigrationMode } from '../../src/model/types.ts';
import { parseInventory, type Inventory } from '../../src/live/inventory.ts';
import { migrateContainer, type MigrateOptions } from '../../src/live/migrate/migrator.ts';
import type { LiveMigrationResult, MigrationPhase } from '../../src/live/migrate/result.ts';
import { FakeCluster, type Call, type FaultKind } from './fake-nodes.ts';

const inventory: Inventory = parseInventory({
  version: 1,
  kind: 'orbit',
  controller: { sshKey: '/k/id', knownHosts: '/k/known_hosts' },
  nodes: ['node1', 'node2'].map((name, i) => ({
    name,
    address: `10.0.0.${i + 1}`,
    workDir: `/w${i + 1}`,
    runcRoot: `/run/runc${i + 1}`,
    imagesDir: `/i${i + 1}`,
    bundlesDir: `/b${i + 1}`,
    transfer: { key: '/t/key', knownHosts: '/t/known_hosts' },
  })),
});

/** `cold` here is disk-less (diskless: true); `cold-disk` the dump to the source's disk (the default). */
type Mode = MigrationMode | 'cold-disk';

interface Outcome {
  result: LiveMigrationResult | null;
  error: ConmigError | null;
  /** Phase running when the fault fired. */
  faultPhase: MigrationPhase | null;
  cluster: FakeCluster;
}

async function migrate(mode: Mode, setup: (c: FakeCluster) => void, extra: (c: FakeCluster) => Partial<MigrateOptions> = () => ({})): Promise<Outcome> {
  const cluster = new FakeCluster(['node1', 'node2']);
  cluster.run('node1', 'counter', '/b1/counter');
  setup(cluster);
  let phase: MigrationPhase | null = null;
  let faultPhase: MigrationPhase | null = null;
  let result: LiveMigrationResult | null = null;
  let error: ConmigError | null = null;
  try {
    result = await migrateContainer({
      inventory,
      container: 'counter',
      from: 'node1',
      to: 'node2',
      mode: mode === 'cold-disk' ? 'cold' : mode,
      ...(mode === 'cold' ? { diskless: true } : {}),
      precopyRounds: 2,
      nodes: (n) => cluster.node(n),
      ...extra(cluster),
      onPhase: (p, st) => {
        if (st === 'start') phase = p;
        if (cluster.fired && faultPhase === null) faultPhase = phase;
      },
    });
  } catch (e) {
    if (!isConmigError(e)) throw e;
    error = e;
  }
  if (cluster.fired && faultPhase === null) faultPhase = phase;
  cluster.heal();
  return { result, error, faultPhase, cluster };
}

/** What must hold after any migration, successful or not. */
function expectOneNodeAtMost(o: Outcome): void {
  const c = o.cluster;
  const running = c.runningOn('counter');
  expect(running.length, `runs on ${running.join(' and ')}`).toBeLessThanOrEqual(1);
  if (o.result) {
    expect(running).toEqual(['node2']);
    expect(c.presentOn('counter')).toEqual(['node2']);
    expect(o.result.runningOn).toBe('node2');
    return;
  }
  const e = o.error!;
  const said = e.context.runningOn;
  if (said === undefined || said === 'node1' || said === 'node2') {
    // nothing changed (no runningOn: refused before the checkpoint), rolled back, or completed
    expect(running).toEqual([said ?? 'node1']);
    expect(c.presentOn('counter')).toEqual([said ?? 'node1']);
  } else {
    // not rolled back / rollback failed: it says so, and the checkpoint is kept for a hand restore
    expect(said).toBe('unknown');
    // post-copy may lose it (the source's copy gone, the destination's partial): said as LOST
    expect(e.message).toMatch(/NOT rolled back|ROLLBACK FAILED|LOST: "counter" runs nowhere/);
    if (running.length === 0 && !/LOST/.test(e.message)) expect(c.files.get('node1')!.has(`${checkpointDir(c, 'node1')}/img`)).toBe(true);
  }
}

function checkpointDir(c: FakeCluster, node: string): string {
  const img = [...c.files.get(node)!].find((f) => f.includes('/checkpoints/') && f.endsWith('/img'));
  return img ? img.slice(0, -'/img'.length) : '(none)';
}

async function cleanRun(mode: Mode): Promise<Call[]> {
  let calls: Call[] = [];
  const o = await migrate(mode, (c) => {
    calls = c.calls;
  });
  expect(o.error).toBeNull();
  return [...calls];
}

describe.each(['cold', 'cold-disk', 'precopy', 'postcopy'] as const)('the migration sequence over in-memory nodes (%s)', (mode) => {
  it('a clean migration: phases in order, the container on the destination only, no checkpoint files left', async () => {
    const o = await migrate(mode, () => {});
    expect(o.error).toBeNull();
    const phases = o.result!.phases.map((p) => p.phase);
    expect(phases).toEqual(
      mode === 'cold'
        ? ['preflight', 'preflight', 'checkpoint', 'transfer', 'restore', 'verify', 'cleanup']
        : mode === 'cold-disk'
        ? ['preflight', 'checkpoint', 'transfer', 'restore', 'verify', 'cleanup']
        : mode === 'postcopy'
          ? ['preflight', 'checkpoint', 'transfer', 'restore', 'lazy-pages', 'verify', 'cleanup']
          : ['preflight', 'predump', 'predump', 'checkpoint', 'transfer', 'restore', 'verify', 'cleanup'],
    );
    expect(o.result!.precopyRounds).toBe(mode === 'precopy' ? 2 : 0);
    // post-copy: the pages fetched after the restore count (the fake's lazy dump served 1 MiB)
    // disk-less cold: the 3 MiB the dump streamed to the destination count
    expect(o.result!.checkpointBytes).toBe(100_000 + (mode === 'precopy' ? 2000 : mode === 'postcopy' ? 2 ** 20 : mode === 'cold' ? 3 * 2 ** 20 : 0));
    expect(o.result!.lazyPagesMs > 0).toBe(mode === 'postcopy');
    expectOneNodeAtMost(o);
    for (const n of ['node1', 'node2']) expect([...o.cluster.files.get(n)!].filter((f) => f.includes('/checkpoints/'))).toEqual([]);
  });

  it('a fault at every node-side call: never two copies, the error tells where it runs and which phase failed', async () => {
    const calls = await cleanRun(mode);
    expect(calls.length).toBeGreaterThan(20);
    const kinds: FaultKind[] = ['unreachable-before', 'unreachable-after', 'fails'];
    const seen = { ok: 0, refused: 0, rolledBack: 0, unknown: 0 };
    for (const call of calls) {
      for (const kind of kinds) {
        const o = await migrate(mode, (c) => {
          c.fault = { ...call, kind };
        });
        const where = `${kind} at ${call.node}.${call.step} #${call.nth}`;
        expect(o.cluster.fired, where).toEqual(call);
        try {
          expectOneNodeAtMost(o);
        } catch (err) {
          throw new Error(`${where}: ${(err as Error).message}; error: ${o.error?.message}`);
        }
        if (!o.error) {
          seen.ok++; // a fault that does not matter (closing the channel, cleanup after verify)
          continue;
        }
        if (o.error.message.includes('; rolled back: "counter" runs on node1 again')) {
          seen.rolledBack++;
          expect(o.error.context.phase, where).toBe(o.faultPhase);
          expect(o.error.context.runningOn, where).toBe('node1');
        } else if (o.error.context.runningOn === 'unknown') seen.unknown++;
        else seen.refused++;
      }
    }
    // every kind of ending happened somewhere
    expect(seen.ok).toBeGreaterThan(0);
    expect(seen.refused).toBeGreaterThan(0);
    expect(seen.rolledBack).toBeGreaterThan(0);
    expect(seen.unknown).toBeGreaterThan(0);
  });

  it('Ctrl-C before each phase: rolled back before the restore, completed from the restore on', async () => {
    const phases = (await migrate(mode, () => {})).result!.phases.map((p) => p.phase);
    for (const [i, at] of phases.entries()) {
      const ctl = new AbortController();
      const o = await migrate(mode, () => {}, () => ({
        signal: ctl.signal,
        hooks: {
          beforePhase: (p) => {
            if (p === at) ctl.abort();
          },
        },
      }));
      expect(o.error?.code, at).toBe('INTERRUPTED');
      expectOneNodeAtMost(o);
      const completed = phases.indexOf('restore') <= i;
      expect(o.error!.context.runningOn ?? 'node1', at).toBe(completed ? 'node2' : 'node1');
    }
  });
});

describe('what a failure leaves, decided by the state', () => {
  it('a checkpoint that fails while the container keeps running: nothing changed, the error stands', async () => {
    const o = await migrate('cold-disk', (c) => {
      c.fault = { node: 'node1', step: 'checkpoint', nth: 1, kind: 'fails' };
    });
    expect(o.error?.message).toMatch(/runc checkpoint of "counter" failed on node1; the container still runs there, nothing was changed/);
    expect(o.error?.context.runningOn).toBe('node1');
    expect(o.cluster.calls.some((c) => c.step === 'clear')).toBe(false); // no rollback
    expect(o.cluster.filesUnder('node1', '/w1/checkpoints')).toEqual([]);
  });

  it('the destination lost during the restore: not rolled back (it may run there), the checkpoint kept on the source', async () => {
    const o = await migrate('cold-disk', (c) => {
      c.fault = { node: 'node2', step: 'restore', nth: 1, kind: 'unreachable-after' };
    });
    expect(o.error?.context.runningOn).toBe('unknown');
    expect(o.error?.message).toMatch(/NOT rolled back: node2 may still run "counter"/);
    expect(o.cluster.runningOn('counter')).toEqual(['node2']); // it did: restoring on node1 too would have made two
  });

  it('disk-less cold: no page server on the destination: the dump goes to disk (the fallback), said in the phase note', async () => {
    const o = await migrate('cold', (c) => {
      c.fault = { node: 'node2', step: 'startPageServer', nth: 1, kind: 'fails' };
    });
    expect(o.error).toBeNull();
    const ck = o.result!.phases.filter((p) => p.phase === 'checkpoint');
    expect(ck).toHaveLength(1);
    expect(ck[0].note).toMatch(/^to disk \(the fallback\): no page server on node2/);
    expect(o.cluster.calls.some((c) => c.step === 'streamCheckpoint')).toBe(false);
    expect(o.result!.checkpointBytes).toBe(100_000);
  });

  it('disk-less cold: a streaming dump that fails while the container runs falls back to the dump to disk', async () => {
    const o = await migrate('cold', (c) => {
      c.fault = { node: 'node1', step: 'streamCheckpoint', nth: 1, kind: 'fails' };
    });
    expect(o.error).toBeNull();
    expect(o.result!.phases.filter((p) => p.phase === 'checkpoint').map((p) => p.note)).toEqual([
      "disk-less: memory streamed to node2's page server",
      expect.stringMatching(/^to disk \(the fallback\): runc checkpoint --page-server failed while the container kept running/),
    ]);
    expect(o.cluster.runningOn('counter')).toEqual(['node2']);
  });

  it('disk-less cold: the transfer phase begins with the dump (startWallMs), and the phases say so', async () => {
    const o = await migrate('cold', () => {});
    const ck = o.result!.phases.find((p) => p.phase === 'checkpoint')!;
    const tr = o.result!.phases.find((p) => p.phase === 'transfer')!;
    expect(tr.startWallMs).toBeLessThanOrEqual(ck.startWallMs);
    expect(tr.startWallMs + tr.wallMs).toBeGreaterThanOrEqual(ck.startWallMs + ck.wallMs);
    expect(tr.note).toBe('disk-less: began with the dump');
    // calibrate reads such a record as streamed (transferMs from the dump's start to the last image)
    expect(o.result!.transport).toBe('stream');
  });

  it('the record says how the memory travelled: disk after the fallback from a failed streaming dump', async () => {
    const o = await migrate('cold', (c) => {
      c.fault = { node: 'node1', step: 'streamCheckpoint', nth: 1, kind: 'fails' };
    });
    expect(o.result!.transport).toBe('disk');
  });

  it('disk-less cold: rolled back after the dump: the memory pages come back from the destination before it is cleared', async () => {
    const o = await migrate(
      'cold',
      () => {},
      (c) => ({
        hooks: {
          beforePhase: (p) => {
            if (p === 'transfer') c.fault = { node: 'node1', step: 'pushCheckpoint', nth: 1, kind: 'fails' };
          },
        },
      }),
    );
    expect(o.error?.context.runningOn).toBe('node1');
    const steps = o.cluster.calls.map((c) => `${c.node}.${c.step}`);
    expect(steps.indexOf('node1.pullPages')).toBeGreaterThan(-1);
    expect(steps.indexOf('node1.pullPages')).toBeLessThan(steps.indexOf('node2.clear'));
  });

  it('the destination lost during the transfer: rolled back (it cannot hold the container before its restore)', async () => {
    const o = await migrate(
      'cold-disk',
      () => {},
      (c) => ({
        hooks: {
          beforePhase: (p) => {
            if (p === 'transfer') c.down.add('node2');
          },
        },
      }),
    );
    expect(o.error?.context.phase).toBe('transfer');
    expect(o.error?.context.runningOn).toBe('node1');
    expect(o.error?.message).toMatch(/rolled back: "counter" runs on node1 again/);
  });
});
