/**
 * An inventory whose controller.sshKey is not a private key: a clear error
 * naming the inventory, the field and the node, before any connection.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { utils } from 'ssh2';
import { describe, expect, it } from 'vitest';
import { SshExecPool } from '../../src/live/exec/pool.ts';
import { loadInventory } from '../../src/live/inventory.ts';
import { ConmigError } from '../../src/model/errors.ts';

async function inventoryWithKey(key: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'conmig-inv-'));
  await writeFile(path.join(dir, 'key'), key);
  await writeFile(path.join(dir, 'known_hosts'), '');
  const file = path.join(dir, 'inventory.yaml');
  await writeFile(
    file,
    `version: 1
kind: orbit
controller: { sshKey: ${dir}/key, knownHosts: ${dir}/known_hosts }
nodes:
  - { name: edge1, address: 127.0.0.1, workDir: /w, runcRoot: /r, imagesDir: /i, bundlesDir: /b }
`,
  );
  return file;
}

describe('inventory controller.sshKey', () => {
  it.each([
    ['a public key', utils.generateKeyPairSync('ed25519').public, /it is a public key/],
    ['garbage', 'not a key at all\n', /\(.+\)/],
  ])('%s: INVENTORY_INVALID naming the inventory, the field and the node', async (_what, key, why) => {
    const file = await inventoryWithKey(key);
    const pool = new SshExecPool(await loadInventory(file));
    const e = await pool.get('edge1').ensureConnected().then(() => undefined, (x: unknown) => x);
    await pool.closeAll();
    expect(e).toBeInstanceOf(ConmigError);
    expect((e as ConmigError).code).toBe('INVENTORY_INVALID');
    const msg = (e as ConmigError).message;
    expect(msg).toContain(`inventory ${file}, controller.sshKey: ${path.dirname(file)}/key is not a private SSH key (`);
    expect(msg).toContain('it is needed to reach node edge1');
    expect(msg).toMatch(why);
  });
});
