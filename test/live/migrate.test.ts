/**
 * `conmig migrate` for real: runc + CRIU over SSH between network-namespace
 * nodes (part B's rig, see helpers/rig.sh). Needs root and the tools of
 * scripts/setup-live.sh; skipped locally with a printed reason otherwise,
 * never in CI.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConmigError } from '../../src/model/errors.ts';
import type { Inventory } from '../../src/live/inventory.ts';
import { SshExecPool } from '../../src/live/exec/pool.ts';
import { locateContainer, migrateContainer, type MigrateOptions } from '../../src/live/migrate/migrator.ts';
import type { CriuProbe } from '../../src/live/criu-probe.ts';
import { counterState, findPids, killNodeSshd, rig, rigUnavailableReason, rigUp, waitCounter } from './helpers/rig.ts';
import { expectConmigError } from '../helpers/errors.ts';

const STATE = '/tmp/conmig-rigb-migrate-test';
const reason = rigUnavailableReason();
if (reason && process.env.CI) throw new Error(`live migrate tests cannot run in CI: ${reason}`);
if (reason) console.warn(`[skip] test/live/migrate.test.ts: ${reason}`);

const ADDR: Record<string, string> = { node1: '10.77.0.194', node2: '10.77.0.195', node3: '10.77.0.196' };

let inv: Inventory;
const probeCache = new Map<string, CriuProbe>();

const expectError = (p: Promise<unknown>): Promise<ConmigError> => expectConmigError(p, 'the migration');

/** The container runs on exactly `node` (runc on every node) and answers there only. */
async function expectOnlyOn(id: string, node: string): Promise<void> {
  const pool = new SshExecPool(inv);
  try {
    const where = await locateContainer(inv, pool, id);
    expect(where.unreachable).toEqual([]);
    expect(where.running).toEqual([node]);
    expect(where.present.map((p) => p.node)).toEqual([node]);
  } finally {
    await pool.closeAll();
  }
  for (const [n, a] of Object.entries(ADDR)) {
    const s = await counterState(a);
    if (n === node) expect(s).not.toBeNull();
    else expect(s).toBeNull();
  }
}

/**
 * The cold path with the dump to disk (diskless: false): these fault tests are about it (a
 * destination lost after a disk-less dump holds the memory pages: not rolled back until it is
 * back; disk-less cold and its faults are test/live/postcopy.test.ts's).
 */
function opts(o: Partial<MigrateOptions> & Pick<MigrateOptions, 'container' | 'from' | 'to'>): MigrateOptions {
  return { inventory: inv, mode: 'cold', diskless: false, probeCache, ...o };
}

