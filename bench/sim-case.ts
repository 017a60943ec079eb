/**
 * One simulator benchmark case, run in a fresh process by bench/run.ts so its
 * wall time and peak memory are its own. Prints one JSON line.
 *
 *   tsx bench/sim-case.ts '{"scenario":"scenarios/metro.yaml","users":10000,"durationS":3600,"policy":"traffic-aware"}'
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PerformanceObserver, constants, type PerformanceEntry } from 'node:perf_hooks';
import { parseScenarioText } from '../src/scenario-io/load.ts';
import { loadPolicy } from '../src/run/load-policy.ts';
import { simulate } from '../src/sim/simulator.ts';
import { AllocationProfiler, CpuProfiler, type AllocSite, type SelfTime } from './profile.ts';

interface CaseSpec {
  scenario: string;
  users?: number;
  durationS?: number;
  policy?: string;
  /** Memory per node, raised with the user count so placement fits. */
  nodeMemoryMiB?: number;
  /** Warm-up (s), for runs shorter than the scenario's (metro's is 60 s). */
  warmupS?: number;
  /** Profile the simulation (node:inspector) and print the top self-time functions. */
  profile?: boolean;
  /** How many functions the profile summary lists (5). */
  profileTop?: number;
  /** Sample allocations instead (garbage included) and print the top allocation sites. */
  allocProfile?: boolean;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as CaseSpec;
const file = path.resolve(spec.scenario);
let text = await readFile(file, 'utf8');
// The benchmark varies a ready scenario's size; the text edits are checked below.
if (spec.users !== undefined) {
  text = text.replace(/count: \d+/, `count: ${spec.users}`);
  // Keep the offered load per node constant as users grow: scale the mean service time.
  text = text.replace(/meanMs: 20 }/, `meanMs: ${(20 * 10_000) / spec.users} }`);
}
if (spec.durationS !== undefined) text = text.replace(/durationS: \d+/, `durationS: ${spec.durationS}`);
if (spec.warmupS !== undefined) text = text.replace(/warmupS: \d+/, `warmupS: ${spec.warmupS}`);
if (spec.nodeMemoryMiB !== undefined) text = text.replace(/memoryMiB: 32768/, `memoryMiB: ${spec.nodeMemoryMiB}`);
const scenario = parseScenarioText(text, spec.scenario, { file, overrides: { policy: spec.policy } });
if (spec.users !== undefined && scenario.users.length !== spec.users) throw new Error(`expected ${spec.users} users, got ${scenario.users.length}`);
const policy = await loadPolicy(scenario.policies[0], scenario);

// Garbage collections during the run: the hot path should allocate nothing per request,
// so scavenges (minor GCs) should not grow with the request count.
const gc = { minor: 0, major: 0, ms: 0 };
const gcObserver = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MINOR) gc.minor++;
    else gc.major++;
    gc.ms += e.duration;
  }
});
gcObserver.observe({ entryTypes: ['gc'] });
const profiler = spec.profile ? new CpuProfiler() : undefined;
await profiler?.start();
const allocProfiler = spec.allocProfile ? new AllocationProfiler() : undefined;
await allocProfiler?.start();
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const r = simulate(scenario, policy, scenario.seed);
const wallMs = performance.now() - t0;
// CPU time of this process during the run: on a shared machine wall time also counts the
// time other processes held the cores; CPU time (user + system) much less so.
const cpu = process.cpuUsage(cpu0);
const cpuMs = (cpu.user + cpu.system) / 1000;
const top: SelfTime[] | undefined = await profiler?.stop(spec.profileTop ?? 5);
const allocs: AllocSite[] | undefined = await allocProfiler?.stop(spec.profileTop ?? 5);
await new Promise((r) => setTimeout(r, 50)); // let the observer deliver the last entries
gcObserver.disconnect();
process.stdout.write(
  JSON.stringify({
    wallMs,
    cpuMs,
    events: r.stats.events,
    requests: r.stats.requests,
    migrations: r.summary.migrations.count,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    gc,
    ...(top ? { profile: top } : {}),
    ...(allocs ? { allocations: allocs } : {}),
  }) + '\n',
);
