/**
 * The nodes' CPU cgroups without a kernel: cgroup v1/v2 detection from mount
 * tables, the folders and limit files a node's parent gets (against a fake
 * tree under a temporary fs root), the limits read back, a process's cgroup,
 * the teardown sweep, and the topology and bundle fields that carry the limit.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isConmigError } from '../../src/model/errors.ts';
import {
  containerCgroupsPath, cpuCgroupOf, cpuDisagreement, cpuPeriodDisagreement, createHostGroup, createNodeCgroup, hostGroupPlan, RESERVED_CPU_SHARES_V1, RESERVED_CPU_WEIGHT_V2, rootProcsFile, scenarioCpuForLimit, detectCgroups, detectCgroupsAt, effectivePeriodUs, nodeCgroupParent,
  nodeCgroupPlan, parseCpuLimit, parseMounts, readCpuLimit, removeCgroupTree, servicesProcsFile, type CgroupDriver,
} from '../../src/live/testbed/cgroup.ts';
import { bundleConfigForNode } from '../../src/live/testbed/bundle.ts';
import { loadTopology, planTopology, starTopology } from '../../src/live/testbed/topology.ts';

// this project's machines (2026-12-01): v1 controllers each in its own hierarchy, a cgroup2 mount without cpu
const HYBRID = `tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0
cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0
cgroup /sys/fs/cgroup/cpuacct cgroup rw,relatime,cpuacct 0 0
cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0
cgroup /sys/fs/cgroup/systemd cgroup rw,relatime,name=systemd 0 0
cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0
`;
const COMOUNTED = `cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,nosuid,nodev,noexec,relatime,cpu,cpuacct 0 0
cgroup /sys/fs/cgroup/cpuset cgroup rw,cpuset 0 0
`;
const V2 = `proc /proc proc rw 0 0
cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate 0 0
`;

const roots: string[] = [];
function fakeRoot(): string {
  const r = mkdtempSync(join(tmpdir(), 'conmig-cg-'));
  roots.push(r);
  return r;
}
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

describe('cgroup detection', () => {
  it('finds the v1 cpu hierarchy on a hybrid host, whose cgroup2 mount has no cpu controller', () => {
    const d = detectCgroups(parseMounts(HYBRID), () => 'memory pids');
    expect(d).toMatchObject({ version: 1, cpuMount: '/sys/fs/cgroup/cpu' });
    expect(d.hierarchies).toEqual(['/sys/fs/cgroup/cpu', '/sys/fs/cgroup/cpuacct', '/sys/fs/cgroup/memory', '/sys/fs/cgroup/systemd', '/sys/fs/cgroup/unified']);
  });

  it('finds a co-mounted cpu,cpuacct hierarchy and not the cpuset one', () => {
    expect(detectCgroups(parseMounts(COMOUNTED), () => null)).toMatchObject({ version: 1, cpuMount: '/sys/fs/cgroup/cpu,cpuacct' });
  });

  it('finds cgroup v2 when its controllers list cpu, and refuses with a reason when they do not', () => {
    expect(detectCgroups(parseMounts(V2), () => 'cpuset cpu io memory pids\n')).toMatchObject({ version: 2, root: '/sys/fs/cgroup' });
    const none = detectCgroups(parseMounts(V2), () => 'memory pids');
    expect(none.version).toBe(0);
    expect(none.version === 0 && none.reason).toMatch(/\/sys\/fs\/cgroup has no cpu controller/);
    expect(detectCgroups(parseMounts('proc /proc proc rw 0 0\n'), () => null)).toMatchObject({ version: 0, hierarchies: [] });
  });

  it('decodes escaped mountpoints', () => {
    expect(parseMounts('cgroup /mnt/with\\040space cgroup rw,cpu 0 0')[0].mountpoint).toBe('/mnt/with space');
  });

  it('reads the mount table and controllers under a fake fs root, and answers paths under it', () => {
    const root = fakeRoot();
    mkdirSync(join(root, 'proc/self'), { recursive: true });
    writeFileSync(join(root, 'proc/self/mounts'), V2);
    mkdirSync(join(root, 'sys/fs/cgroup'), { recursive: true });
    writeFileSync(join(root, 'sys/fs/cgroup/cgroup.controllers'), 'cpu memory\n');
    expect(detectCgroupsAt(root)).toMatchObject({ version: 2, root: join(root, 'sys/fs/cgroup') });
    expect(detectCgroupsAt(join(root, 'nowhere'))).toMatchObject({ version: 0, reason: expect.stringMatching(/mount table/) });
  });
});

describe('a node cgroup parent', () => {
  const v1: CgroupDriver = { version: 1, cpuMount: '/sys/fs/cgroup/cpu', hierarchies: [] };
  const v2: CgroupDriver = { version: 2, root: '/sys/fs/cgroup', hierarchies: [] };

  it('names the parent, the container cgroupsPath and the services leaf', () => {
    expect(nodeCgroupParent('node2')).toBe('/conmig/node2');
    expect(containerCgroupsPath('/conmig/node2/', 'plate')).toBe('/conmig/node2/plate');
    expect(servicesProcsFile(v1, '/conmig/node1')).toBe('/sys/fs/cgroup/cpu/conmig/node1/sshd/cgroup.procs');
  });

  it('v1: quota lifted, then period and quota of half a core, in that order', () => {
    const writes = nodeCgroupPlan(v1, 'node1', 0.5, 10_000).filter((s) => s.op === 'write').map((s) => `${s.path}=${s.value}`);
    expect(writes).toEqual([
      '/sys/fs/cgroup/cpu/conmig/cpu.shares=262144',
      '/sys/fs/cgroup/cpu/conmig/node1/cpu.cfs_quota_us=-1',
      '/sys/fs/cgroup/cpu/conmig/node1/cpu.cfs_period_us=10000',
      '/sys/fs/cgroup/cpu/conmig/node1/cpu.cfs_quota_us=5000',
    ]);
    expect(nodeCgroupPlan(v1, 'node1', 0.5).filter((s) => s.op === 'mkdir').map((s) => s.path))
      .toEqual(['/sys/fs/cgroup/cpu/conmig', '/sys/fs/cgroup/cpu/conmig/node1', '/sys/fs/cgroup/cpu/conmig/node1/sshd']);
  });

  it('the top group takes the largest weight the kernel allows, so host work cannot take a node\'s quota; the host leaf is unlimited under it', () => {
    // the kernel's maxima: v1 cpu.shares 2^18, v2 cpu.weight 10000 (defaults 1024 and 100)
    expect(RESERVED_CPU_SHARES_V1).toBe(2 ** 18);
    expect(RESERVED_CPU_WEIGHT_V2).toBe(10_000);
    expect(hostGroupPlan(v1).map((s) => `${s.op} ${s.path}${s.value === undefined ? '' : `=${s.value}`}`)).toEqual([
      'mkdir /sys/fs/cgroup/cpu/conmig',
      'write /sys/fs/cgroup/cpu/conmig/cpu.shares=262144',
      'mkdir /sys/fs/cgroup/cpu/conmig/host',
      'write /sys/fs/cgroup/cpu/conmig/host/cpu.cfs_quota_us=-1',
    ]);
    expect(hostGroupPlan(v2).filter((s) => s.op === 'write').map((s) => `${s.path}=${s.value}`)).toEqual([
      '/sys/fs/cgroup/cgroup.subtree_control=+cpu',
      '/sys/fs/cgroup/conmig/cpu.weight=10000',
      '/sys/fs/cgroup/conmig/cgroup.subtree_control=+cpu',
      '/sys/fs/cgroup/conmig/host/cpu.max=max',
    ]);
    expect(rootProcsFile(v1)).toBe('/sys/fs/cgroup/cpu/cgroup.procs');
    expect(rootProcsFile(v2)).toBe('/sys/fs/cgroup/cgroup.procs');
  });

  it('makes the host leaf in a fake v1 tree and returns its cgroup.procs', async () => {
    const root = fakeRoot();
    const d: CgroupDriver = { version: 1, cpuMount: join(root, 'cpu'), hierarchies: [join(root, 'cpu')] };
    mkdirSync(d.cpuMount, { recursive: true });
    const procs = await createHostGroup(d);
    expect(procs).toBe(join(root, 'cpu', 'conmig', 'host', 'cgroup.procs'));
    expect(readFileSync(join(root, 'cpu', 'conmig', 'cpu.shares'), 'utf8')).toBe('262144');
    expect(readFileSync(join(root, 'cpu', 'conmig', 'host', 'cpu.cfs_quota_us'), 'utf8')).toBe('-1');
  });

  it('v2: the cpu controller enabled down to the node, cpu.max; unlimited is written as max', () => {
    const writes = nodeCgroupPlan(v2, 'node1', 1.5, 10_000).filter((s) => s.op === 'write').map((s) => `${s.path}=${s.value}`);
    expect(writes).toEqual([
      '/sys/fs/cgroup/cgroup.subtree_control=+cpu',
      '/sys/fs/cgroup/conmig/cpu.weight=10000',
      '/sys/fs/cgroup/conmig/cgroup.subtree_control=+cpu',
      '/sys/fs/cgroup/conmig/node1/cpu.max=15000 10000',
    ]);
    expect(nodeCgroupPlan(v2, 'n', undefined).at(-2)).toEqual({ op: 'write', path: '/sys/fs/cgroup/conmig/n/cpu.max', value: 'max 10000' });
  });

  it('lengthens the period where the quota would fall below the kernel minimum of 1 ms, never rounding the limit', () => {
    expect(effectivePeriodUs(0.05, 10_000)).toBe(20_000);
    expect(effectivePeriodUs(0.5, 10_000)).toBe(10_000);
    const q = nodeCgroupPlan(v1, 'x', 0.05, 10_000).filter((s) => s.op === 'write').map((s) => s.value);
    expect(q).toEqual([String(RESERVED_CPU_SHARES_V1), '-1', '20000', '1000']);
    expect(() => nodeCgroupPlan(v1, 'x', 0, 10_000)).toThrow(/positive number of cores/);
  });

  it('creates the parent in a fake v2 tree, reads the limit back, and the sweep removes only conmig/', async () => {
    const root = fakeRoot();
    const d: CgroupDriver = { version: 2, root, hierarchies: [root] };
    mkdirSync(join(root, 'other'));
    expect(await createNodeCgroup(d, 'node1', 0.5, 10_000)).toBe('/conmig/node1');
    expect(readFileSync(join(root, 'conmig/node1/cpu.max'), 'utf8')).toBe('5000 10000');
    expect(readFileSync(join(root, 'conmig/cgroup.subtree_control'), 'utf8')).toBe('+cpu');
    writeFileSync(join(root, 'conmig/node1/cpu.stat'), 'usage_usec 100\nnr_periods 9\nnr_throttled 4\nthrottled_usec 2500\n');
    expect(readCpuLimit(d, '/conmig/node1')).toEqual({ cores: 0.5, periodUs: 10_000, nrThrottled: 4, throttledMs: 2.5 });
    expect(readCpuLimit(d, '/conmig/node9')).toBeNull();
    const r = removeCgroupTree(d.hierarchies, { rmdir: (dir) => rmSync(dir, { recursive: true }) });
    expect(r.errors).toEqual([]);
    expect(r.removed).toContain(join(root, 'conmig/node1/sshd'));
    expect(r.removed.at(-1)).toBe(join(root, 'conmig'));
    expect(existsSync(join(root, 'conmig'))).toBe(false);
    expect(existsSync(join(root, 'other'))).toBe(true);
  });

  it('names the file and the reason when the kernel refuses a limit', async () => {
    const root = fakeRoot();
    writeFileSync(join(root, 'conmig'), 'a file where the group should be');
    try {
      await createNodeCgroup({ version: 1, cpuMount: root, hierarchies: [] }, 'node1', 0.5);
      expect.unreachable();
    } catch (e) {
      expect(isConmigError(e) && e.code).toBe('TESTBED_FAILED');
      expect((e as Error).message).toMatch(/CPU cgroup of node1: mkdir .*conmig/);
    }
  });

  it('parses v1 and v2 limit files and a process cgroup list', () => {
    expect(parseCpuLimit(1, { quota: '-1', period: '100000' })).toEqual({ cores: null, periodUs: 100_000 });
    expect(parseCpuLimit(1, { quota: '5000', period: '10000', stat: 'nr_periods 10\nnr_throttled 3\nthrottled_time 7000000' }))
      .toEqual({ cores: 0.5, periodUs: 10_000, nrThrottled: 3, throttledMs: 7 });
    expect(parseCpuLimit(2, { max: 'max 100000' })).toEqual({ cores: null, periodUs: 100_000 });
    expect(parseCpuLimit(2, { max: null })).toBeNull();
    const proc = '2:cpuacct:/conmig/node1/plate\n1:cpu:/conmig/node1/plate\n0::/conmig/x\n';
    expect(cpuCgroupOf({ version: 1, cpuMount: '/c', hierarchies: [] }, proc)).toBe('/conmig/node1/plate');
    expect(cpuCgroupOf({ version: 2, root: '/c', hierarchies: [] }, proc)).toBe('/conmig/x');
    expect(cpuCgroupOf({ version: 1, cpuMount: '/c', hierarchies: [] }, '4:cpu,cpuacct:/a\n')).toBe('/a');
  });
});

describe('the limit in the topology and the bundle', () => {
  it('cpuPerNode applies to every node, nodes[].cpus overrides it, --cpu-per-node builds the same', () => {
    const plan = planTopology({ shape: 'star', latencyMs: 0, defaultBandwidthMbps: 1000, cpuPerNode: 0.5,
      nodes: [{ name: 'a' }, { name: 'b', cpus: 2 }], links: [] });
    expect(plan.nodes.map((n) => n.cpus)).toEqual([0.5, 2]);
    expect(plan.cpuPeriodUs).toBe(10_000);
    expect(planTopology(starTopology(2, 100, 0, 0.25)).nodes.map((n) => n.cpus)).toEqual([0.25, 0.25]);
    expect(planTopology(starTopology(2, 100, 0)).nodes[0].cpus).toBeUndefined();
  });

  it('rejects a bad limit naming the file and field', async () => {
    const dir = fakeRoot();
    const f = join(dir, 'topo.yaml');
    writeFileSync(f, 'nodes: [{ name: node1, cpus: 0 }]\n');
    try {
      await loadTopology(f);
      expect.unreachable();
    } catch (e) {
      expect(isConmigError(e) && e.problems.map((p) => `${p.file}:${p.path}`)).toEqual([`${f}:nodes.0.cpus`]);
    }
  });

  it('sets, keeps or removes cgroupsPath in a bundle config', () => {
    const cfg = JSON.stringify({ root: { path: '/r' }, linux: { namespaces: [{ type: 'network' }], cgroupsPath: '/conmig/node1/c' } });
    expect(JSON.parse(bundleConfigForNode(cfg, '/run/netns/cm-node2', { cgroupsPath: '/conmig/node2/c' })).linux.cgroupsPath).toBe('/conmig/node2/c');
    expect(JSON.parse(bundleConfigForNode(cfg, null)).linux.cgroupsPath).toBe('/conmig/node1/c');
    expect(JSON.parse(bundleConfigForNode(cfg, null, { cgroupsPath: null })).linux).not.toHaveProperty('cgroupsPath');
  });
});

describe('the simulator and the testbed mean the same node', () => {
  it('a limit of C cores is ceil(C) scenario cores at speed C / ceil(C)', () => {
    expect(scenarioCpuForLimit(0.5)).toEqual({ cpuCores: 1, speedFactor: 0.5 });
    expect(scenarioCpuForLimit(1)).toEqual({ cpuCores: 1, speedFactor: 1 });
    expect(scenarioCpuForLimit(2)).toEqual({ cpuCores: 2, speedFactor: 1 });
    expect(scenarioCpuForLimit(1.5)).toEqual({ cpuCores: 2, speedFactor: 0.75 });
  });

  it('accepts a matching scenario node and names the fix for one that is not', () => {
    expect(cpuDisagreement('node1', 1, 0.5, 0.5)).toBeNull();
    expect(cpuDisagreement('node1', 2, 0.75, 1.5)).toBeNull();
    expect(cpuDisagreement('node1', 1, 1, 0.5)).toMatch(/"node1" has cpuCores 1 x speedFactor 1 = 1 cores, but the testbed node is limited to 0.5 CPU: set cpuCores: 1, speedFactor: 0.5/);
  });

  it("a scenario node's CFS period must be the testbed node's (or absent: jobs at speedFactor)", () => {
    expect(cpuPeriodDisagreement('node1', 10, 10_000)).toBeNull();
    expect(cpuPeriodDisagreement('node1', undefined, 10_000)).toBeNull();
    expect(cpuPeriodDisagreement('node1', 10, undefined)).toBeNull();
    expect(cpuPeriodDisagreement('node1', 100, 20_000)).toBe(
      'scenario node "node1" has cpuPeriodMs 100, but the testbed node\'s CPU limit has a period of 20 ms: set cpuPeriodMs: 20 (docs/testbed.md, "CPU capacity")',
    );
  });
});
