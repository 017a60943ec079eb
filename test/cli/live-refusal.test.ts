/**
 * A live run that must refuse to start (an earlier migration of its container is open in the
 * journal and cannot be ended) says why and exits. It once printed its error and then hung:
 * the SSH pool was closed only after the policies ran, and its open connections kept the
 * process alive. Only a child process with a connection still open shows that, so this spawns
 * bin/conmig.js against a fake node: an ssh2 server in this process that accepts the
 * controller's key and fails every command, so recovery reaches the node but cannot end the
 * entry. No testbed is needed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Server, utils } from 'ssh2';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { JournalEntry } from '../../src/live/migrate/journal.ts';
import { JOURNAL_VERSION, selfOwner } from '../../src/live/migrate/journal.ts';
import type { MigrationState } from '../../src/live/migrate/state.ts';
import { ROOT } from '../helpers/cli.ts';
import { stateOf } from '../migrate/states.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'conmig-live-refusal-'));
const servers: Server[] = [];
afterAll(() => {
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A pid that is certainly not running: a child that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  return Number(r.stdout.trim());
}

/** An SSH node that lets the controller in and answers every command with exit 1; counts sessions. */
async function fakeNode(hostKey: string): Promise<{ port: number; commands: string[] }> {
  const commands: string[] = [];
  const server = new Server({ hostKeys: [hostKey] }, (client) => {
    client.on('error', () => undefined);
    client.on('authentication', (ctx) => (ctx.method === 'publickey' ? ctx.accept() : ctx.reject(['publickey'])));
    client.on('session', (accept) => {
      const session = accept();
      session.on('exec', (acceptExec, _reject, info) => {
        commands.push(info.command);
        const ch = acceptExec();
        ch.stderr.write('fake node: nothing works here\n');
        ch.exit(1);
        ch.end();
      });
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, commands };
}

/** `node bin/conmig.js ARGS` without blocking this process's event loop (the fake node lives in it). */
function conmigAsync(args: string[], env: Record<string, string>, timeoutMs: number): Promise<{ status: number | null; stderr: string; tookMs: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/conmig.js'), ...args], {
      cwd: ROOT,
      env: { ...process.env, CONMIG_DEBUG: '', CI: '1', CONMIG_FROM_SOURCE: '1', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stderr, tookMs: Date.now() - started });
    });
  });
}

describe('conmig run --live refused by an interrupted migration it cannot end', () => {
  it('exits 1 with one line naming the container, though its SSH connections were open; the entry stays open', async () => {
    const host = utils.generateKeyPairSync('ed25519');
    const client = utils.generateKeyPairSync('ed25519');
    writeFileSync(path.join(dir, 'id_ed25519'), client.private, { mode: 0o600 });
    const node = await fakeNode(host.private);
    writeFileSync(path.join(dir, 'known_hosts'), `[127.0.0.1]:${node.port} ${host.public}\n`);
    const nodes = ['node1', 'node2', 'node3'].map((name, i) => ({
      name, address: '127.0.0.1', sshPort: node.port, workDir: `${dir}/w${i}`, runcRoot: `${dir}/r${i}`, imagesDir: `${dir}/i${i}`, bundlesDir: `${dir}/b${i}`,
    }));
    const inventory = path.join(dir, 'inventory.yaml');
    writeFileSync(inventory, stringify({ version: 1, kind: 'orbit', controller: { sshKey: `${dir}/id_ed25519`, knownHosts: `${dir}/known_hosts` }, nodes }));

    // The controller died after the checkpoint of shareon-live's container "plate" (node1 -> node2).
    const journal = path.join(dir, 'journal');
    mkdirSync(path.join(journal, 'closed'), { recursive: true });
    const base = stateOf('checkpointed');
    const state = { ...base, plan: { ...base.plan, container: 'plate' } } as MigrationState;
    const now = new Date().toISOString();
    const key = `root@127.0.0.1:${node.port}`;
    const entry: JournalEntry = {
      version: JOURNAL_VERSION,
      id: 'plate-20261202000000-1',
      owner: { ...selfOwner(), pid: deadPid(), startTicks: null },
      nodes: { node1: key, node2: key },
      startedAt: now,
      updatedAt: now,
      state,
      history: [{ kind: 'checkpointed', at: now }],
    };
    writeFileSync(path.join(journal, `${entry.id}.json`), JSON.stringify(entry));

    const r = await conmigAsync(
      ['run', 'scenarios/shareon-live.yaml', '--inventory', inventory, '--out', path.join(dir, 'out'), '--no-progress', '--no-agent'],
      { CONMIG_JOURNAL_DIR: journal },
      45_000,
    );
    // Recovery did reach the node (so a connection was open when the run refused).
    expect(node.commands.length).toBeGreaterThan(0);
    // null: killed at the timeout, the hang this test is for.
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).not.toMatch(/^ {4}at /m);
    expect(r.stderr).toMatch(/an earlier migration of "plate" could not be ended/);
    // The entry stays open for a later `conmig recover`.
    expect(readdirSync(journal).filter((f) => f.endsWith('.json'))).toEqual([`${entry.id}.json`]);
  }, 90_000);
});
