/**
 * `conmig testbed cpu`: what a node's CPU capacity means in service time. A
 * synthetic container on the node serves a fixed CPU-bound job
 * (`GET /work?cpuMs=J`: J ms of the process's own CPU time) and reports the
 * wall time it took (the service time, without the network); the median of
 * `count` jobs is taken with the other nodes idle, then with CPU hogs (two
 * spinning shells each, in a container under each loaded node's parent)
 * running on the chosen neighbours. Containers are started under the node's
 * cgroup parent, like every testbed container, and removed afterwards.
 */
import { join } from 'node:path';
import { median } from 'simple-statistics';
import { ConmigError } from '../../model/errors.ts';
import { loadInventory, nodeByName, type InventoryNode } from '../inventory.ts';
import { detectCgroupsAt, readCpuLimit } from './cgroup.ts';
import { tryRun } from './exec.ts';
import { httpGetJson, waitHttp } from './http.ts';
import { runContainer, writeBundle } from './images.ts';
import { DEFAULT_STATE_DIR, statePaths } from './layout.ts';

export const JOB_CONTAINER = 'cpujob';
export const HOG_CONTAINER = 'cpuhog';
export const JOB_PORT = 8081;
/** Two spinners: enough to use a node's whole limit up to 2 cores (all of this machine). */
const HOG_ARGS = ['/bin/sh', '-c', 'while :; do :; done & while :; do :; done'];

export interface JobSample {
  medianMs: number;
  minMs: number;
  maxMs: number;
  samplesMs: number[];
}

export interface CpuCheckRow {
  node: string;
  /** The node's CPU limit in cores (null: unlimited). */
  cores: number | null;
  jobCpuMs: number;
  /** Nodes that ran CPU hogs during this measurement ([] = idle neighbours). */
  loaded: string[];
  job: JobSample;
  /** CFS periods each loaded node was throttled in during the measurement (proof it hit its limit). */
  loadThrottledPeriods: Record<string, number>;
}

function runcRootOf(n: InventoryNode): string {
  return n.runcRoot;
}

async function deleteContainer(n: InventoryNode, id: string): Promise<void> {
  await tryRun('runc', ['--root', runcRootOf(n), 'delete', '-f', id]);
}

/** Start a synthetic container `id` on a testbed node (under the node's cgroup parent). */
export async function startSynthetic(n: InventoryNode, id: string, args: string[]): Promise<void> {
  if (!n.netns) throw new ConmigError('USAGE', `node ${n.name} has no netns: \`conmig testbed cpu\` runs on the local testbed only`);
  await deleteContainer(n, id);
  const bundle = await writeBundle(n.imagesDir, 'synthetic', n.bundlesDir, id, n.netns, args, n.cpu?.cgroupParent);
  await runContainer(n.runcRoot, bundle, id, join(n.workDir, 'logs', 'runc.log'), n.name);
}

/** `count` jobs of `jobCpuMs` one after another on a node's job container: the wall ms the server measured. */
export async function measureJobs(n: InventoryNode, jobCpuMs: number, count: number): Promise<JobSample> {
  const samplesMs: number[] = [];
  for (let i = 0; i < count; i++) {
    const r = await httpGetJson<{ wallMs: number }>(n.address, JOB_PORT, `/work?cpuMs=${jobCpuMs}`, 30_000);
    samplesMs.push(r.wallMs);
  }
  return { medianMs: median(samplesMs), minMs: Math.min(...samplesMs), maxMs: Math.max(...samplesMs), samplesMs };
}

function throttled(n: InventoryNode): number {
  const d = detectCgroupsAt('/');
  if (d.version === 0 || !n.cpu) return 0;
  return readCpuLimit(d, n.cpu.cgroupParent)?.nrThrottled ?? 0;
}

/**
 * One node's job service time with idle neighbours, then with hogs on each set
 * of `loadSets` (e.g. [['node2', 'node3']]). Leaves nothing running.
 */
export async function cpuCheck(opts: { stateDir?: string; node?: string; jobCpuMs?: number; count?: number; loadSets?: string[][];
  log?: (l: string) => void }): Promise<CpuCheckRow[]> {
  const inv = await loadInventory(statePaths(opts.stateDir ?? DEFAULT_STATE_DIR).inventory);
  const node = nodeByName(inv, opts.node ?? inv.nodes[0].name);
  const jobCpuMs = opts.jobCpuMs ?? 20;
  const count = opts.count ?? 15;
  const loadSets = opts.loadSets ?? [inv.nodes.filter((n) => n.name !== node.name).map((n) => n.name)];
  const log = opts.log ?? ((): void => {});
  const rows: CpuCheckRow[] = [];
  const started: { n: InventoryNode; id: string }[] = [];
  try {
    await startSynthetic(node, JOB_CONTAINER, ['/bin/synthetic', String(JOB_PORT), '1', '0']);
    started.push({ n: node, id: JOB_CONTAINER });
    await waitHttp(node.address, JOB_PORT, '/health', 10_000);
    await measureJobs(node, jobCpuMs, 2); // warm-up
    const cores = node.cpu?.cores ?? null;
    log(`${node.name} (${cores === null ? 'unlimited' : `${cores} CPU`}): ${count} jobs of ${jobCpuMs} CPU-ms, neighbours idle`);
    rows.push({ node: node.name, cores, jobCpuMs, loaded: [], job: await measureJobs(node, jobCpuMs, count), loadThrottledPeriods: {} });
    for (const set of loadSets) {
      if (set.length === 0) continue;
      const hogs = set.map((name) => nodeByName(inv, name));
      for (const h of hogs) {
        if (h.name === node.name) throw new ConmigError('USAGE', `cannot load ${h.name}: it is the node being measured`);
        await startSynthetic(h, HOG_CONTAINER, HOG_ARGS);
        started.push({ n: h, id: HOG_CONTAINER });
      }
      await new Promise((r) => setTimeout(r, 500));
      const before = new Map(hogs.map((h) => [h.name, throttled(h)]));
      log(`${node.name}: ${count} jobs with CPU hogs on ${set.join(', ')}`);
      const job = await measureJobs(node, jobCpuMs, count);
      const loadThrottledPeriods = Object.fromEntries(hogs.map((h) => [h.name, throttled(h) - (before.get(h.name) ?? 0)]));
      rows.push({ node: node.name, cores, jobCpuMs, loaded: set, job, loadThrottledPeriods });
      for (const h of hogs) await deleteContainer(h, HOG_CONTAINER);
    }
  } finally {
    for (const s of started) await deleteContainer(s.n, s.id);
  }
  return rows;
}
