/**
 * CPU capacity of testbed nodes: one cgroup parent per node with a CPU
 * bandwidth limit (Mininet's CPU-limited hosts), the node's runc containers
 * under it (runc `linux.cgroupsPath` = `<parent>/<container>`) and, with the
 * topology's `limitNodeServices`, the node's own sshd (which runs the
 * migration's runc/CRIU/tar commands) in a leaf `<parent>/sshd`. A node limited to C cores can use C cores' worth of CPU
 * time per period, however busy the other nodes are, and no more.
 *
 *   cgroup v1 (this project's machines): the `cpu` controller's hierarchy,
 *     <cpu mount>/conmig/<node>/{cpu.cfs_period_us, cpu.cfs_quota_us}
 *   cgroup v2: <cgroup2 mount>/conmig/<node>/cpu.max = "<quota> <period>",
 *     with `+cpu` in the subtree_control of the mount and of conmig/
 *
 * Which one is detected from the mount table (a v1 `cpu` hierarchy wins over a
 * cgroup2 mount without the cpu controller, as on hybrid hosts). Every path is
 * resolved under `fsRoot`, so the logic runs against a fake tree in tests.
 * runc creates the container cgroups (and, on v1, the parents in the other
 * controllers' hierarchies); `removeCgroupTree` removes everything under
 * `conmig/` in every cgroup hierarchy, deepest first.
 */
import { existsSync, readdirSync, readFileSync, rmdirSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConmigError } from '../../model/errors.ts';

/** Top cgroup of the testbed (relative to a hierarchy's root). */
export const CGROUP_TOP = 'conmig';
/** Leaf for a node's own services (sshd and the sessions it forks). */
export const SERVICES_LEAF = 'sshd';
/**
 * Default CFS period. Short, so that a node limited to C cores runs a job of S
 * CPU-ms in about S / C wall-ms even when S is a few tens of ms (with the kernel's
 * 100 ms default a 20 ms job on an idle half-core node would run at full speed
 * from the period's unused quota).
 */
export const DEFAULT_CPU_PERIOD_US = 10_000;
/** The kernel's smallest CFS quota. */
export const MIN_QUOTA_US = 1000;
/**
 * Weight of the testbed's top group against the host's other work: the
 * largest the kernel takes (v1 `cpu.shares`, default 1024; v2 `cpu.weight`,
 * default 100). A node's bandwidth limit is a ceiling only; with this weight
 * the testbed is served first whenever it is runnable, so a node gets its C
 * cores even when other work keeps every core busy (a reservation as far as
 * the host allows: the limits add up to less than the machine). A nice-0 task
 * outside any group weighs 1024, so on v1 the top group wins against up to 256
 * busy tasks.
 */
export const RESERVED_CPU_SHARES_V1 = 262_144;
export const RESERVED_CPU_WEIGHT_V2 = 10_000;
/** Leaf of the testbed's top group for work that serves every node, unlimited (the relay, the controller of a run, a node's sshd when it is not limited). */
export const HOST_LEAF = 'host';

export interface MountEntry {
  mountpoint: string;
  fstype: string;
  options: string[];
}

export type CgroupDriver =
  | { version: 1; /** the v1 `cpu` hierarchy's mountpoint */ cpuMount: string; /** every cgroup mountpoint (v1 and v2) */ hierarchies: string[] }
  | { version: 2; /** the cgroup2 mountpoint */ root: string; hierarchies: string[] };

export type CgroupDetection = CgroupDriver | { version: 0; reason: string; hierarchies: string[] };

/** `/proc/self/mounts` lines (octal escapes such as \040 decoded). */
export function parseMounts(text: string): MountEntry[] {
  const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4) continue;
    out.push({ mountpoint: unescape(f[1]), fstype: f[2], options: f[3].split(',') });
  }
  return out;
}

