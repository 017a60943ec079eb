/**
 * A controller that dies, for real: `conmig migrate` of the plate container as
 * a child process on a 2-node local testbed, kill -9 at every phase boundary
 * (CONMIG_TEST_PAUSE_AT=<state>, test-only: the migration stops right after the
 * journal recorded that state, before the step it announces), then
 * `conmig recover`: the container runs on exactly one node (runc list on every
 * node's root), answers there, and its request counter and instance are the
 * ones it had before the kill; the journal has no open entry left. The last
 * case leaves a killed migration for the next `conmig migrate`, which must
 * recover it first by itself.
 *
 * Needs root and the tools of scripts/setup-live.sh; locally it skips with a
 * printed reason, under CI=true it never skips. One testbed for the file.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadInventory, type Inventory } from '../../src/live/inventory.ts';
import { cleanTestbed, httpGetJson, testbedUp } from '../../src/live/testbed/index.ts';
import type { StateKind } from '../../src/live/migrate/state.ts';
import { conmigKilledAt, type ConmigExit } from './helpers/killable-conmig.ts';
import type { RecoveryOutcome } from '../../src/live/migrate/recover.ts';
import { sh, skipLive } from './helpers/env.ts';

const skip = skipLive('recover.test', 'controller-kill recovery tests');

const STATE = '/tmp/conmig-recover-test';
const INV = join(STATE, 'inventory.yaml');
const work = mkdtempSync(join(tmpdir(), 'conmig-recover-'));
const JOURNAL = join(work, 'journal');

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `conmig ARGS` with this file's journal; with pauseAt, killed -9 once it says it paused there. */
function conmig(args: string[], pauseAt?: StateKind): Promise<ConmigExit> {
  return conmigKilledAt(JOURNAL, args, pauseAt);
}

function nodesRunning(inv: Inventory): string[] {
  return inv.nodes
    .filter((n) => {
      const r = sh(`runc --root ${n.runcRoot} list -q`);
      expect(r.code).toBe(0);
      return r.out.split('\n').includes('plate');
    })
    .map((n) => n.name);
}

interface Health {
  ok: boolean;
  count: number;
  instance: string;
  node: string;
}

function openEntries(): string[] {
  return existsSync(JOURNAL) ? readdirSync(JOURNAL).filter((f) => f.endsWith('.json')) : [];
}

/** Where plate must run after a kill right after the journal recorded `kind`. */
const CASES: Array<{ at: StateKind; phase: string; endsOn: 'source' | 'destination'; action: string }> = [
  { at: 'planned', phase: 'before preflight', endsOn: 'source', action: 'untouched' },
  { at: 'prepared', phase: 'before checkpoint', endsOn: 'source', action: 'untouched' },
  { at: 'checkpointing', phase: 'checkpoint about to be issued', endsOn: 'source', action: 'keep-source' },
  { at: 'checkpointed', phase: 'before transfer', endsOn: 'source', action: 'restore-source' },
  { at: 'transferred', phase: 'before restore', endsOn: 'source', action: 'restore-source' },
  { at: 'restoring', phase: 'restore about to be issued', endsOn: 'source', action: 'restore-source' },
  { at: 'restored', phase: 'before verify', endsOn: 'destination', action: 'keep-destination' },
  { at: 'verified', phase: 'before cleanup', endsOn: 'destination', action: 'keep-destination' },
  { at: 'cleaned', phase: 'after cleanup', endsOn: 'destination', action: 'keep-destination' },
];

