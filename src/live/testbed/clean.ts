/**
 * Teardown that works after a crash or a half-finished `up` (like `mn -c`):
 * everything is found by the `cm-` prefix, the state dir's pidfiles and runc
 * roots, by asking every process which network namespace it is in, and the
 * nodes' CPU cgroups under `conmig/` in every cgroup hierarchy.
 * Idempotent; errors are collected, never stop the sweep.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { detectCgroupsAt, removeCgroupTree } from './cgroup.ts';
import { tryRun } from './exec.ts';
import { statePaths } from './layout.ts';
import { listLinks, listNamespaces } from './net.ts';
import { pidAlive, readPid } from './ssh.ts';

export const STATE_MARKER = '.conmig-testbed';

export interface CleanReport {
  containers: string[];
  processes: number[];
  mounts: string[];
  links: string[];
  namespaces: string[];
  /** cgroup folders removed (the nodes' CPU parents, in every hierarchy). */
  cgroups: string[];
  stateDirRemoved: boolean;
  /** Things that could not be removed (each with the reason). */
  errors: string[];
}

/** runc roots under <state>/nodes/<node>/runc. */
export function runcRoots(stateDir: string): { node: string; root: string }[] {
  const nodesDir = join(stateDir, 'nodes');
  if (!existsSync(nodesDir)) return [];
  return readdirSync(nodesDir)
    .map((node) => ({ node, root: join(nodesDir, node, 'runc') }))
    .filter((r) => existsSync(r.root));
}

/** PIDs of processes in any cm- namespace, or whose command line names the state dir. */
export function strayPids(stateDir: string, namespaces: readonly string[]): number[] {
  const nsInodes = new Set<number>();
  for (const ns of namespaces) {
    try {
      nsInodes.add(statSync(`/run/netns/${ns}`).ino);
    } catch {
      /* already gone */
    }
  }
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    const pid = Number(d);
    if (!Number.isInteger(pid) || pid === process.pid || pid === process.ppid) continue;
    try {
      if (nsInodes.has(statSync(`/proc/${pid}/ns/net`).ino)) {
        out.push(pid);
        continue;
      }
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (stateDir.length > 1 && cmd.includes(stateDir + '/')) out.push(pid);
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

export async function cleanTestbed(stateDir: string): Promise<CleanReport> {
  const rep: CleanReport = { containers: [], processes: [], mounts: [], links: [], namespaces: [], cgroups: [], stateDirRemoved: false, errors: [] };
  const sp = statePaths(stateDir);

  // 1. containers, through runc so its state and cgroups go too
  for (const { node, root } of runcRoots(stateDir)) {
    const l = await tryRun('runc', ['--root', root, 'list', '-q']);
    for (const id of l.stdout.split('\n').map((s) => s.trim()).filter(Boolean)) {
      await tryRun('runc', ['--root', root, 'kill', id, 'KILL']);
      const d = await tryRun('runc', ['--root', root, 'delete', '-f', id]);
      if (d.code === 0) rep.containers.push(`${node}/${id}`);
      else rep.errors.push(`runc delete ${node}/${id}: ${d.stderr.trim()}`);
    }
  }

  // 2. processes: relay and sshd by pidfile (TERM), then anything left in our namespaces (KILL)
  const pidfiles = [sp.relayPid];
  for (const { node } of runcRoots(stateDir)) pidfiles.push(join(stateDir, 'nodes', node, 'sshd', 'sshd.pid'));
  const nodesDir = join(stateDir, 'nodes');
  if (existsSync(nodesDir)) {
    for (const n of readdirSync(nodesDir)) pidfiles.push(join(nodesDir, n, 'sshd', 'sshd.pid'));
  }
  for (const f of new Set(pidfiles)) {
    const pid = await readPid(f).catch(() => undefined);
    if (pid && pidAlive(pid)) {
      try {
        process.kill(pid, 'SIGTERM');
        rep.processes.push(pid);
      } catch (e) {
        rep.errors.push(`kill ${pid}: ${(e as Error).message}`);
      }
    }
  }
  const namespaces = await listNamespaces();
  for (let round = 0; round < 3; round++) {
    const stray = strayPids(stateDir, namespaces);
    if (stray.length === 0) break;
    if (round > 0) await sleep(200);
    for (const pid of stray) {
      try {
        process.kill(pid, round === 0 ? 'SIGTERM' : 'SIGKILL');
        if (!rep.processes.includes(pid)) rep.processes.push(pid);
      } catch {
        /* gone */
      }
    }
    await sleep(100);
  }

  // 3. mounts under the state dir (longest path first)
  try {
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4] ?? '')
      .filter((m) => stateDir.length > 1 && (m === stateDir || m.startsWith(stateDir + '/')))
      .sort((a, b) => b.length - a.length);
    for (const m of mounts) {
      const r = await tryRun('umount', ['-l', m]);
      if (r.code === 0) rep.mounts.push(m);
      else rep.errors.push(`umount ${m}: ${r.stderr.trim()}`);
    }
  } catch (e) {
    rep.errors.push(`mountinfo: ${(e as Error).message}`);
  }

  // 4. links and namespaces with our prefix
  for (const link of await listLinks()) {
    const r = await tryRun('ip', ['link', 'del', link]);
    if (r.code === 0) rep.links.push(link);
    else if (!r.stderr.includes('Cannot find device')) rep.errors.push(`ip link del ${link}: ${r.stderr.trim()}`);
  }
  for (const ns of namespaces) {
    const r = await tryRun('ip', ['netns', 'del', ns]);
    if (r.code === 0) rep.namespaces.push(ns);
    else rep.errors.push(`ip netns del ${ns}: ${r.stderr.trim()}`);
  }

  // 5. the nodes' cgroup parents (empty now: containers deleted, sshd and strays killed)
  const hierarchies = detectCgroupsAt('/').hierarchies;
  let cg = removeCgroupTree(hierarchies);
  rep.cgroups.push(...cg.removed);
  for (let round = 0; round < 5 && cg.errors.length > 0; round++) {
    await sleep(200); // a killed process leaves its cgroup a moment after the signal
    cg = removeCgroupTree(hierarchies);
    rep.cgroups.push(...cg.removed);
  }
  rep.errors.push(...cg.errors);

  // 6. the state dir (keys included) -- only one that `up` marked as its own
  if (existsSync(stateDir)) {
    if (existsSync(join(stateDir, STATE_MARKER))) {
      const marker = await readFile(join(stateDir, STATE_MARKER), 'utf8').catch(() => '');
      if (marker.startsWith('conmig-testbed')) {
        await rm(stateDir, { recursive: true, force: true }).then(
          () => (rep.stateDirRemoved = true),
          (e: Error) => rep.errors.push(`rm ${stateDir}: ${e.message}`),
        );
      }
    } else {
      rep.errors.push(`${stateDir} has no ${STATE_MARKER} marker: left in place`);
    }
  }
  return rep;
}