/**
 * Which cgroup version carries the cpu controller. `controllersOf(mountpoint)`
 * returns the text of a cgroup2 mount's `cgroup.controllers` (null if unreadable).
 */
export function detectCgroups(mounts: readonly MountEntry[], controllersOf: (mountpoint: string) => string | null): CgroupDetection {
  const cgroupMounts = mounts.filter((m) => m.fstype === 'cgroup' || m.fstype === 'cgroup2');
  const hierarchies = [...new Set(cgroupMounts.map((m) => m.mountpoint))];
  const v1 = cgroupMounts.find((m) => m.fstype === 'cgroup' && m.options.includes('cpu'));
  if (v1) return { version: 1, cpuMount: v1.mountpoint, hierarchies };
  const v2 = cgroupMounts.filter((m) => m.fstype === 'cgroup2');
  for (const m of v2) {
    const ctl = controllersOf(m.mountpoint);
    if (ctl !== null && ctl.trim().split(/\s+/).includes('cpu')) return { version: 2, root: m.mountpoint, hierarchies };
  }
  if (v2.length > 0) {
    return { version: 0, hierarchies, reason: `the cgroup2 mount ${v2.map((m) => m.mountpoint).join(', ')} has no cpu controller and no cgroup v1 cpu hierarchy is mounted` };
  }
  return { version: 0, hierarchies, reason: 'no cgroup hierarchy with the cpu controller is mounted (neither a v1 `cpu` mount nor cgroup2)' };
}

/**
 * Read the mount table and controllers under `fsRoot` ('/' for the real system);
 * the mountpoints returned are under `fsRoot` too, so every later path is.
 */
export function detectCgroupsAt(fsRoot = '/'): CgroupDetection {
  let text: string;
  try {
    text = readFileSync(join(fsRoot, 'proc/self/mounts'), 'utf8');
  } catch (e) {
    return { version: 0, hierarchies: [], reason: `cannot read the mount table: ${(e as Error).message}` };
  }
  const mounts = parseMounts(text).map((m) => ({ ...m, mountpoint: join(fsRoot, m.mountpoint) }));
  return detectCgroups(mounts, (mp) => {
    try {
      return readFileSync(join(mp, 'cgroup.controllers'), 'utf8');
    } catch {
      return null;
    }
  });
}

/** A node's cgroup parent, as runc's cgroupsPath prefix and as written in the inventory. */
export function nodeCgroupParent(node: string): string {
  return `/${CGROUP_TOP}/${node}`;
}

/** runc `linux.cgroupsPath` of a container on a node with that parent. */
export function containerCgroupsPath(parent: string, container: string): string {
  return `${parent.replace(/\/+$/, '')}/${container}`;
}

/**
 * The CFS period a limit of `cores` uses: `periodUs`, lengthened where the
 * quota would fall below the kernel's 1 ms minimum (0.05 cores at 10 ms ->
 * 20 ms), so the limit is exact rather than rounded up.
 */
export function effectivePeriodUs(cores: number | undefined, periodUs: number): number {
  if (cores === undefined) return periodUs;
  if (!(cores > 0) || !Number.isFinite(cores)) throw new ConmigError('USAGE', `a node's CPU limit must be a positive number of cores, got ${cores}`);
  return Math.max(periodUs, Math.ceil(MIN_QUOTA_US / cores));
}

/** CFS quota for `cores` cores at `periodUs` (the period as effectivePeriodUs gives it). */
export function quotaUs(cores: number, periodUs: number): number {
  if (!(cores > 0) || !Number.isFinite(cores)) throw new ConmigError('USAGE', `a node's CPU limit must be a positive number of cores, got ${cores}`);
  return Math.max(MIN_QUOTA_US, Math.round(cores * periodUs));
}

/**
 * What a node limited to `cores` CPU is in a scenario: `ceil(cores)` cores
 * each at `cores / ceil(cores)` speed (0.5 -> cpuCores 1, speedFactor 0.5; 2 ->
 * 2 cores at full speed). Its capacity cpuCores x speedFactor equals the limit;
 * a single-threaded job takes its service time / speedFactor.
 */
