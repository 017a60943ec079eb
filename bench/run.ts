/**
 * `npm run bench`: simulator performance, each case in a fresh process,
 * repeated (medians reported: this machine is shared and noisy).
 *
 *   npm run bench                 metro (10k users, 1 h) under every built-in policy
 *                                 + scaling 1k/10k/100k users (300 s) + 1M users (60 s, one run)
 *   npm run bench -- --quick      shorter runs, one repeat (a smoke test of the bench)
 *   npm run bench -- --repeat 5   more repeats
 *   npm run bench -- --sim-only   the simulator's rows only (no sweep, no live)
 *   npm run bench -- --no-1m      without the 1M-user run
 *   npm run bench -- --policies never,traffic-aware --users 10000,100000
 *                                 only these metro policies (never, the baseline, always runs)
 *                                 and these user counts of the scaling rows (1000 is their baseline)
 *
 * Every case also gets one extra, profiled run (node:inspector's sampling
 * profiler; metro's at 300 s) whose top-5 self-time functions are printed
 * under the tables: the next bottleneck. Profiled runs are not in the medians.
 *   npm run bench -- --live       also the live benchmarks (root, testbed tools)
 *   npx tsx bench/sweep.ts        only the sweep benchmarks (run here too, after the simulator's)
 *
 * Baseline in the same command: the same scenario under the `never` policy
 * (pure simulation: no decisions, no migrations), so the policy's share of
 * the cost is a ratio measured here, not a number from another machine.
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { median } from 'simple-statistics';

interface SelfTime {
  fn: string;
  selfMs: number;
  share: number;
}

interface CaseResult {
  wallMs: number;
  /** CPU time (user + system) of the case's process during the run: on a shared machine, less noisy than wall. */
  cpuMs: number;
  events: number;
  requests: number;
  migrations: number;
  maxRssMiB: number;
  profile?: SelfTime[];
  /** Garbage collections during the simulation (minor = scavenges). */
  gc?: { minor: number; major: number; ms: number };
}

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const repeatIdx = args.indexOf('--repeat');
const repeat = repeatIdx >= 0 ? Number(args[repeatIdx + 1]) : quick ? 1 : 3;
const noProfile = args.includes('--no-profile');
const simOnly = args.includes('--sim-only');
const with1M = !args.includes('--no-1m');
const listArg = (flag: string): string[] | undefined => {
  const i = args.indexOf(flag);
  return i >= 0 ? String(args[i + 1]).split(',') : undefined;
};
const policyRows = (listArg('--policies') ?? ['nearest', 'threshold', 'traffic-aware']).filter((p) => p !== 'never');
const userRows = (listArg('--users') ?? ['1000', '10000', '100000']).map(Number);

function runCase(spec: Record<string, unknown>, heapMiB?: number): CaseResult {
  const heap = heapMiB !== undefined ? [`--max-old-space-size=${heapMiB}`] : [];
  const r = spawnSync(process.execPath, [...heap, '--import', 'tsx', 'bench/sim-case.ts', JSON.stringify(spec)], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) throw new Error(`bench case ${JSON.stringify(spec)} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as CaseResult;
}

const profiles: string[] = [];
const profileOf = (label: string, spec: Record<string, unknown>): void => {
  if (noProfile) return;
  const r = runCase({ ...spec, profile: true });
  process.stderr.write('p');
  const d = spec.durationS !== undefined ? ` (${String(spec.durationS)} s simulated)` : '';
  profiles.push(
    `**${label}**${d}, profiled run ${fmt(r.wallMs / 1000)} s: ` +
      (r.profile ?? []).map((p) => `\`${p.fn}\` ${fmt(p.share * 100, 0)}%`).join(', ') +
      (r.gc ? `; GC ${r.gc.minor} minor + ${r.gc.major} major, ${fmt(r.gc.ms, 0)} ms for ${fmt(r.requests / 1e6, 2)} M requests` : ''),
  );
};

function medianOf(spec: Record<string, unknown>, runs = repeat, heapMiB?: number): CaseResult & { runs: number } {
  const rs: CaseResult[] = [];
  for (let i = 0; i < runs; i++) {
    rs.push(runCase(spec, heapMiB));
    process.stderr.write('.');
  }
  const m = (k: Exclude<keyof CaseResult, 'profile' | 'gc'>): number => median(rs.map((r) => r[k]));
  return { wallMs: m('wallMs'), cpuMs: m('cpuMs'), events: m('events'), requests: m('requests'), migrations: m('migrations'), maxRssMiB: m('maxRssMiB'), runs: rs.length };
}

