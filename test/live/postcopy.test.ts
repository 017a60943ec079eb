/**
 * Post-copy (CRIU lazy pages) and disk-less cold migration for real: runc + CRIU over SSH
 * between the rig's network-namespace nodes (helpers/rig.sh). Needs root and
 * scripts/setup-live.sh (which also raises fs.pipe-max-size for CRIU's lazy page server);
 * skipped locally with a printed reason otherwise, never in CI.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConmigError } from '../../src/model/errors.ts';
import type { Inventory } from '../../src/live/inventory.ts';
import { SshExecPool } from '../../src/live/exec/pool.ts';
import { locateContainer, migrateContainer, type MigrateOptions } from '../../src/live/migrate/migrator.ts';
import type { CriuProbe } from '../../src/live/criu-probe.ts';
import type { StateKind } from '../../src/live/migrate/state.ts';
import { conmigKilledAt, type ConmigExit } from './helpers/killable-conmig.ts';
import type { RecoveryOutcome } from '../../src/live/migrate/recover.ts';
import { counterState, findPids, rig, rigUnavailableReason, rigUp, waitCounter } from './helpers/rig.ts';
import { expectConmigError } from '../helpers/errors.ts';

const STATE = process.env.RIG_PFX ? `/tmp/conmig-${process.env.RIG_PFX}-postcopy-test` : '/tmp/conmig-rigb-postcopy-test';
const reason = rigUnavailableReason();
if (reason && process.env.CI) throw new Error(`live post-copy tests cannot run in CI: ${reason}`);
if (reason) console.warn(`[skip] test/live/postcopy.test.ts: ${reason}`);

/** Node addresses (the rig's, from its inventory). */
const ADDR: Record<string, string> = {};
/** A name no other live test uses (containers of one name share a cgroup on one kernel). */
const ID = 'pcbig';
let inv: Inventory;
const probeCache = new Map<string, CriuProbe>();

function opts(o: Partial<MigrateOptions> & Pick<MigrateOptions, 'container' | 'from' | 'to'>): MigrateOptions {
  return { inventory: inv, mode: 'postcopy', probeCache, port: 8080, ...o };
}

/** The container runs on exactly `node` and answers there only; no CRIU of the migration is left anywhere. */
async function expectOnlyOn(id: string, node: string): Promise<void> {
  const pool = new SshExecPool(inv);
  try {
    const where = await locateContainer(inv, pool, id);
    expect(where.running).toEqual([node]);
    expect(where.present.map((p) => p.node)).toEqual([node]);
  } finally {
    await pool.closeAll();
  }
  for (const [n, a] of Object.entries(ADDR)) {
    if (n === node) expect(await counterState(a)).not.toBeNull();
    else expect(await counterState(a)).toBeNull();
  }
  expect(findPids(`${inv.nodes[0].workDir}/checkpoints/`)).toEqual([]);
  expect(findPids(`${inv.nodes[1].workDir}/checkpoints/`)).toEqual([]);
}

const JOURNAL = join(mkdtempSync(join(tmpdir(), 'conmig-pc-journal-')), 'journal');

/** `conmig ARGS` with this file's journal; with pauseAt, killed -9 once it says it paused there. */
function conmig(args: string[], pauseAt?: StateKind): Promise<ConmigExit> {
  return conmigKilledAt(JOURNAL, args, pauseAt);
}

const openEntries = (): string[] => (existsSync(JOURNAL) ? readdirSync(JOURNAL).filter((f) => f.endsWith('.json')) : []);

const expectError = (p: Promise<unknown>): Promise<ConmigError> => expectConmigError(p, 'the migration');

