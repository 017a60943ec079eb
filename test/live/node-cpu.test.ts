/**
 * Testbed nodes of a known size, for real: one testbed (node1 and node2 at
 * 0.5 CPU, node3 unlimited) for the whole file. A limited node serves a fixed
 * CPU-bound job measurably slower than the unlimited one and is not slowed by
 * CPU hogs on a limited neighbour; a CRIU migration between the two limited
 * nodes restores the container under the destination's cgroup parent, where
 * it is limited too; teardown leaves no cgroup behind. Locally it skips with a
 * printed reason; under CI=true it never skips.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Inventory } from '../../src/live/inventory.ts';
import { migrateContainer } from '../../src/live/migrate/migrator.ts';
import { cpuCgroupOf, cpuGroupDir, detectCgroupsAt, readCpuLimit, type CgroupDriver } from '../../src/live/testbed/cgroup.ts';
import { cpuCheck, measureJobs, startSynthetic } from '../../src/live/testbed/cpu-check.ts';
import { cleanTestbed, httpGetJson, testbedStatus, testbedUp, waitHttp } from '../../src/live/testbed/index.ts';
import { sh, skipLive } from './helpers/env.ts';

const skip = skipLive('node-cpu.test', 'CPU-limited testbed node tests');
const STATE = '/tmp/conmig-test-node-cpu';
const TOPO = '/tmp/conmig-test-node-cpu.yaml';
const JOB_MS = 20;

function runcPid(inv: Inventory, node: string, id: string): number {
  const root = inv.nodes.find((n) => n.name === node)?.runcRoot ?? '';
  return Number(JSON.parse(sh(`runc --root ${root} state ${id}`).out).pid);
}

function conmigCgroups(): string[] {
  return sh('ls -d /sys/fs/cgroup/*/conmig /sys/fs/cgroup/conmig 2>/dev/null').out.split('\n').filter(Boolean);
}