export function scenarioCpuForLimit(cores: number): { cpuCores: number; speedFactor: number } {
  const cpuCores = Math.max(1, Math.ceil(cores - 1e-9));
  return { cpuCores, speedFactor: cores / cpuCores };
}

/** Why a scenario node (cpuCores, speedFactor) does not describe a testbed node limited to `limitCores`, or null. */
export function cpuDisagreement(node: string, cpuCores: number, speedFactor: number, limitCores: number): string | null {
  const capacity = cpuCores * speedFactor;
  if (Math.abs(capacity - limitCores) <= 0.01 * limitCores) return null;
  const want = scenarioCpuForLimit(limitCores);
  return `scenario node "${node}" has cpuCores ${cpuCores} x speedFactor ${speedFactor} = ${+capacity.toFixed(3)} cores, ` +
    `but the testbed node is limited to ${limitCores} CPU: set cpuCores: ${want.cpuCores}, speedFactor: ${+want.speedFactor.toFixed(4)} ` +
    '(docs/testbed.md, "CPU capacity")';
}

/**
 * Why a scenario node's CFS period (cpuPeriodMs, src/model/cpu-bandwidth.ts) does not describe a
 * testbed node's limit of `periodUs`, or null. Without cpuPeriodMs the scenario runs every job at
 * speedFactor (no period): allowed, the older and coarser meaning of the same capacity.
 */
export function cpuPeriodDisagreement(node: string, cpuPeriodMs: number | undefined, periodUs: number | undefined): string | null {
  if (cpuPeriodMs === undefined || periodUs === undefined) return null;
  if (Math.abs(cpuPeriodMs * 1000 - periodUs) < 1) return null;
  return `scenario node "${node}" has cpuPeriodMs ${cpuPeriodMs}, but the testbed node's CPU limit has a period of ${periodUs / 1000} ms: set cpuPeriodMs: ${periodUs / 1000} (docs/testbed.md, "CPU capacity")`;
}

/** Folder of `group` (e.g. /conmig/node1) in the hierarchy that enforces the cpu limit. */
export function cpuGroupDir(d: CgroupDriver, group: string): string {
  return join(d.version === 1 ? d.cpuMount : d.root, group);
}

export interface CgroupPlanStep {
  op: 'mkdir' | 'write';
  path: string;
  value?: string;
}

/** The top group with its reserved weight (and, on v2, the cpu controller enabled for its children). */
export function topGroupPlan(d: CgroupDriver): CgroupPlanStep[] {
  const top = cpuGroupDir(d, `/${CGROUP_TOP}`);
  const steps: CgroupPlanStep[] = [{ op: 'mkdir', path: top }];
  if (d.version === 2) {
    steps.push({ op: 'write', path: join(d.root, 'cgroup.subtree_control'), value: '+cpu' });
    steps.push({ op: 'write', path: join(top, 'cpu.weight'), value: String(RESERVED_CPU_WEIGHT_V2) });
    steps.push({ op: 'write', path: join(top, 'cgroup.subtree_control'), value: '+cpu' });
  } else {
    steps.push({ op: 'write', path: join(top, 'cpu.shares'), value: String(RESERVED_CPU_SHARES_V1) });
  }
  return steps;
}

/** The unlimited host leaf `/conmig/host` under the top group (made after the top group). */
export function hostGroupPlan(d: CgroupDriver): CgroupPlanStep[] {
  const dir = cpuGroupDir(d, `/${CGROUP_TOP}/${HOST_LEAF}`);
  const steps: CgroupPlanStep[] = [...topGroupPlan(d), { op: 'mkdir', path: dir }];
  steps.push(d.version === 1 ? { op: 'write', path: join(dir, 'cpu.cfs_quota_us'), value: '-1' } : { op: 'write', path: join(dir, 'cpu.max'), value: 'max' });
  return steps;
}

