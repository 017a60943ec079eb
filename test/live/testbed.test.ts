/**
 * The local testbed, for real: namespaces, sshd, tc, runc + the plate service,
 * the relay, and teardown that leaves nothing. Needs root and the tools from
 * scripts/setup-live.sh; locally it skips with a printed reason, under CI=true
 * it never skips (a missing tool fails the test with SETUP_MISSING).
 * The pure parts (topology plan, inventory validation, bundle rewrite) always run.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isConmigError } from '../../src/model/errors.ts';
import { loadInventory, parseInventory } from '../../src/live/inventory.ts';
import {
  bundleConfigForNode, cleanTestbed, httpGet, httpGetJson, planTopology, relayControl, starTopology, testbedStatus, testbedUp,
} from '../../src/live/testbed/index.ts';
import { STATE_MARKER, strayPids } from '../../src/live/testbed/clean.ts';
import { waitTcp } from '../../src/live/testbed/ssh.ts';
import { sh, skipLive } from './helpers/env.ts';

const skipTestbed = skipLive('testbed.test', 'live testbed tests');

function cmNamespaces(): string[] {
  return sh('ip netns list').out.split('\n').map((l) => l.split(' ')[0]).filter((n) => n.startsWith('cm-'));
}
function cmLinks(): string[] {
  return sh('ip -o link show').out.split('\n').map((l) => l.split(':')[1]?.trim().split('@')[0] ?? '').filter((n) => n.startsWith('cm-'));
}
function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((m) => m.startsWith(dir));
}

describe('testbed plan and formats (pure)', () => {
  it('plans a line with the narrowest hop as the per-destination rate', () => {
    const plan = planTopology({
      shape: 'line', latencyMs: 0, defaultBandwidthMbps: 1000,
      nodes: [{ name: 'a' }, { name: 'b' }, { name: 'c' }],
      links: [{ from: 'a', to: 'b', bandwidthMbps: 100 }, { from: 'b', to: 'c', bandwidthMbps: 500 }],
    });
    expect(plan.nodes.map((n) => n.linkMbps)).toEqual([100, 500, 500]);
    expect(plan.nodes[2].perDestinationMbps).toEqual({ a: 100 });
    expect(plan.nodes[0].perDestinationMbps).toEqual({});
    expect(() => planTopology({ ...starTopology(2, 10, 0), shape: 'line', links: [{ from: 'node1', to: 'nodeX', bandwidthMbps: 1 }] }))
      .toThrow(/invalid/);
  });

  it('names the file and field of an invalid inventory', () => {
    try {
      parseInventory({ version: 1, kind: 'local', controller: { sshKey: 'rel', knownHosts: '/k' }, nodes: [] }, 'inv.yaml');
      expect.unreachable();
    } catch (e) {
      expect(isConmigError(e) && e.code).toBe('INVENTORY_INVALID');
      const paths = isConmigError(e) ? e.problems.map((p) => `${p.file}:${p.path}`) : [];
      expect(paths).toContain('inv.yaml:controller.sshKey');
      expect(paths).toContain('inv.yaml:nodes');
    }
  });

  it('loads the ORBIT example inventory with defaults applied', async () => {
    const inv = await loadInventory('examples/inventory-orbit.yaml');
    expect(inv.kind).toBe('orbit');
    expect(inv.nodes.map((n) => n.name)).toEqual(['srv1-lg1', 'srv2-lg1', 'srv3-lg1']);
    expect(inv.nodes[1].sshPort).toBe(22);
    expect(inv.nodes[1].criuPath).toBe('/usr/local/bin/criu');
    expect(inv.containers[0].node).toBe('srv1-lg1');
  });

  it('rewrites only the network namespace (and rootfs) of a bundle config', () => {
    const cfg = JSON.stringify({ root: { path: '/a/rootfs' }, process: { args: ['x'] },
      linux: { namespaces: [{ type: 'pid' }, { type: 'network', path: '/run/netns/cm-node1' }] } });
    const out = JSON.parse(bundleConfigForNode(cfg, '/run/netns/cm-node2', { rootfsPath: '/b/rootfs' }));
    expect(out.linux.namespaces).toEqual([{ type: 'pid' }, { type: 'network', path: '/run/netns/cm-node2' }]);
    expect(out.root.path).toBe('/b/rootfs');
    expect(out.process.args).toEqual(['x']);
    const orbit = JSON.parse(bundleConfigForNode(cfg, null));
    expect(orbit.linux.namespaces[1]).toEqual({ type: 'network' });
  });
});

describe.skipIf(skipTestbed)('local testbed (root, real namespaces)', () => {
  const stateDir = join(tmpdir(), `conmig-tb-test-${process.pid}`);
  afterAll(async () => {
    await cleanTestbed(stateDir);
  });

  it('up: 3 nodes with sshd, shaping, relay and the plate service; down leaves nothing', async () => {
    const r = await testbedUp({ nodes: 3, bandwidthMbps: 200, latencyMs: 0, stateDir });
    expect(r.inventory.nodes.map((n) => n.address)).toEqual(['10.77.0.11', '10.77.0.12', '10.77.0.13']);
    const inv = await loadInventory(r.inventoryFile);
    expect(inv.containers).toEqual([{ name: 'plate', node: 'node1', image: 'plate', port: 8080 }]);

    expect(cmNamespaces().sort()).toEqual(['cm-node1', 'cm-node2', 'cm-node3', 'cm-users']);
    for (const n of inv.nodes) {
      expect(sh(`ip -n ${n.netns} -br addr show dev eth0`).out).toContain(`${n.address}/24`);
      await waitTcp(n.address, 22, 2000, n.name); // from the root namespace
      expect(sh(`tc -n ${n.netns} qdisc show dev eth0`).out).toMatch(/htb 1: root/);
      expect(sh(`tc -n ${n.netns} class show dev eth0`).out).toMatch(/rate 200Mbit/);
    }
    expect(sh('tc qdisc show dev cm-h2').out).toMatch(/tbf .* rate 200Mbit/);

    // SSH with the controller key and strict host-key checking runs commands in the node
    const ssh = (knownHosts: string, cmd: string) =>
      sh(`ssh -i ${inv.controller.sshKey} -o UserKnownHostsFile=${knownHosts} -o StrictHostKeyChecking=yes -o BatchMode=yes ` +
        `-o ConnectTimeout=5 root@10.77.0.11 '${cmd}'`);
    const list = ssh(inv.controller.knownHosts, `runc --root ${inv.nodes[0].runcRoot} list; ip -br addr show dev eth0`);
    expect(list.code).toBe(0);
    expect(list.out).toMatch(/plate\s+\d+\s+running/);
    expect(list.out).toContain('10.77.0.11/24');
    const wrongKeys = join(stateDir, 'empty_known_hosts');
    writeFileSync(wrongKeys, '');
    expect(ssh(wrongKeys, 'true').code).not.toBe(0); // host keys are verified, not ignored

    // the plate service: health, then OCR requests whose counter increases in one process
    const h = await httpGetJson<{ ok: boolean; count: number }>('10.77.0.11', 8080, '/health');
    expect(h.ok).toBe(true);
    type Plate = { plate: string; count: number; instance: string; node: string; processingMs: number; error?: string };
    const a = await httpGetJson<Plate>('10.77.0.11', 8080, '/plate?i=5', 20_000);
    const b = await httpGetJson<Plate>('10.77.0.11', 8080, '/plate?i=5', 20_000);
    expect(b.count).toBe(a.count + 1);
    expect(b.instance).toBe(a.instance);
    expect(a.node).toBe('10.77.0.11');
    expect(a.error).toBeUndefined();
    expect(a.plate).toMatch(/3FG/); // tesseract read the generated plate "NJ 3FG 864"

    // the relay: reaches node1 from the users' side, its delay can be changed at run time
    const sock = inv.relay!.controlSocket;
    expect((await httpGet('10.77.0.2', 18001, '/health')).status).toBe(200);
    await relayControl(sock, { op: 'set', listenPort: 18001, delayMs: 40 });
    const slow = await httpGet('10.77.0.2', 18001, '/health');
    expect(slow.elapsedMs).toBeGreaterThanOrEqual(38);
    expect(slow.elapsedMs).toBeLessThan(1000);
    await relayControl(sock, { op: 'set', listenPort: 18001, delayMs: 0 });

    const st = await testbedStatus(stateDir);
    expect(st.up).toBe(true);
    expect(st.nodes[0].containers.map((c) => c.id)).toEqual(['plate']);
    expect(st.relay?.alive).toBe(true);

    const runcRoot = inv.nodes[0].runcRoot;
    const rep = await cleanTestbed(stateDir);
    expect(rep.errors).toEqual([]);
    expect(rep.containers).toEqual(['node1/plate']);
    expect(cmNamespaces()).toEqual([]);
    expect(cmLinks()).toEqual([]);
    expect(strayPids(stateDir, [])).toEqual([]);
    // no runc state can be left (note: `runc list` would create its root again)
    expect(existsSync(runcRoot)).toBe(false);
    expect(sh('runc list -q').out).not.toMatch(/^plate$/m);
    expect(mountsUnder(stateDir)).toEqual([]);
    expect(existsSync(stateDir)).toBe(false);
    // idempotent
    expect((await cleanTestbed(stateDir)).errors).toEqual([]);
  }, 90_000);

  it('clean after a half-finished up leaves nothing', async () => {
    // what a crash after a few steps could leave: a marked state dir, a namespace,
    // a veth, and a process inside the namespace
    mkdirSync(join(stateDir, 'nodes', 'node1', 'runc'), { recursive: true });
    writeFileSync(join(stateDir, STATE_MARKER), 'conmig-testbed crashed\n');
    expect(sh('ip netns add cm-node1 && ip link add cm-h1 type veth peer name cm-h1-p').code).toBe(0);
    const child = spawn('nsenter', ['--net=/run/netns/cm-node1', 'sleep', '300'], { stdio: 'ignore', detached: true });
    child.unref();
    await new Promise((r) => setTimeout(r, 300));
    expect(cmNamespaces()).toEqual(['cm-node1']);
    expect(strayPids(stateDir, ['cm-node1'])).toContain(child.pid);

    const rep = await cleanTestbed(stateDir);
    expect(rep.errors).toEqual([]);
    expect(rep.namespaces).toEqual(['cm-node1']);
    expect(rep.processes).toContain(child.pid);
    expect(cmNamespaces()).toEqual([]);
    expect(cmLinks()).toEqual([]);
    expect(existsSync(`/proc/${child.pid}`) && !readFileSync(`/proc/${child.pid}/stat`, 'utf8').includes(') Z')).toBe(false);
    expect(existsSync(stateDir)).toBe(false);
  }, 30_000);
});