describe.skipIf(skip)('kill -9 of the controller at every phase boundary, then conmig recover (2-node local testbed)', () => {
  let inv: Inventory;
  let where = 'node1';
  const other = (n: string): string => (n === 'node1' ? 'node2' : 'node1');

  /** One request to the service (the counter goes up by one), then its health: the state to find again. */
  async function stateBefore(node: string): Promise<Health> {
    const addr = inv.nodes.find((n) => n.name === node)!.address;
    await httpGetJson(addr, 8080, '/plate?i=1', 30_000);
    return httpGetJson<Health>(addr, 8080, '/health', 5000);
  }

  async function expectOnlyOn(node: string, before: Health): Promise<void> {
    expect(nodesRunning(inv)).toEqual([node]);
    const n = inv.nodes.find((x) => x.name === node)!;
    expect(JSON.parse(sh(`runc --root ${n.runcRoot} state plate`).out).status).toBe('running');
    const h = await httpGetJson<Health>(n.address, 8080, '/health', 10_000);
    expect(h.ok).toBe(true);
    expect(h.node).toBe(n.address);
    // the same process with its memory: the same instance and the request counter where it was
    expect(h.instance).toBe(before.instance);
    expect(h.count).toBe(before.count);
    // no checkpoint folder of this migration is left on any node
    for (const x of inv.nodes) {
      const d = join(x.workDir, 'checkpoints');
      expect(existsSync(d) ? readdirSync(d).filter((e) => e.startsWith('plate-')) : [], x.name).toEqual([]);
    }
  }

  beforeAll(async () => {
    for (let waited = 0; sh('ip netns list').out.includes('cm-') && !existsSync(join(STATE, '.conmig-testbed')); waited += 30) {
      if (waited >= 900) throw new Error('another local testbed is up and did not go away in 15 min');
      console.log('[recover.test] another testbed is up; waiting 30 s');
      await sleep(30_000);
    }
    await cleanTestbed(STATE).catch(() => undefined);
    await testbedUp({ stateDir: STATE, nodes: 2 });
    inv = await loadInventory(INV);
  }, 1_200_000);

  afterAll(async () => {
    await cleanTestbed(STATE);
    rmSync(work, { recursive: true, force: true });
  }, 120_000);

  for (const c of CASES) {
    it(`killed at ${c.at} (${c.phase}): recovered on the ${c.endsOn}, counter intact`, async () => {
      const from = where;
      const to = other(from);
      const before = await stateBefore(from);
      const killed = await conmig(['migrate', '--inventory', INV, '--container', 'plate', '--from', from, '--to', to, '--no-probe'], c.at);
      expect(killed.signal, killed.stderr).toBe('SIGKILL');
      expect(openEntries()).toHaveLength(1);

      const rec = await conmig(['recover', '--inventory', INV, '--json']);
      expect(rec.code, rec.stderr).toBe(0);
      const outcomes = JSON.parse(rec.stdout) as RecoveryOutcome[];
      expect(outcomes).toHaveLength(1);
      const o = outcomes[0];
      const expectOn = c.endsOn === 'source' ? from : to;
      expect(o).toMatchObject({ container: 'plate', from, to, interruptedAt: c.at, action: c.action, runningOn: expectOn, closed: true });
      // the message names the container, both nodes and where it runs
      expect(o.summary).toContain(`"plate" ${from} -> ${to}`);
      expect(o.summary).toContain(expectOn);
      await expectOnlyOn(expectOn, before);
      expect(openEntries()).toEqual([]);
      expect(readdirSync(join(JOURNAL, 'closed')).length).toBeGreaterThan(0);
      where = expectOn;
    }, 180_000);
  }

  it('the next conmig migrate recovers a killed migration first, then migrates', async () => {
    const from = where;
    const to = other(from);
    const before = await stateBefore(from);
    const killed = await conmig(['migrate', '--inventory', INV, '--container', 'plate', '--from', from, '--to', to, '--no-probe'], 'transferred');
    expect(killed.signal).toBe('SIGKILL');
    expect(openEntries()).toHaveLength(1);
    // plate is stopped: nobody would bring it back but the recovery
    expect(nodesRunning(inv)).toEqual([]);
    const again = await conmig(['migrate', '--inventory', INV, '--container', 'plate', '--from', from, '--to', to, '--no-probe']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(new RegExp(`conmig recover: interrupted migration of "plate" ${from} -> ${to} \\(journal transferred\\): restored "plate" on ${from}`));
    expect(again.stdout).toContain(`migrated plate ${from} -> ${to}`);
    await expectOnlyOn(to, before);
    expect(openEntries()).toEqual([]);
  }, 240_000);
});
