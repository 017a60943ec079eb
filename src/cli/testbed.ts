/**
 * `conmig testbed up|status|down|clean|rtt`: the local namespace testbed
 * (src/live/testbed). Prints; throws ConmigError; never exits.
 */
import type { Command } from 'commander';
import { ConmigError } from '../model/errors.ts';
import type { CliContext } from './io.ts';
import type { CleanReport } from '../live/testbed/index.ts';
import { DEFAULT_STATE_DIR } from '../live/testbed/layout.ts';

/** The testbed's code (SSH, namespaces), loaded when a testbed command runs. */
const testbed = (): Promise<typeof import('../live/testbed/index.ts')> => import('../live/testbed/index.ts');

function int(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) throw new ConmigError('USAGE', `--${name} must be a number in ${min}..${max}`);
    return n;
  };
}

function cleanSummary(r: CleanReport): string {
  const parts = [
    `${r.containers.length} containers`, `${r.processes.length} processes`, `${r.namespaces.length} namespaces`,
    `${r.links.length} links`, `${r.mounts.length} mounts`, `${r.cgroups.length} cgroups`, r.stateDirRemoved ? 'state dir removed' : 'no state dir removed',
  ];
  return parts.join(', ');
}

export function registerTestbed(program: Command, ctx: CliContext): void {
  const { out, abs } = ctx;
  const tb = program.command('testbed').description('local testbed: edge nodes as network namespaces with sshd, shaped links, a latency relay');

  tb.command('up')
    .description('build the testbed and write <state>/inventory.yaml')
    .option('--nodes <n>', 'number of edge nodes', int('nodes', 1, 200), 3)
    .option('--bandwidth-mbps <b>', 'bandwidth of each node link (tc tbf/htb)', int('bandwidth-mbps', 0.1, 100000), 1000)
    .option('--latency-ms <l>', 'RTT added on the users -> node path by the user-space relay', int('latency-ms', 0, 10000), 0)
    .option('--cpu-per-node <cores>', 'CPU cores of each node (cgroup CPU bandwidth limit, e.g. 0.5); default unlimited', int('cpu-per-node', 0.01, 1024))
    .option('--config <file>', 'topology YAML (star or line, per-link bandwidth, cpuPerNode); overrides the four above')
    .option('--state <dir>', 'state directory', DEFAULT_STATE_DIR)
    .option('--images <dir>', 'workload image cache', '/var/lib/conmig/images')
    .option('--no-workload', 'do not start the plate service on the first node')
    .action(async (o: { nodes: number; bandwidthMbps: number; latencyMs: number; cpuPerNode?: number; config?: string; state: string; images: string;
      workload: boolean }) => {
      const r = await (await testbed()).testbedUp({
        nodes: o.nodes, bandwidthMbps: o.bandwidthMbps, latencyMs: o.latencyMs, cpuPerNode: o.cpuPerNode, configFile: o.config === undefined ? undefined : abs(o.config), stateDir: abs(o.state),
        imagesDir: abs(o.images), workload: o.workload, log: (l) => out(`  ${l}`),
      });
      out(`testbed up in ${(r.elapsedMs / 1000).toFixed(1)} s (${r.plan.shape}, ${r.plan.nodes.length} nodes)`);
      for (const n of r.inventory.nodes) {
        const cpu = n.cpu ? `${n.cpu.cores === undefined ? 'unlimited CPU' : `${n.cpu.cores} CPU`} (cgroup v${n.cpu.cgroupVersion} ${n.cpu.cgroupParent})` : 'CPU not limited (no cgroup)';
        out(`  ${n.name.padEnd(8)} ${n.address.padEnd(12)} netns ${n.netns}  ssh root@${n.address}  ${n.bandwidthMbps} Mbit/s  ${cpu}`);
      }
      for (const c of r.inventory.containers) out(`  container ${c.name} on ${c.node} :${c.port}`);
      if (r.inventory.relay) {
        out(`  relay ${r.inventory.relay.address}:${r.inventory.relay.routes.map((x) => `${x.listenPort}->${x.node}`).join(' ')}` +
          ` (+${r.plan.latencyMs} ms RTT), control ${r.inventory.relay.controlSocket}`);
      }
      out(`  inventory ${r.inventoryFile}`);
      out(`  ssh: ssh -i ${r.inventory.controller.sshKey} -o UserKnownHostsFile=${r.inventory.controller.knownHosts} -o StrictHostKeyChecking=yes root@${r.inventory.nodes[0].address}`);
    });

  tb.command('status')
    .description('nodes, sshd, containers, shaping and relay of the testbed')
    .option('--state <dir>', 'state directory', DEFAULT_STATE_DIR)
    .option('--json', 'print JSON')
    .action(async (o: { state: string; json?: boolean }) => {
      const st = await (await testbed()).testbedStatus(abs(o.state));
      if (o.json) return out(JSON.stringify(st, null, 2));
      out(`testbed ${st.up ? 'UP' : 'DOWN'} (state ${st.stateDir}); cm- namespaces: ${st.namespaces.join(' ') || 'none'}; cm- links: ${st.links.length}`);
      for (const n of st.nodes) {
        out(`  ${n.name.padEnd(8)} ${n.address.padEnd(12)} ns ${n.namespaceUp ? 'up' : 'DOWN'}  sshd ${n.sshdAlive ? `pid ${n.sshdPid}` : 'DOWN'}` +
          `  ssh ${n.sshReachable ? 'reachable' : 'UNREACHABLE'}  containers: ${n.containers.map((c) => `${c.id}(${c.status})`).join(' ') || '-'}`);
        if (n.cpu) {
          const lim = n.cpu.cores === null ? 'unlimited' : `${+n.cpu.cores.toFixed(3)} CPU (quota ${Math.round(n.cpu.cores * n.cpu.periodUs)} us / ${n.cpu.periodUs} us)`;
          const thr = n.cpu.nrThrottled === undefined ? '' : `, throttled ${n.cpu.nrThrottled} periods (${(n.cpu.throttledMs ?? 0).toFixed(0)} ms)`;
          out(`      cpu: ${lim}, cgroup v${n.cpu.cgroupVersion} ${n.cpu.cgroupParent}${thr}`);
        } else {
          out('      cpu: no cgroup (not limited)');
        }
        for (const q of n.qdiscs) out(`      ${q}`);
      }
      if (st.relay) {
        out(`  relay ${st.relay.alive ? `pid ${st.relay.pid}` : 'DOWN'}: ${st.relay.routes.map((r) => `:${r.listenPort}->${r.targetHost}:${r.targetPort} +${r.delayMs}ms`).join(', ')}`);
      }
    });

  for (const [name, desc] of [
    ['down', 'tear the testbed down (alias of clean, with a summary)'],
    ['clean', 'forcefully remove everything the testbed made, also after a crash (like mn -c)'],
  ] as const) {
    tb.command(name)
      .description(desc)
      .option('--state <dir>', 'state directory', DEFAULT_STATE_DIR)
      .action(async (o: { state: string }) => {
        const r = await (await testbed()).cleanTestbed(abs(o.state));
        out(`testbed ${name}: removed ${cleanSummary(r)}`);
        for (const e of r.errors) out(`  warning: ${e}`);
        const left = r.errors.filter((e) => !e.includes('marker'));
        if (left.length > 0) throw new ConmigError('TESTBED_FAILED', `testbed ${name} left things behind`, { context: { errors: left } });
      });
  }

  tb.command('cpu')
    .description('service time of a fixed CPU-bound job on a node (median), neighbours idle and loaded with CPU hogs')
    .option('--state <dir>', 'state directory', DEFAULT_STATE_DIR)
    .option('--node <name>', 'node to measure (default: the first)')
    .option('--job-ms <ms>', 'CPU time of one job (ms)', int('job-ms', 0.1, 10000), 20)
    .option('--count <n>', 'jobs per measurement', int('count', 1, 10000), 15)
    .option('--load <nodes>', 'comma-separated nodes to load with CPU hogs (default: all the others)')
    .option('--json', 'print JSON')
    .action(async (o: { state: string; node?: string; jobMs: number; count: number; load?: string; json?: boolean }) => {
      const rows = await (await testbed()).cpuCheck({
        stateDir: abs(o.state), node: o.node, jobCpuMs: o.jobMs, count: o.count,
        loadSets: o.load === undefined ? undefined : [o.load.split(',').map((x) => x.trim()).filter(Boolean)],
        log: o.json ? undefined : (l) => out(`  ${l}`),
      });
      if (o.json) return out(JSON.stringify(rows, null, 2));
      out('node    cpu        job CPU-ms  neighbours loaded  median ms  min ms  max ms  jobs  neighbour throttled periods');
      for (const r of rows) {
        const cpu = r.cores === null ? 'unlimited' : `${r.cores}`;
        const thr = Object.entries(r.loadThrottledPeriods).map(([n, k]) => `${n}:${k}`).join(' ') || '-';
        out(`${r.node.padEnd(7)} ${cpu.padEnd(10)} ${String(r.jobCpuMs).padStart(10)}  ${(r.loaded.join(',') || 'none').padEnd(17)}  ` +
          `${r.job.medianMs.toFixed(1).padStart(9)}  ${r.job.minMs.toFixed(1).padStart(6)}  ${r.job.maxMs.toFixed(1).padStart(6)}  ${String(r.job.samplesMs.length).padStart(4)}  ${thr}`);
      }
    });

  tb.command('rtt')
    .description('measure the relay: requested vs observed RTT (median of N GET /health, relay vs direct)')
    .option('--state <dir>', 'state directory', DEFAULT_STATE_DIR)
    .option('--delays <list>', 'delays in ms, comma separated', '0,5,20,50')
    .option('--count <n>', 'requests per point', int('count', 1, 1000), 20)
    .action(async (o: { state: string; delays: string; count: number }) => {
      const delays = o.delays.split(',').map(Number);
      if (delays.some((d) => !(d >= 0))) throw new ConmigError('USAGE', '--delays must be numbers >= 0');
      const { measureRelay, httpGet } = await testbed();
      const rows = await measureRelay(abs(o.state), delays, o.count, async (h, p) => (await httpGet(h, p, '/health')).elapsedMs);
      out('requestedMs  directMs  relayMs  addedMs  errorMs');
      for (const r of rows) {
        const added = r.relayMs - r.directMs;
        out(`${String(r.delayMs).padStart(11)}  ${r.directMs.toFixed(2).padStart(8)}  ${r.relayMs.toFixed(2).padStart(7)}  ${added.toFixed(2).padStart(7)}  ${(added - r.delayMs).toFixed(2).padStart(7)}`);
      }
    });
}