describe.skipIf(reason !== null)('conmig migrate (live, runc + CRIU over SSH)', () => {
  beforeAll(async () => {
    inv = await rigUp(STATE, 3);
    rig('counter', STATE, 'node1', 'counter');
    await waitCounter(ADDR.node1);
  }, 120_000);

  afterAll(() => {
    rig('down', STATE);
  });

  it('carries a stateful container node1 -> node2 -> node3: its memory state goes on and it answers at the new node only', async () => {
    const s0 = await waitCounter(ADDR.node1);
    const r1 = await migrateContainer(opts({ container: 'counter', from: 'node1', to: 'node2' }));
    expect(r1.status).toBe('ok');
    expect(r1.runningOn).toBe('node2');
    const s1 = await waitCounter(ADDR.node2);
    // same process: same start time and pid, and the in-memory counter went on from where it was
    expect(s1.start).toBe(s0.start);
    expect(s1.pid).toBe(s0.pid);
    expect(s1.count).toBeGreaterThan(s0.count);
    await expectOnlyOn('counter', 'node2');

    // node3 lacks the image: the rootfs must travel with the checkpoint
    execFileSync('rm', ['-rf', `${inv.nodes[2].imagesDir}/counter`]);
    const r2 = await migrateContainer(opts({ container: 'counter', from: 'node2', to: 'node3' }));
    expect(r2.rootfsCached).toBe(false);
    expect(r2.bundleBytes).toBeGreaterThan(1_000_000); // busybox
    const s2 = await waitCounter(ADDR.node3);
    expect(s2.start).toBe(s0.start);
    expect(s2.count).toBeGreaterThan(s1.count);
    await expectOnlyOn('counter', 'node3');

    expect(r1.rootfsCached).toBe(true); // the image is on node2: not sent again
    expect(r1.bundleBytes).toBeLessThan(20_000);
    for (const r of [r1, r2]) {
      // phases in order, all timed; measured downtime is a real gap within the migration
      // (the second `preflight`: the push's node-to-node session set up before the freeze, by the node agent)
      expect(r.phases.map((p) => p.phase)).toEqual(['preflight', 'preflight', 'checkpoint', 'transfer', 'restore', 'verify', 'cleanup']);
      expect(r.phases[1].note).toBe(`push to ${r.to} prepared before the freeze`);
      for (const p of r.phases) expect(p.wallMs).toBeGreaterThan(0);
      expect(r.checkpointBytes).toBeGreaterThan(10_000);
      expect(r.bytes).toBe(r.checkpointBytes + r.bundleBytes);
      expect(r.downtime).not.toBeNull();
      expect(r.downtime!.failures).toBeGreaterThan(0);
      expect(r.downtimeMs).toBeGreaterThan(r.checkpointMs * 0.5);
      expect(r.downtimeMs).toBeLessThan(r.totalMs);
      expect(r.totalMs).toBeGreaterThanOrEqual(r.checkpointMs + r.transferMs + r.restoreMs);
    }
    // and back, so the fault tests start from node1 (its image copy is identical: cached)
    const r3 = await migrateContainer(opts({ container: 'counter', from: 'node3', to: 'node1', probe: false }));
    expect(r3.rootfsCached).toBe(true);
    expect((await waitCounter(ADDR.node1)).start).toBe(s0.start);
    await expectOnlyOn('counter', 'node1');
  });

  it('bad input changes nothing: unknown node, unknown container, wrong source, unreachable node, host key mismatch', async () => {
    const before = await waitCounter(ADDR.node1);
    const e1 = await expectError(migrateContainer(opts({ container: 'counter', from: 'node1', to: 'node9' })));
    expect(e1.code).toBe('NODE_UNKNOWN');
    expect(String(e1.context.known)).toContain('node1, node2, node3');

    const e2 = await expectError(migrateContainer(opts({ container: 'nosuch', from: 'node1', to: 'node2' })));
    expect(e2.code).toBe('CONTAINER_UNKNOWN');
    expect(e2.message).toContain('runs on no node');

    const e3 = await expectError(migrateContainer(opts({ container: 'counter', from: 'node2', to: 'node3' })));
    expect(e3.code).toBe('CONTAINER_UNKNOWN');
    expect(e3.message).toContain('it runs on node1');

    // a node with no sshd behind its address
    const ghost: Inventory = {
      ...inv,
      nodes: [...inv.nodes, { ...inv.nodes[2], name: 'ghost', address: '10.77.0.206' }],
    };
    const e4 = await expectError(migrateContainer({ ...opts({ container: 'counter', from: 'node1', to: 'ghost' }), inventory: ghost }));
    expect(e4.code).toBe('NODE_UNREACHABLE');
    expect(e4.message).toContain('10.77.0.206:22');

    // known_hosts holding another key for node2
    const badKnown = `${STATE}/known_hosts.bad`;
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', `${STATE}/other_key`]);
    const other = execFileSync('cat', [`${STATE}/other_key.pub`], { encoding: 'utf8' }).split(' ').slice(0, 2).join(' ');
    const good = execFileSync('cat', [inv.controller.knownHosts], { encoding: 'utf8' });
    writeFileSync(badKnown, good.split('\n').map((l) => (l.startsWith('10.77.0.195 ') ? `10.77.0.195 ${other}` : l)).join('\n'));
    const e5 = await expectError(
      migrateContainer({ ...opts({ container: 'counter', from: 'node1', to: 'node2' }), inventory: { ...inv, controller: { ...inv.controller, knownHosts: badKnown } } }),
    );
    expect(e5.code).toBe('HOSTKEY_MISMATCH');
    expect(e5.context.node).toBe('node2');

    // a dry run passes the same checks and changes nothing
    const dry = await migrateContainer(opts({ container: 'counter', from: 'node1', to: 'node2', dryRun: true }));
    expect(dry.dryRun?.estimatedBytes).toBeGreaterThan(0);
    expect(dry.dryRun?.destinationFreeBytes).toBeGreaterThan(dry.dryRun?.estimatedBytes ?? Infinity);
    expect(dry.rootfsCached).toBe(true);
    expect(dry.phases.map((p) => p.phase)).toEqual(['preflight']);

    await expectOnlyOn('counter', 'node1');
    const after = await waitCounter(ADDR.node1);
    expect(after.start).toBe(before.start);
    expect(after.count).toBeGreaterThanOrEqual(before.count);
  });

  it('the CLI: --json prints the result of a real migration; bad input exits 2 listing the known nodes', () => {
    const cli = (...a: string[]) =>
      spawnSync(process.execPath, ['bin/conmig.js', 'migrate', '--inventory', `${STATE}/inventory.yaml`, ...a], {
        encoding: 'utf8',
        timeout: 120_000,
        env: { ...process.env, CONMIG_FROM_SOURCE: '1' },
      });
    const bad = cli('--container', 'counter', '--from', 'node1', '--to', 'nodeX');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('no node "nodeX" in the inventory');
    expect(bad.stderr).toContain('known: node1, node2, node3');
    const there = cli('--container', 'counter', '--from', 'node1', '--to', 'node2', '--json');
    expect(there.status, there.stderr).toBe(0);
    const r = JSON.parse(there.stdout) as { from: string; to: string; status: string; runningOn: string; downtimeMs: number };
    expect(r).toMatchObject({ from: 'node1', to: 'node2', status: 'ok', runningOn: 'node2' });
    expect(r.downtimeMs).toBeGreaterThan(0);
    const back = cli('--container', 'counter', '--from', 'node2', '--to', 'node1');
    expect(back.status, back.stderr).toBe(0);
    expect(back.stdout).toMatch(/^migrated counter node2 -> node1 \(cold\) in .*; downtime /);
  });

  it('refuses pre-copy where the kernel has no soft-dirty tracking, before touching anything', async () => {
    const pool = new SshExecPool(inv);
    let dirty = false;
    try {
      const { probeCriu } = await import('../../src/live/criu-probe.ts');
      dirty = (await probeCriu(pool.get('node1'), inv.nodes[0].criuPath)).memDirtyTrack;
    } finally {
      await pool.closeAll();
    }
    if (!dirty) {
      const e = await expectError(migrateContainer(opts({ container: 'counter', from: 'node1', to: 'node2', mode: 'precopy' })));
      expect(e.code).toBe('MODE_UNSUPPORTED');
      expect(e.message).toMatch(/pre-copy needs memory dirty tracking \(soft-dirty\), which node1's kernel .* lacks; use --mode cold/);
    }
    // post-copy works here (test/live/postcopy.test.ts)
    await expectOnlyOn('counter', 'node1');
  });

  it('destination sshd killed right after the checkpoint began: rolled back, runs on node1 only', async () => {
    const before = await waitCounter(ADDR.node1);
    const e = await expectError(
      migrateContainer(
        opts({
          container: 'counter',
          from: 'node1',
          to: 'node2',
          hooks: {
            beforePhase: (phase) => {
              if (phase === 'checkpoint') killNodeSshd(STATE, 'node2');
            },
          },
        }),
      ),
    );
    rig('sshd', STATE, 'node2');
    expect(e.code).toBe('MIGRATION_FAILED');
    expect(e.context.phase).toBe('transfer');
    expect(e.context.runningOn).toBe('node1');
    expect(e.message).toContain('rolled back');
    await expectOnlyOn('counter', 'node1');
    const after = await waitCounter(ADDR.node1);
    expect(after.start).toBe(before.start);
    expect(after.count).toBeGreaterThan(before.count);
  });

  it('transfer cut mid-stream (the node-to-node ssh killed on an 8 Mbit/s link): rolled back', async () => {
    // a second container with 16 MiB of memory ballast (its httpd cannot bind :8080 beside `counter`'s: runc state is what counts here)
    rig('counter', STATE, 'node1', 'big', '16');
    const before = await waitCounter(ADDR.node1);
    // wait until big's shell holds its ballast (it writes its state only after building it)
    const pid = JSON.parse(execFileSync('runc', ['--root', inv.nodes[0].runcRoot, 'state', 'big'], { encoding: 'utf8' })).pid as number;
    for (let i = 0; i < 300 && !existsSync(`/proc/${pid}/root/dev/shm/state`); i++) await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(`/proc/${pid}/root/dev/shm/state`)).toBe(true);
    rig('shape', STATE, '8');
    let cut = 0;
    try {
      const e = await expectError(
        migrateContainer(
          opts({
            container: 'big',
            from: 'node1',
            to: 'node2',
            port: 8080,
            probe: false,
            hooks: {
              beforePhase: (phase, ctx) => {
                if (phase !== 'transfer') return;
                const t = setInterval(() => {
                  // once the push has started, kill the node-to-node SSH connection that carries it: the
                  // source's ControlMaster (the push's ssh client hands its stdio to the master)
                  const pushing = findPids('ssh', ctx.dstDir, 'StrictHostKeyChecking=yes').filter((p) => findPids('bash', ctx.dstDir).indexOf(p) < 0);
                  const pids = pushing.length ? findPids('ControlPersist', `@${ctx.to.address}`, `/tmp/conmig-${process.pid}-`) : [];
                  if (pids.length) {
                    clearInterval(t);
                    setTimeout(() => {
                      for (const p of pids) {
                        try {
                          process.kill(p, 'SIGKILL');
                          cut++;
                        } catch {
                          /* already gone: the transfer finished first */
                        }
                      }
                    }, 300);
                  }
                }, 20);
                setTimeout(() => clearInterval(t), 30_000);
              },
            },
          }),
        ),
      );
      expect(cut, e.message).toBeGreaterThan(0);
      expect(e.code).toBe('MIGRATION_FAILED');
      expect(e.context.phase).toBe('transfer');
      expect(e.context.runningOn).toBe('node1');
    } finally {
      rig('shape', STATE, 'off');
    }
    const pool = new SshExecPool(inv);
    try {
      const where = await locateContainer(inv, pool, 'big');
      expect(where.running).toEqual(['node1']);
      const leftovers = await pool.get('node2').run(`ls ${inv.nodes[1].workDir}/checkpoints | grep big || true`);
      expect(leftovers.stdout.trim()).toBe('');
      await pool.get('node1').run(`runc --root ${inv.nodes[0].runcRoot} delete -f big`);
    } finally {
      await pool.closeAll();
    }
    const after = await waitCounter(ADDR.node1);
    expect(after.start).toBe(before.start);
  });

  it('a restore that fails (image corrupted at the destination): rolled back, no half-restored container', async () => {
    const e = await expectError(
      migrateContainer(
        opts({
          container: 'counter',
          from: 'node1',
          to: 'node3',
          hooks: {
            beforePhase: async (phase, ctx) => {
              if (phase === 'restore') await ctx.exec('node3').run(`: > ${ctx.dstDir}/img/pstree.img`);
            },
          },
        }),
      ),
    );
    expect(e.code).toBe('MIGRATION_FAILED');
    expect(e.context.phase).toBe('restore');
    expect(e.context.runningOn).toBe('node1');
    expect(String(e.context.criuLog)).not.toBe('');
    await expectOnlyOn('counter', 'node1');
  });

  it('a full disk at the destination: refused in pre-flight, or rolled back when it fills after the checkpoint', async () => {
    const ck = `${inv.nodes[1].workDir}/checkpoints`;
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', ck]);
    try {
      const e = await expectError(migrateContainer(opts({ container: 'counter', from: 'node1', to: 'node2' })));
      expect(e.code).toBe('MIGRATION_FAILED');
      expect(e.message).toMatch(/not enough disk on node2.*nothing was changed/);
    } finally {
      execFileSync('umount', [ck]);
    }
    await expectOnlyOn('counter', 'node1');
    try {
      const e = await expectError(
        migrateContainer(
          opts({
            container: 'counter',
            from: 'node1',
            to: 'node2',
            hooks: {
              beforePhase: (phase) => {
                if (phase === 'checkpoint') execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', ck]);
              },
            },
          }),
        ),
      );
      expect(e.code).toBe('MIGRATION_FAILED');
      expect(e.context.phase).toBe('transfer');
      expect(e.context.runningOn).toBe('node1');
    } finally {
      execFileSync('umount', ['-l', ck]);
    }
    await expectOnlyOn('counter', 'node1');
  });

  it('Ctrl-C (abort) during the transfer: the phase is rolled back, then INTERRUPTED; runs on node1 only', async () => {
    const ctl = new AbortController();
    const e = await expectError(
      migrateContainer(
        opts({
          container: 'counter',
          from: 'node1',
          to: 'node2',
          signal: ctl.signal,
          hooks: {
            beforePhase: (phase) => {
              if (phase === 'transfer') ctl.abort();
            },
          },
        }),
      ),
    );
    expect(e.code).toBe('INTERRUPTED');
    expect(e.context.runningOn).toBe('node1');
    await expectOnlyOn('counter', 'node1');
  });
});
