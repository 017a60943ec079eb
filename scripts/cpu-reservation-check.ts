/**
 * Does the testbed's reserved CPU weight make a node's limit a reservation? (issue 9,
 * part 3; docs/testbed.md, "CPU capacity"). As root, under the machine's live lock:
 *
 *   flock /tmp/conmig-live.lock npx tsx scripts/cpu-reservation-check.ts [--hogs 4] [--rounds 3] [--jobs 20] [--cpu 0.3] [--job-ms 10]
 *
 * Brings up a 2-node testbed at --cpu CPU per node (no workload), starts a synthetic
 * job container on node1, and measures the wall time of --jobs fixed CPU-bound jobs
 * (GET /work?cpuMs=J; J / cpu ms is the limit's service time) three ways: the host as
 * it is, then with --hogs spinning shells outside the testbed (in the root cgroup, like
 * every other process on the machine, each in its own session) with the testbed's top group at the kernel's
 * default weight (cpu.shares 1024 / cpu.weight 100) and at the reserved weight the
 * testbed sets (src/live/testbed/cgroup.ts), alternating --rounds times. Prints the
 * medians and the machine's load average; tears everything down.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { median } from 'simple-statistics';
import { CGROUP_TOP, cpuGroupDir, detectCgroupsAt, RESERVED_CPU_SHARES_V1, RESERVED_CPU_WEIGHT_V2 } from '../src/live/testbed/cgroup.ts';
import { JOB_PORT, measureJobs, startSynthetic } from '../src/live/testbed/cpu-check.ts';
import { cleanTestbed, testbedUp, waitHttp } from '../src/live/testbed/index.ts';
import { nodeByName } from '../src/live/inventory.ts';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: number): number => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const hogs = opt('hogs', 4);
const rounds = opt('rounds', 3);
const jobs = opt('jobs', 20);
const cpu = opt('cpu', 0.3);
const jobMs = opt('job-ms', 10);
const STATE = '/tmp/conmig-cpu-reservation';
const TOPO = '/tmp/conmig-cpu-reservation.yaml';

const d = detectCgroupsAt('/');
if (d.version === 0) {
  console.error(`no cgroup cpu controller: ${d.reason}`);
  process.exit(2);
}
const weightFile = join(cpuGroupDir(d, `/${CGROUP_TOP}`), d.version === 1 ? 'cpu.shares' : 'cpu.weight');
const weights = d.version === 1 ? { dflt: 1024, reserved: RESERVED_CPU_SHARES_V1 } : { dflt: 100, reserved: RESERVED_CPU_WEIGHT_V2 };
const la = (): string => loadavg().map((x) => x.toFixed(2)).join(', ');

await cleanTestbed(STATE);
writeFileSync(TOPO, `cpuPerNode: ${cpu}\nnodes: [{ name: node1 }, { name: node2 }]\n`);
const spinners: ChildProcess[] = [];
const rows: { round: number; setting: string; medianMs: number; p90Ms: number }[] = [];
try {
  const up = await testbedUp({ configFile: TOPO, stateDir: STATE, workload: false });
  const node = nodeByName(up.inventory, 'node1');
  await startSynthetic(node, 'cpujob', ['/bin/synthetic', String(JOB_PORT), '1', '0']);
  await waitHttp(node.address, JOB_PORT, '/health', 10_000);
  await measureJobs(node, jobMs, 3);
  const measure = async (round: number, setting: string): Promise<void> => {
    await new Promise((r) => setTimeout(r, 300));
    const s = await measureJobs(node, jobMs, jobs);
    const sorted = [...s.samplesMs].sort((a, b) => a - b);
    rows.push({ round, setting, medianMs: median(s.samplesMs), p90Ms: sorted[Math.floor(0.9 * (sorted.length - 1))] });
    console.log(`round ${round}, ${setting}: median ${median(s.samplesMs).toFixed(1)} ms, p90 ${rows.at(-1)?.p90Ms.toFixed(1)} ms (load ${la()})`);
  };
  console.log(`${jobs} jobs of ${jobMs} CPU-ms on node1 at ${cpu} CPU (the limit's service time: ${(jobMs / cpu).toFixed(1)} ms); load ${la()}`);
  for (let r = 1; r <= rounds; r++) {
    writeFileSync(weightFile, String(weights.reserved));
    await measure(r, 'host as it is, reserved weight');
  }
  // each hog in its own session (detached: setsid), so each is its own autogroup as another
  // user's session would be (with sched_autogroup on, the hogs of one session share one weight)
  for (let i = 0; i < hogs; i++) spinners.push(spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore', detached: true }));
  for (let r = 1; r <= rounds; r++) {
    writeFileSync(weightFile, String(weights.dflt));
    await measure(r, `${hogs} host hogs, default weight ${weights.dflt}`);
    writeFileSync(weightFile, String(weights.reserved));
    await measure(r, `${hogs} host hogs, reserved weight ${weights.reserved}`);
  }
} finally {
  for (const s of spinners) s.kill('SIGKILL');
  await cleanTestbed(STATE);
}
const settings = [...new Set(rows.map((r) => r.setting))];
console.log('\n| setting | median of the rounds\' medians (ms) | rounds |\n| --- | ---: | ---: |');
for (const s of settings) {
  const m = rows.filter((r) => r.setting === s).map((r) => r.medianMs);
  console.log(`| ${s} | ${median(m).toFixed(1)} | ${m.map((x) => x.toFixed(1)).join(', ')} |`);
}
