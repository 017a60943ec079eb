/**
 * `npm run bench`: simulator performance, each case in a fresh process,
 * repeated (medians reported: this machine is shared and noisy).
 *
 *   npm run bench                 metro (10k users, 1 h) + scaling 1k/10k/100k users
 *   npm run bench -- --quick      shorter runs, one repeat (a smoke test of the bench)
 *   npm run bench -- --repeat 5   more repeats
 *   npm run bench -- --live       also the live benchmarks (root, testbed tools)
 *   npx tsx bench/sweep.ts        only the sweep benchmarks (run here too, after the simulator's)
 *
 * Baseline in the same command: the same scenario under the `never` policy
 * (pure simulation: no decisions, no migrations), so the policy's share of
 * the cost is a ratio measured here, not a number from another machine.
 */
import { spawnSync } from 'node:child_process';
import { median } from 'simple-statistics';

interface CaseResult {
  wallMs: number;
  events: number;
  requests: number;
  migrations: number;
  maxRssMiB: number;
}

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const repeatIdx = args.indexOf('--repeat');
const repeat = repeatIdx >= 0 ? Number(args[repeatIdx + 1]) : quick ? 1 : 3;

function runCase(spec: Record<string, unknown>): CaseResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/sim-case.ts', JSON.stringify(spec)], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) throw new Error(`bench case ${JSON.stringify(spec)} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as CaseResult;
}

function medianOf(spec: Record<string, unknown>): CaseResult & { runs: number } {
  const rs: CaseResult[] = [];
  for (let i = 0; i < repeat; i++) {
    rs.push(runCase(spec));
    process.stderr.write('.');
  }
  const m = (k: keyof CaseResult): number => median(rs.map((r) => r[k]));
  return { wallMs: m('wallMs'), events: m('events'), requests: m('requests'), migrations: m('migrations'), maxRssMiB: m('maxRssMiB'), runs: rs.length };
}

const fmt = (x: number, d = 1): string => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const row = (label: string, r: CaseResult & { runs: number }, base?: CaseResult): string =>
  `| ${label} | ${fmt(r.requests / 1e6, 2)} M | ${fmt(r.wallMs / 1000)} s | ${fmt(r.requests / (r.wallMs / 1000) / 1e6, 2)} M/s | ${fmt(r.events / (r.wallMs / 1000) / 1e6, 2)} M/s | ${fmt(r.maxRssMiB, 0)} MiB | ${r.migrations.toLocaleString('en-US')} | ${base ? `${fmt(r.wallMs / base.wallMs, 2)}x` : '1.00x (baseline)'} | ${r.runs} |`;

const header =
  '| case | requests | wall (median) | requests/s | events/s | peak RSS | migrations | wall vs baseline | runs |\n|---|---|---|---|---|---|---|---|---|';
const durationS = quick ? 300 : 3600;

process.stderr.write(`simulator benchmarks (${repeat} run(s) per case, medians)\n`);
const lines: string[] = [];
lines.push(`### metro: 10,000 users, 100 nodes, ${durationS} s, 1 request/s per user, control every 1 s\n`, header);
const base = medianOf({ scenario: 'scenarios/metro.yaml', durationS, policy: 'never' });
lines.push(row('metro, never (baseline)', base));
const ta = medianOf({ scenario: 'scenarios/metro.yaml', durationS, policy: 'traffic-aware' });
lines.push(row('metro, traffic-aware', ta, base));

const scaleS = quick ? 120 : 300;
lines.push(`\n### scaling: users x10 at constant load per node (service time / 10), ${scaleS} s, traffic-aware\n`, header);
let first: CaseResult | undefined;
for (const users of [1_000, 10_000, 100_000]) {
  const r = medianOf({ scenario: 'scenarios/metro.yaml', users, durationS: scaleS, policy: 'traffic-aware', nodeMemoryMiB: Math.max(32_768, users * 2) });
  lines.push(row(`${users.toLocaleString('en-US')} users`, r, first));
  first ??= r;
}
process.stderr.write('\n');
process.stdout.write(lines.join('\n') + '\n');

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
