/**
 * AgentNode's cached pre-flight facts answer what ShellNode's one-command-per-step answers
 * (same rootfs hash and fingerprint, `none` for a missing tree, no container where runc has no
 * state), and a changed rootfs is noticed. Local agents (bash), no root needed.
 */
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { InventoryNode } from '../../src/live/inventory.ts';
import { AgentExec } from '../../src/live/exec/agent.ts';
import { LocalExec } from '../../src/live/exec/local.ts';
import { AgentNode, migrationNode } from '../../src/live/migrate/agent-node.ts';
import { ShellNode } from '../../src/live/migrate/shell-node.ts';
import { CRIU_CONF } from '../../src/live/migrate/commands.ts';

// the agents started here re-check their facts every 0.2 s (inherited environment)
process.env.CONMIG_AGENT_REFRESH_S = '0.2';
let dir: string;
let agent: AgentExec;
let node: InventoryNode;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'conmig-agent-node-'));
  node = {
    name: 'nodeA',
    address: '127.0.0.1',
    sshPort: 22,
    user: 'root',
    workDir: join(dir, 'work'),
    runcRoot: join(dir, 'runc'),
    criuPath: 'criu',
    imagesDir: join(dir, 'images'),
    bundlesDir: join(dir, 'bundles'),
  } as unknown as InventoryNode;
  const local = new LocalExec('nodeA');
  agent = new AgentExec({ node: 'nodeA', workDir: node.workDir, open: (c) => local.openPipe(c), fallback: local, mode: 'require' });
});

afterEach(async () => {
  await agent.close();
  rmSync(dir, { recursive: true, force: true });
});

it('answers pre-flight facts as the per-command steps do, and notices a changed rootfs', async () => {
  const rootfs = join(dir, 'images', 'img', 'rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  writeFileSync(join(rootfs, 'bin', 'sh'), 'x'.repeat(5000));
  writeFileSync(join(rootfs, 'etc-file'), 'hello');
  const viaAgent = migrationNode(node, agent);
  const plain = migrationNode(node, new LocalExec('nodeA'));
  expect(viaAgent).toBeInstanceOf(AgentNode);
  expect(plain).toBeInstanceOf(ShellNode);
  expect(plain).not.toBeInstanceOf(AgentNode);

  const [m1, m2] = await Promise.all([viaAgent.measure('none', rootfs), plain.measure('none', rootfs)]);
  expect(m1.manifest).toMatch(/^[0-9a-f]{64}$/);
  expect(m1.manifest).toBe(m2.manifest);
  expect(m1.rootfsBytes).toBe(m2.rootfsBytes);
  const h = await plain.treeHash(rootfs);
  expect(h).toMatch(/^[0-9a-f]{64}$/);
  expect(await viaAgent.treeHash(rootfs)).toBe(h);
  expect(await viaAgent.treeHash(join(dir, 'nothing'))).toBe('none');

  // changed content (size and mtime): the agent's refresher notices it within its round and re-hashes
  writeFileSync(join(rootfs, 'etc-file'), 'hello, changed');
  utimesSync(join(rootfs, 'etc-file'), new Date(), new Date(Date.now() + 5000));
  const h2 = await plain.treeHash(rootfs);
  expect(h2).not.toBe(h);
  await new Promise((r) => setTimeout(r, 2100)); // past the measure memo and a few refresher rounds
  expect(await viaAgent.treeHash(rootfs)).toBe(h2);
  // and the fingerprint measure hands on is the one that hash was taken with
  expect((await viaAgent.measure('none', rootfs)).manifest).toBe((await plain.measure('none', rootfs)).manifest);

  // a rollback's clear removes a bundle: its rootfs fact is re-taken at once (no stale "identical")
  const bundle = join(dir, 'bundles', 'c1');
  mkdirSync(join(bundle, 'rootfs'), { recursive: true });
  writeFileSync(join(bundle, 'rootfs', 'f'), 'x');
  expect(await viaAgent.treeHash(join(bundle, 'rootfs'))).toMatch(/^[0-9a-f]{64}$/);
  expect(await viaAgent.clear('c1', join(dir, 'ckpt'), bundle)).toBe(true);
  expect(await viaAgent.treeHash(join(bundle, 'rootfs'))).toBe('none');

  expect(await viaAgent.containerState('ghost')).toBeNull();
  const [free1, free2] = await Promise.all([viaAgent.checkpointSpace(), plain.checkpointSpace()]);
  expect(free1).toBeGreaterThan(0);
  expect(Math.abs(free1 - free2) / free2).toBeLessThan(0.05);
  await viaAgent.reach();

  // the CRIU config: written, and written again by the agent when something removed it
  await viaAgent.writeCriuConfig();
  const conf = join(node.workDir, 'conmig-criu.conf');
  expect(readFileSync(conf, 'utf8')).toBe(CRIU_CONF);
  rmSync(conf);
  await new Promise((r) => setTimeout(r, 1000));
  expect(readFileSync(conf, 'utf8')).toBe(CRIU_CONF);
  // config.json: read, and read again once it was replaced
  const b = join(dir, 'bundles', 'c2');
  mkdirSync(b, { recursive: true });
  writeFileSync(join(b, 'config.json'), '{"a":1}');
  expect(await viaAgent.readConfig(b)).toBe('{"a":1}');
  writeFileSync(join(b, 'new.json'), '{"a":2}');
  renameSync(join(b, 'new.json'), join(b, 'config.json'));
  await new Promise((r) => setTimeout(r, 1000));
  expect(await viaAgent.readConfig(b)).toBe('{"a":2}');
});