async function applyPlan(d: CgroupDriver, what: string, plan: readonly CgroupPlanStep[]): Promise<void> {
  for (const s of plan) {
    try {
      if (s.op === 'mkdir') await mkdir(s.path, { recursive: true });
      else await writeFile(s.path, s.value ?? '');
    } catch (e) {
      throw new ConmigError('TESTBED_FAILED', `cannot set up the CPU cgroup of ${what}: ${s.op} ${s.path}${s.value ? ` = ${s.value}` : ''}: ${(e as Error).message}`, {
        context: { group: what, path: s.path, cgroupVersion: d.version }, cause: e,
      });
    }
  }
}

/** Make `/conmig/host` and return its `cgroup.procs` (a process written there, and what it forks later, runs at the testbed's weight, unlimited). */
export async function createHostGroup(d: CgroupDriver): Promise<string> {
  await applyPlan(d, HOST_LEAF, hostGroupPlan(d));
  return join(cpuGroupDir(d, `/${CGROUP_TOP}/${HOST_LEAF}`), 'cgroup.procs');
}

/** `cgroup.procs` of the hierarchy's root (to move a process out of the testbed's groups). */
export function rootProcsFile(d: CgroupDriver): string {
  return join(d.version === 1 ? d.cpuMount : d.root, 'cgroup.procs');
}

/**
 * What making a node's parent does, in order: the folders (top, node, services
 * leaf) and the limit files. `cores` undefined: a parent without a limit (the
 * node is unlimited but its containers are still found under it).
 */
export function nodeCgroupPlan(d: CgroupDriver, node: string, cores: number | undefined, periodUs = DEFAULT_CPU_PERIOD_US): CgroupPlanStep[] {
  const parent = nodeCgroupParent(node);
  const dir = cpuGroupDir(d, parent);
  const steps: CgroupPlanStep[] = topGroupPlan(d);
  steps.push({ op: 'mkdir', path: dir });
  // unlimited is written too (-1 / max): a group left by a crashed run may still carry an old limit
  const period = effectivePeriodUs(cores, periodUs);
  const q = cores === undefined ? undefined : quotaUs(cores, period);
  if (d.version === 1) {
    // v1 checks quota against period as each is written: lift the quota first (-1), then set period, then quota
    steps.push({ op: 'write', path: join(dir, 'cpu.cfs_quota_us'), value: '-1' });
    steps.push({ op: 'write', path: join(dir, 'cpu.cfs_period_us'), value: String(period) });
    if (q !== undefined) steps.push({ op: 'write', path: join(dir, 'cpu.cfs_quota_us'), value: String(q) });
  } else {
    steps.push({ op: 'write', path: join(dir, 'cpu.max'), value: `${q ?? 'max'} ${period}` });
  }
  steps.push({ op: 'mkdir', path: join(dir, SERVICES_LEAF) });
  return steps;
}

/** Make a node's parent (and its services leaf) with its limit; returns the parent (`/conmig/<node>`). */
export async function createNodeCgroup(d: CgroupDriver, node: string, cores: number | undefined, periodUs = DEFAULT_CPU_PERIOD_US): Promise<string> {
  await applyPlan(d, node, nodeCgroupPlan(d, node, cores, periodUs));
  return nodeCgroupParent(node);
}

/** `cgroup.procs` of the node's services leaf: a process written there (and what it forks later) runs within the node's limit. */
export function servicesProcsFile(d: CgroupDriver, parent: string): string {
  return join(cpuGroupDir(d, parent), SERVICES_LEAF, 'cgroup.procs');
}

export interface CpuLimit {
  /** Cores the group may use per period; null when unlimited. */
  cores: number | null;
  periodUs: number;
  /** Periods in which the group was throttled, and for how long in total. */
  nrThrottled?: number;
  throttledMs?: number;
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}

