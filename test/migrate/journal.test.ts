/**
 * The migration journal on disk: each state recorded is readable at once (the
 * controller may die right after), a closed entry leaves the open list, an
 * entry of a dead process is recoverable and one of a live process is not,
 * and one recovery at a time holds an entry.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseInventory } from '../../src/live/inventory.ts';
import { claimEntry, defaultJournalDir, listOpenEntries, MigrationJournal, ownerAlive, selfOwner } from '../../src/live/migrate/journal.ts';
import { stateOf } from './states.ts';

const dir = mkdtempSync(join(tmpdir(), 'conmig-journal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const inventory = parseInventory({
  version: 1,
  kind: 'orbit',
  controller: { sshKey: '/k/id', knownHosts: '/k/known_hosts' },
  nodes: ['node1', 'node2'].map((name, i) => ({ name, address: `10.0.0.${i + 1}`, workDir: `/w${i + 1}`, runcRoot: `/r${i + 1}`, imagesDir: `/i${i + 1}`, bundlesDir: `/b${i + 1}` })),
});

describe('migration journal', () => {
  it('records every state before returning, and closing moves the entry to closed/', async () => {
    const j = await MigrationJournal.open(dir, 'counter-20261201000000-1', inventory, stateOf('planned'));
    for (const k of ['prepared', 'checkpointing', 'checkpointed'] as const) {
      await j.record(stateOf(k));
      const [e] = await listOpenEntries(dir);
      expect(e.entry?.state).toEqual(stateOf(k));
    }
    const [e] = await listOpenEntries(dir);
    expect(e.entry?.history.map((h) => h.kind)).toEqual(['planned', 'prepared', 'checkpointing', 'checkpointed']);
    expect(e.entry?.nodes).toEqual({ node1: 'root@10.0.0.1:22', node2: 'root@10.0.0.2:22' });
    expect(ownerAlive(e.entry!.owner)).toBe(true);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
    await j.close('migrated', 'node2');
    expect(await listOpenEntries(dir)).toEqual([]);
    const closed = JSON.parse(readFileSync(join(dir, 'closed', 'counter-20261201000000-1.json'), 'utf8'));
    expect(closed.outcome).toMatchObject({ by: 'migration', runningOn: 'node2' });
  });

  it('an entry of a dead process is recoverable; one recovery at a time holds it', async () => {
    const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    const pid = Number(dead.stdout.trim());
    expect(ownerAlive({ ...selfOwner(), pid })).toBe(false);
    expect(ownerAlive({ ...selfOwner(), host: 'another-host' })).toBe(true); // cannot be checked: assumed alive
    const release = await claimEntry(dir, 'x');
    expect(release).not.toBeNull();
    expect(await claimEntry(dir, 'x')).toBeNull(); // held by a live process (this one)
    await release!();
    writeFileSync(join(dir, 'y.lock'), JSON.stringify({ ...selfOwner(), pid })); // a dead recovery's lock is taken over
    expect(await claimEntry(dir, 'y')).not.toBeNull();
  });

  it('names a torn or foreign file instead of failing, and takes its folder from CONMIG_JOURNAL_DIR', async () => {
    writeFileSync(join(dir, 'torn.json'), '{"version":1,');
    const [e] = await listOpenEntries(dir);
    expect(e.entry).toBeNull();
    expect(e.problem).toBeTruthy();
    expect(defaultJournalDir({ CONMIG_JOURNAL_DIR: '/tmp/j' })).toBe('/tmp/j');
    expect(await listOpenEntries(join(dir, 'missing'))).toEqual([]);
  });
});