const fmt = (x: number, d = 1): string => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const row = (label: string, r: CaseResult & { runs: number }, base?: CaseResult): string =>
  `| ${label} | ${fmt(r.requests / 1e6, 2)} M | ${fmt(r.wallMs / 1000)} s | ${fmt(r.cpuMs / 1000)} s | ${fmt(r.requests / (r.wallMs / 1000) / 1e6, 2)} M/s | ${fmt(r.requests / (r.cpuMs / 1000) / 1e6, 2)} M/s | ${fmt(r.maxRssMiB, 0)} MiB | ${r.migrations.toLocaleString('en-US')} | ${base ? `${fmt(r.wallMs / base.wallMs, 2)}x` : '1.00x (baseline)'} | ${base ? `${fmt(r.cpuMs / base.cpuMs, 2)}x` : '1.00x'} | ${r.runs} |`;

const header =
  '| case | requests | wall (median) | CPU (median) | requests/s (wall) | requests/s (CPU) | peak RSS | migrations | wall vs baseline | CPU vs baseline | runs |\n|---|---|---|---|---|---|---|---|---|---|---|';
const durationS = quick ? 300 : 3600;

process.stderr.write(`simulator benchmarks (${repeat} run(s) per case, medians; load ${loadavg().map((x) => x.toFixed(2)).join(' ')})\n`);
const loadAtStart = loadavg()[0];
const lines: string[] = [];
lines.push(`### metro: 10,000 users, 100 nodes, ${durationS} s, 1 request/s per user, control every 1 s\n`, header);
const metro = { scenario: 'scenarios/metro.yaml', durationS };
const base = medianOf({ ...metro, policy: 'never' });
lines.push(row('metro, never (baseline)', base));
profileOf('metro, never', { ...metro, durationS: Math.min(durationS, 300), policy: 'never' });
for (const policy of policyRows) {
  const r = medianOf({ ...metro, policy });
  lines.push(row(`metro, ${policy}`, r, base));
  profileOf(`metro, ${policy}`, { ...metro, durationS: Math.min(durationS, 300), policy });
}

const scaleS = quick ? 120 : 300;
lines.push(`\n### scaling: users x10 at constant load per node (service time / 10), ${scaleS} s, traffic-aware\n`, header.replace('wall vs baseline', 'wall vs 1,000 users').replace('CPU vs baseline', 'CPU vs 1,000 users'));
let first: CaseResult | undefined;
const scaled: CaseResult[] = [];
for (const users of userRows) {
  const spec = { scenario: 'scenarios/metro.yaml', users, durationS: scaleS, policy: 'traffic-aware', nodeMemoryMiB: Math.max(32_768, users * 2) };
  const r = medianOf(spec);
  lines.push(row(`${users.toLocaleString('en-US')} users`, r, first));
  first ??= r;
  scaled.push(r);
  profileOf(`${users.toLocaleString('en-US')} users`, spec);
}
if (with1M) {
  // One run: 1M users for 60 s with 10 s of warm-up (quick: 10 s), heap up to 8 GiB (the goal).
  const users = 1_000_000;
  const spec = { scenario: 'scenarios/metro.yaml', users, durationS: quick ? 10 : 60, warmupS: quick ? 2 : 10, policy: 'traffic-aware', nodeMemoryMiB: users * 2 };
  try {
    const r = medianOf(spec, 1, 8192);
    lines.push(row(`1,000,000 users, ${String(spec.durationS)} s`, r, first));
  } catch (e) {
    lines.push(`| 1,000,000 users, ${String(spec.durationS)} s | failed: ${(e as Error).message.split('\n').slice(-3).join(' ')} | | | | | | | | | 1 |`);
  }
}
const i10k = userRows.indexOf(10_000);
const i100k = userRows.indexOf(100_000);
if (i10k >= 0 && i100k >= 0) {
  const [a, b] = [scaled[i10k], scaled[i100k]];
  lines.push(`\n10,000 -> 100,000 users: wall x${fmt(b.wallMs / a.wallMs, 2)}, CPU x${fmt(b.cpuMs / a.cpuMs, 2)} for x${fmt(b.requests / a.requests, 2)} the requests.`);
}
lines.push(`\nLoad (1-min average) at the start ${fmt(loadAtStart, 2)}, at the end ${fmt(loadavg()[0], 2)}, on ${availableParallelism()} cores.`);
if (profiles.length > 0) lines.push('\n#### Top 5 self-time functions per case\n', ...profiles.map((p) => `- ${p}`));
process.stderr.write('\n');
process.stdout.write(lines.join('\n') + '\n');
if (simOnly) process.exit(0);

// Sweeps: the local worker pool against the runs one after another, per-run overhead, Slurm.
{
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/sweep.ts', ...(quick ? ['--quick'] : []), ...(repeatIdx >= 0 ? ['--repeat', String(repeat)] : [])], { stdio: 'inherit' });
  if (r.status !== 0) process.exitCode = 1;
}

if (args.includes('--live')) {
  for (const script of ['bench/live-migration.ts', 'bench/live.ts']) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', script, ...(quick ? ['--quick'] : [])], { stdio: 'inherit' });
    if (r.status !== 0) process.exitCode = 1;
  }
}