/** Parse a group's limit files (`cpu.max`, or `cpu.cfs_quota_us` + `cpu.cfs_period_us`) and `cpu.stat`. */
export function parseCpuLimit(version: 1 | 2, files: { max?: string | null; quota?: string | null; period?: string | null; stat?: string | null }): CpuLimit | null {
  let cores: number | null;
  let periodUs: number;
  if (version === 2) {
    if (!files.max) return null;
    const [q, p] = files.max.split(/\s+/);
    periodUs = Number(p);
    cores = q === 'max' ? null : Number(q) / periodUs;
  } else {
    if (!files.quota || !files.period) return null;
    periodUs = Number(files.period);
    const q = Number(files.quota);
    cores = q < 0 ? null : q / periodUs;
  }
  const out: CpuLimit = { cores, periodUs };
  const stat = new Map((files.stat ?? '').split('\n').map((l) => l.trim().split(/\s+/) as [string, string]));
  if (stat.has('nr_throttled')) out.nrThrottled = Number(stat.get('nr_throttled'));
  if (stat.has('throttled_usec')) out.throttledMs = Number(stat.get('throttled_usec')) / 1000;
  else if (stat.has('throttled_time')) out.throttledMs = Number(stat.get('throttled_time')) / 1e6;
  return out;
}

/** The limit a group has now (null if the group does not exist). */
export function readCpuLimit(d: CgroupDriver, group: string): CpuLimit | null {
  const dir = cpuGroupDir(d, group);
  if (!existsSync(dir)) return null;
  return d.version === 2
    ? parseCpuLimit(2, { max: readText(join(dir, 'cpu.max')), stat: readText(join(dir, 'cpu.stat')) })
    : parseCpuLimit(1, { quota: readText(join(dir, 'cpu.cfs_quota_us')), period: readText(join(dir, 'cpu.cfs_period_us')), stat: readText(join(dir, 'cpu.stat')) });
}

/** The cgroup a process is in, per hierarchy (`/proc/<pid>/cgroup`: "id:controllers:path" lines). */
export function parseProcCgroup(text: string): { controllers: string[]; path: string }[] {
  return text.trim().split('\n').filter(Boolean).map((l) => {
    const [, ctl = '', ...rest] = l.split(':');
    return { controllers: ctl === '' ? [] : ctl.split(','), path: rest.join(':') };
  });
}

/** The cgroup of `pid` in the hierarchy that enforces the cpu limit. */
export function cpuCgroupOf(d: CgroupDriver, procCgroupText: string): string | undefined {
  const rows = parseProcCgroup(procCgroupText);
  const row = d.version === 1 ? rows.find((r) => r.controllers.includes('cpu')) : rows.find((r) => r.controllers.length === 0);
  return row?.path;
}

/**
 * Remove `conmig/` and everything under it in every hierarchy, deepest first
 * (a cgroup folder goes with rmdir once it has no processes and no child
 * groups; its control files go with it). `rmdir` is replaceable for a fake
 * tree in tests, whose folders hold ordinary files.
 * Returns the groups removed and the ones that could not be (with the reason).
 */
export function removeCgroupTree(hierarchies: readonly string[], opts: { rmdir?: (dir: string) => void } = {}): { removed: string[]; errors: string[] } {
  const rm = opts.rmdir ?? ((dir: string): void => rmdirSync(dir));
  const removed: string[] = [];
  const errors: string[] = [];
  const walk = (dir: string): void => {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e);
      try {
        if (statSync(p).isDirectory()) walk(p);
      } catch {
        /* went meanwhile */
      }
    }
    try {
      rm(dir);
      removed.push(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') errors.push(`rmdir ${dir}: ${(e as Error).message}`);
    }
  };
  for (const h of hierarchies) {
    const top = join(h, CGROUP_TOP);
    if (existsSync(top)) walk(top);
  }
  return { removed, errors };
}