describe.skipIf(skip)('CPU-limited testbed nodes (live)', () => {
  let inv: Inventory;
  let cg: CgroupDriver;

  beforeAll(async () => {
    await cleanTestbed(STATE);
    writeFileSync(TOPO, 'cpuPerNode: 0.5\nnodes: [{ name: node1 }, { name: node2 }, { name: node3, cpus: 64 }]\n');
    // node3's 64 cores are more than the machine has: in effect unlimited, but its limit is still written and read back
    const up = await testbedUp({ configFile: TOPO, stateDir: STATE, workload: false });
    inv = up.inventory;
    const d = detectCgroupsAt('/');
    if (d.version === 0) throw new Error(`no cgroup cpu controller: ${d.reason}`);
    cg = d;
  });

  afterAll(async () => {
    if (skip) return;
    const r = await cleanTestbed(STATE);
    expect(r.errors.filter((e) => !e.includes('marker'))).toEqual([]);
    expect(conmigCgroups()).toEqual([]);
  });

  it('records each node limit in the inventory, the kernel and the status; the node sshd and the relay stay outside it by default, at the testbed\'s weight', async () => {
    const [n1, , n3] = inv.nodes;
    expect(n1.cpu).toMatchObject({ cgroupParent: '/conmig/node1', cores: 0.5, periodUs: 10_000, cgroupVersion: cg.version });
    expect(n3.cpu?.cores).toBe(64);
    expect(readCpuLimit(cg, '/conmig/node1')?.cores).toBe(0.5);
    const st = await testbedStatus(STATE);
    expect(st.nodes.map((n) => n.cpu?.cores)).toEqual([0.5, 0.5, 64]);
    const sshd = Number(readFileSync(`${STATE}/nodes/node1/sshd/sshd.pid`, 'utf8'));
    // unlimited, at the testbed's reserved weight (the host leaf), not under a node's limit
    expect(cpuCgroupOf(cg, readFileSync(`/proc/${sshd}/cgroup`, 'utf8'))).toBe('/conmig/host');
    // the testbed's top group has the kernel's largest weight: other work on the host cannot take a node's quota
    const weight = readFileSync(join(cpuGroupDir(cg, '/conmig'), cg.version === 1 ? 'cpu.shares' : 'cpu.weight'), 'utf8').trim();
    expect(weight).toBe(cg.version === 1 ? '262144' : '10000');
    const relay = Number(readFileSync(`${STATE}/relay.pid`, 'utf8'));
    expect(cpuCgroupOf(cg, readFileSync(`/proc/${relay}/cgroup`, 'utf8'))).toBe('/conmig/host');
  });

  it('a limited node serves a fixed CPU-bound job measurably slower than an unlimited one, and hogs on a neighbour do not slow it', async () => {
    const limited = await cpuCheck({ stateDir: STATE, node: 'node1', jobCpuMs: JOB_MS, count: 15, loadSets: [['node2']] });
    const free = await cpuCheck({ stateDir: STATE, node: 'node3', jobCpuMs: JOB_MS, count: 11, loadSets: [] });
    const [idle, loaded] = limited;
    console.log(`[node-cpu.test] ${JOB_MS} CPU-ms job: node1 0.5 CPU ${idle.job.medianMs.toFixed(1)} ms, ` +
      `with hogs on node2 ${loaded.job.medianMs.toFixed(1)} ms; node3 unlimited ${free[0].job.medianMs.toFixed(1)} ms`);
    // at half a core a 20 ms job needs about 40 ms of wall time (less only by the quota left at its start)
    expect(idle.job.medianMs).toBeGreaterThan(1.5 * JOB_MS);
    expect(idle.job.medianMs / free[0].job.medianMs).toBeGreaterThan(1.3);
    // the neighbour really ran at its limit (throttled), and node1 did not notice
    expect(loaded.loadThrottledPeriods.node2).toBeGreaterThan(0);
    expect(loaded.job.medianMs).toBeLessThan(1.3 * idle.job.medianMs);
  });

  it('migrates a container between two limited nodes: restored under the destination parent, limited there, its state kept', async () => {
    const [n1, n2] = inv.nodes;
    await startSynthetic(n1, 'mig', ['/bin/synthetic', '8081', '8', '0']);
    await waitHttp(n1.address, 8081, '/health', 10_000);
    const before = await httpGetJson<{ count: number; instance: string }>(n1.address, 8081, '/health');
    expect(cpuCgroupOf(cg, readFileSync(`/proc/${runcPid(inv, 'node1', 'mig')}/cgroup`, 'utf8'))).toBe('/conmig/node1/mig');

    const r = await migrateContainer({ inventory: inv, container: 'mig', from: 'node1', to: 'node2', mode: 'cold', port: 8081, healthPath: '/health' });
    expect(r.to).toBe('node2');
    console.log(`[node-cpu.test] migration node1 -> node2 (0.5 CPU each): downtime ${r.downtimeMs.toFixed(0)} ms, ` +
      r.phases.map((p) => `${p.phase} ${p.wallMs.toFixed(0)}`).join(', '));

    const pid = runcPid(inv, 'node2', 'mig');
    const procCgroup = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    expect(cpuCgroupOf(cg, procCgroup)).toBe('/conmig/node2/mig');
    expect(JSON.parse(readFileSync(`${n2.bundlesDir}/mig/config.json`, 'utf8')).linux.cgroupsPath).toBe('/conmig/node2/mig');
    expect(existsSync(cpuGroupDir(cg, '/conmig/node1/mig'))).toBe(false);
    const after = await httpGetJson<{ count: number; instance: string }>(n2.address, 8081, '/health');
    expect(after.instance).toBe(before.instance);
    expect(after.count).toBeGreaterThan(before.count);
    // limited at the destination too
    const job = await measureJobs(n2, JOB_MS, 7);
    expect(job.medianMs).toBeGreaterThan(1.5 * JOB_MS);
    sh(`runc --root ${n2.runcRoot} delete -f mig`);
  });
});