describe.skipIf(reason !== null)('post-copy and disk-less cold migration (live, runc + CRIU lazy pages / page server)', () => {
  beforeAll(async () => {
    inv = await rigUp(STATE, 2);
    for (const n of inv.nodes) ADDR[n.name] = n.address;
    // 48 MiB of memory the shell keeps: enough pages that the fetch after the restore takes a while
    rig('counter', STATE, 'node1', ID, '48');
    // the CLI finds the container's port in the inventory
    appendFileSync(`${STATE}/inventory.yaml`, `  - { name: ${ID}, node: node1, image: counter, port: 8080 }\n`);
    await waitCounter(ADDR.node1, 30_000);
  }, 180_000);

  afterAll(() => {
    rig('down', STATE);
  });

  it('post-copy: the container runs at the destination before its memory has arrived; its state goes on; success only after the last page', async () => {
    const s0 = await waitCounter(ADDR.node1);
    const r = await migrateContainer(opts({ container: ID, from: 'node1', to: 'node2' }));
    expect(r.mode).toBe('postcopy');
    expect(r.runningOn).toBe('node2');
    expect(r.phases.map((p) => p.phase)).toEqual(['preflight', 'checkpoint', 'transfer', 'restore', 'lazy-pages', 'verify', 'cleanup']);
    // the pages came after the restore, not in the pushed images
    expect(r.lazyPagesMs).toBeGreaterThan(0);
    expect(r.checkpointBytes).toBeGreaterThan(48 * 2 ** 20);
    expect(r.bytes).toBe(r.checkpointBytes + r.bundleBytes);
    const lazy = r.phases.find((p) => p.phase === 'lazy-pages')!;
    const restore = r.phases.find((p) => p.phase === 'restore')!;
    expect(lazy.startWallMs).toBeGreaterThanOrEqual(restore.startWallMs + restore.wallMs - 1);
    // the downtime (a client's gap) ends with the restore, before the pages are all in
    expect(r.downtime).not.toBeNull();
    expect(r.downtimeMs).toBeLessThan(r.totalMs - lazy.wallMs);
    const s1 = await waitCounter(ADDR.node2);
    expect(s1.start).toBe(s0.start);
    expect(s1.pid).toBe(s0.pid);
    expect(s1.count).toBeGreaterThan(s0.count);
    await expectOnlyOn(ID, 'node2');
    // and back
    const r2 = await migrateContainer(opts({ container: ID, from: 'node2', to: 'node1', probe: false }));
    expect(r2.status).toBe('ok');
    const s2 = await waitCounter(ADDR.node1);
    expect(s2.start).toBe(s0.start);
    expect(s2.count).toBeGreaterThan(s1.count);
    await expectOnlyOn(ID, 'node1');
  }, 180_000);

  it('post-copy: the source\'s page server killed mid-fetch: the destination\'s partial copy is killed, the source\'s copy resumes as at the freeze', async () => {
    rig('shape', STATE, '20'); // 48 MiB at 20 Mbit/s: about 20 s of fetching
    try {
      const s0 = await waitCounter(ADDR.node1);
      let killed: number[] = [];
      let daemons: Array<{ pid: number; patched: boolean }> = [];
      const e = await expectError(
        migrateContainer(
          opts({
            container: ID,
            from: 'node1',
            to: 'node2',
            hooks: {
              beforePhase: async (phase, h) => {
                if (phase !== 'lazy-pages') return;
                await new Promise((r) => setTimeout(r, 1500)); // the container runs at node2, pages still coming
                // the destination's lazy-pages daemon: the patched CRIU (criu-lazy-pages) where it is installed
                // (the guard job's shell has the daemon's command line in its own: not it)
                daemons = findPids('lazy-pages', '--page-server', `${h.dstDir}/img`)
                  .filter((pid) => !/\/(ba|da)?sh$/.test(readlinkSync(`/proc/${pid}/exe`)))
                  .map((pid) => ({ pid, patched: readFileSync(`/proc/${pid}/exe`).includes('background in flight') }));
                const runcPid = Number(readFileSync(`${h.srcDir}/work/runc.pid`, 'utf8').trim());
                // the source's CRIU (runc's child: its page server) dies
                killed = findPids('').filter((p) => {
                  try {
                    const st = readFileSync(`/proc/${p}/stat`, 'utf8');
                    return Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]) === runcPid;
                  } catch {
                    return false;
                  }
                });
                for (const p of killed) process.kill(p, 'SIGKILL');
              },
            },
          }),
        ),
      );
      expect(killed.length).toBeGreaterThan(0);
      expect(daemons.length).toBe(1);
      // setup-live.sh builds it (in CI always); a node without it runs the stock daemon
      if (process.env.CI || spawnSync('bash', ['-c', 'command -v criu-lazy-pages']).status === 0) expect(daemons[0].patched).toBe(true);
      expect(e.code).toBe('MIGRATION_FAILED');
      expect(e.context.phase).toBe('lazy-pages');
      expect(e.context.runningOn).toBe('node1');
      expect(e.message).toMatch(/before the last page arrived/);
      expect(e.message).toMatch(/rolled back: "pcbig" runs on node1 again \(as at the freeze/);
      // the same process, its memory as at the freeze: the counter goes on from there
      const s1 = await waitCounter(ADDR.node1);
      expect(s1.start).toBe(s0.start);
      expect(s1.pid).toBe(s0.pid);
      expect(s1.count).toBeGreaterThanOrEqual(s0.count);
      await expectOnlyOn(ID, 'node1');
    } finally {
      rig('shape', STATE, 'off');
    }
  }, 180_000);

  it('disk-less cold: the memory streams to the destination\'s page server during the dump (no memory image on the source), the counter goes on', async () => {
    const s0 = await waitCounter(ADDR.node1);
    const r = await migrateContainer(opts({ container: ID, from: 'node1', to: 'node2', mode: 'cold', diskless: true }));
    expect(r.mode).toBe('cold');
    const ck = r.phases.find((p) => p.phase === 'checkpoint')!;
    const tr = r.phases.find((p) => p.phase === 'transfer')!;
    expect(ck.note).toBe("disk-less: memory streamed to node2's page server");
    // the overlap: the transfer phase began with the dump and ended after it
    expect(tr.startWallMs).toBeLessThanOrEqual(ck.startWallMs);
    expect(tr.startWallMs + tr.wallMs).toBeGreaterThan(ck.startWallMs + ck.wallMs);
    expect(r.checkpointBytes).toBeGreaterThan(48 * 2 ** 20);
    expect(r.lazyPagesMs).toBe(0);
    const s1 = await waitCounter(ADDR.node2);
    expect(s1.start).toBe(s0.start);
    expect(s1.pid).toBe(s0.pid);
    expect(s1.count).toBeGreaterThan(s0.count);
    await expectOnlyOn(ID, 'node2');
    // the dump to disk (the default), back to node1
    const r2 = await migrateContainer(opts({ container: ID, from: 'node2', to: 'node1', mode: 'cold', diskless: false, probe: false }));
    // the checks, then the push's session set up before the freeze (no page server)
    expect(r2.phases.filter((p) => p.phase === 'preflight').map((p) => p.note)).toEqual([undefined, 'push to node1 prepared before the freeze']);
    expect(r2.phases.find((p) => p.phase === 'checkpoint')!.note).toBeUndefined();
    expect((await waitCounter(ADDR.node1)).start).toBe(s0.start);
    await expectOnlyOn(ID, 'node1');
  }, 180_000);

  // kill -9 of the controller (conmig migrate) right after the journal recorded the state, then `conmig recover`
  const KILLS: Array<{ mode: 'postcopy' | 'cold'; at: StateKind; endsOn: 'source' | 'destination'; action: string; what: string }> = [
    { mode: 'postcopy', at: 'checkpointed', endsOn: 'source', action: 'restore-source', what: 'the lazy dump serves a restore that never comes: ended, the source\'s copy resumes' },
    { mode: 'postcopy', at: 'restored', endsOn: 'destination', action: 'keep-destination', what: 'mid page fetch: the fetch finishes without the controller' },
    { mode: 'cold', at: 'checkpointing', endsOn: 'source', action: 'keep-source', what: 'the destination\'s page server waits for a dump that never comes: stopped' },
    { mode: 'cold', at: 'checkpointed', endsOn: 'source', action: 'restore-source', what: 'disk-less dump done, pages at the destination: fetched back, restored on the source' },
  ];
  let where = 'node1';
  for (const k of KILLS) {
    it(`kill -9 of the controller: ${k.mode} at ${k.at} (${k.what}); conmig recover ends it with the counter intact`, async () => {
      const from = where;
      const to = from === 'node1' ? 'node2' : 'node1';
      const s0 = await waitCounter(ADDR[from]);
      const killed = await conmig(['migrate', '--inventory', `${STATE}/inventory.yaml`, '--container', ID, '--from', from, '--to', to, '--mode', k.mode, '--no-probe', ...(k.mode === 'cold' ? ['--diskless'] : [])], k.at);
      expect(killed.signal, killed.stderr).toBe('SIGKILL');
      expect(openEntries()).toHaveLength(1);
      const rec = await conmig(['recover', '--inventory', `${STATE}/inventory.yaml`, '--json']);
      expect(rec.code, rec.stderr + rec.stdout).toBe(0);
      const [o] = JSON.parse(rec.stdout) as RecoveryOutcome[];
      const on = k.endsOn === 'source' ? from : to;
      expect(o).toMatchObject({ container: ID, interruptedAt: k.at, action: k.action, runningOn: on, closed: true });
      const s1 = await waitCounter(ADDR[on]);
      expect(s1.start).toBe(s0.start);
      expect(s1.pid).toBe(s0.pid);
      expect(s1.count).toBeGreaterThanOrEqual(s0.count);
      await expectOnlyOn(ID, on);
      expect(openEntries()).toEqual([]);
      where = on;
    }, 240_000);
  }
});
