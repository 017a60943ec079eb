/**
 * The validation campaign end to end (issue 9, part 3), as root on a machine with the
 * testbed tools:
 *
 *   npx tsx scripts/validate-campaign.ts [--runs 6] [--calibrate 2] [--out results/validate-campaign]
 *       [--scenario scenarios/validate-live.yaml] [--testbed scenarios/validate-live.testbed.yaml]
 *       [--state /var/lib/conmig/testbed] [--images /var/lib/conmig/images] [--analyse-only]
 *       [--duration S]
 *
 * (--analyse-only: steps 3-5 on the live-k folders already in <out>. --duration: the
 * scenario with durationS set to S, written to <out>/scenario.yaml and used throughout:
 * the short campaign of test/live/campaign.test.ts.)
 * 1. `conmig testbed up --config <testbed>` (CPU-limited nodes and their containers);
 * 2. N live runs of the scenario with seeds 1..N (`conmig run --live --seed k`; each run
 *    puts the containers back on their start nodes first), then `conmig testbed down`;
 * 3. `conmig calibrate` on the first `--calibrate` runs -> <out>/calibrated.yaml;
 * 4. per held-out run k: the calibrated scenario simulated with seed k, and
 *    `conmig compare live-k sim-k` (the live run is the reference);
 * 5. the agreement table (per held-out run: p50, p95, mean downtime, KS D, live vs
 *    simulated, and the verdicts at the compare tolerances: 10%, 15%, 0.1) as
 *    <out>/agreement.md and <out>/agreement.json.
 *
 * During the live runs this process (and so every `conmig run` it starts: the emulated
 * users and the controller) is in the testbed's unlimited host cgroup, which has the
 * testbed's reserved CPU weight (src/live/testbed/cgroup.ts), so other work on the
 * machine does not slow the measurement down; it leaves before `testbed down`. The
 * machine's load average before and after each live run is kept in agreement.json.
 *
 * Every command is printed before it runs; a failing one stops the campaign (the
 * testbed is torn down first). Run it under the machine's live lock:
 *   flock /tmp/conmig-live.lock npx tsx scripts/validate-campaign.ts
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { createHostGroup, detectCgroupsAt, rootProcsFile } from '../src/live/testbed/cgroup.ts';

const argv = process.argv.slice(2);
function opt(name: string, dflt: string): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : dflt;
}
const runs = Number(opt('runs', '6'));
const calibrateOn = Number(opt('calibrate', '2'));
const out = resolve(opt('out', 'results/validate-campaign'));
const baseScenario = resolve(opt('scenario', 'scenarios/validate-live.yaml'));
const durationS = argv.includes('--duration') ? Number(opt('duration', '')) : undefined;
const testbedFile = resolve(opt('testbed', 'scenarios/validate-live.testbed.yaml'));
const state = resolve(opt('state', '/var/lib/conmig/testbed'));
const images = resolve(opt('images', '/var/lib/conmig/images'));
if (!(Number.isInteger(runs) && Number.isInteger(calibrateOn) && calibrateOn >= 1 && runs > calibrateOn)) {
  console.error('validate-campaign: need integers --runs > --calibrate >= 1');
  process.exit(2);
}
if (durationS !== undefined && !(Number.isInteger(durationS) && durationS >= 10)) {
  console.error('validate-campaign: --duration must be an integer number of seconds >= 10');
  process.exit(2);
}

const CONMIG = resolve(import.meta.dirname, '..', 'bin', 'conmig.js');

function conmig(...args: string[]): void {
  console.log(`$ conmig ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [CONMIG, ...args], { stdio: 'inherit', env: { ...process.env, CONMIG_FROM_SOURCE: process.env.CONMIG_FROM_SOURCE ?? '1' } });
  if (r.status !== 0) throw new Error(`conmig ${args[0]} failed (exit ${r.status})`);
}

/** The one policy folder of a run folder (the scenario has one policy). */
function policyDir(runDir: string): string {
  const dirs = readdirSync(runDir, { withFileTypes: true }).filter((d) => d.isDirectory() && existsSync(join(runDir, d.name, 'summary.json')));
  if (dirs.length !== 1) throw new Error(`${runDir}: expected one policy folder, found ${dirs.map((d) => d.name).join(', ') || 'none'}`);
  return join(runDir, dirs[0].name);
}

interface Comparison {
  runs: { label: string; percentiles: { q: number; valueMs: number }[] }[];
  percentiles: { q: number; referenceMs: number; valueMs: number; relError: number }[];
  ks: { d: number }[];
  migrations: { pairs: { reference: { downtimeMs: number }; other: { downtimeMs: number } }[] }[];
}

/** One held-out run's agreement (agreement.json's rows; test/live/campaign.test.ts reads them). */
export interface AgreementRow {
  seed: number;
  live: { p50Ms: number; p95Ms: number; meanDowntimeMs: number; requests: number; migrations: number };
  sim: { p50Ms: number; p95Ms: number; meanDowntimeMs: number };
  p50RelError: number;
  p95RelError: number;
  downtimeRelError: number;
  ksD: number;
  agree: { p50: boolean; p95: boolean; downtime: boolean; ks: boolean };
}

function row(seed: number, cmpDir: string, liveDir: string): AgreementRow {
  const c = JSON.parse(readFileSync(join(cmpDir, 'comparison.json'), 'utf8')) as Comparison;
  const at = (q: number): { referenceMs: number; valueMs: number; relError: number } => {
    const p = c.percentiles.find((x) => x.q === q);
    if (!p) throw new Error(`${cmpDir}: no p${q * 100} in comparison.json`);
    return p;
  };
  const pairs = c.migrations[0]?.pairs ?? [];
  const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
  const liveDown = mean(pairs.map((p) => p.reference.downtimeMs));
  const simDown = mean(pairs.map((p) => p.other.downtimeMs));
  const summary = JSON.parse(readFileSync(join(liveDir, 'summary.json'), 'utf8')) as { requests?: { served?: number }; migrations?: { count?: number } };
  const p50 = at(0.5);
  const p95 = at(0.95);
  const downtimeRelError = (simDown - liveDown) / liveDown;
  const ksD = c.ks[0]?.d ?? NaN;
  return {
    seed,
    live: { p50Ms: p50.referenceMs, p95Ms: p95.referenceMs, meanDowntimeMs: liveDown, requests: summary.requests?.served ?? NaN, migrations: summary.migrations?.count ?? NaN },
    sim: { p50Ms: p50.valueMs, p95Ms: p95.valueMs, meanDowntimeMs: simDown },
    p50RelError: p50.relError,
    p95RelError: p95.relError,
    downtimeRelError,
    ksD,
    agree: { p50: Math.abs(p50.relError) <= 0.1, p95: Math.abs(p95.relError) <= 0.1, downtime: Math.abs(downtimeRelError) <= 0.15, ks: ksD < 0.1 },
  };
}

function table(rows: AgreementRow[]): string {
  const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
  const ok = (b: boolean): string => (b ? 'ok' : '**miss**');
  const lines = [
    `Agreement of the calibrated simulation with held-out live runs (${scenario}; calibrated on seeds 1..${calibrateOn};`,
    'live run = reference; goal: p50 and p95 within 10%, mean downtime within 15% (error of the mean over the run; compare.html also shows the stricter paired per-migration error), KS D < 0.1).',
    '',
    '| seed | requests | migrations | p50 live / sim ms | p95 live / sim ms | mean downtime live / sim ms | KS D | p50 | p95 | downtime | KS |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    lines.push(`| ${r.seed} | ${r.live.requests} | ${r.live.migrations} | ${r.live.p50Ms.toFixed(1)} / ${r.sim.p50Ms.toFixed(1)} (${pct(r.p50RelError)}) | ` +
      `${r.live.p95Ms.toFixed(0)} / ${r.sim.p95Ms.toFixed(0)} (${pct(r.p95RelError)}) | ${r.live.meanDowntimeMs.toFixed(0)} / ${r.sim.meanDowntimeMs.toFixed(0)} (${pct(r.downtimeRelError)}) | ` +
      `${r.ksD.toFixed(3)} | ${ok(r.agree.p50)} | ${ok(r.agree.p95)} | ${ok(r.agree.downtime)} | ${ok(r.agree.ks)} |`);
  }
  const all = rows.every((r) => r.agree.p50 && r.agree.p95 && r.agree.downtime && r.agree.ks);
  lines.push('', all ? 'Every held-out run agrees.' : 'Not every held-out run agrees (misses marked).');
  return lines.join('\n') + '\n';
}

mkdirSync(out, { recursive: true });
/** The scenario used throughout: the given one, or its copy with durationS replaced. */
function scenarioFile(): string {
  if (durationS === undefined) return baseScenario;
  const text = readFileSync(baseScenario, 'utf8');
  if (!/^durationS:\s*\S+\s*$/m.test(text)) throw new Error(`${baseScenario}: no top-level durationS line to replace`);
  const file = join(out, 'scenario.yaml');
  writeFileSync(file, `# ${baseScenario} with durationS: ${durationS} (validate-campaign --duration)\n` + text.replace(/^durationS:\s*\S+\s*$/m, `durationS: ${durationS}`));
  return file;
}
const scenario = scenarioFile();

interface LiveRunLoad { seed: number; wallS: number; loadBefore: number[]; loadAfter: number[] }

/** agreement.json as a whole. */
export interface Agreement {
  scenario: string;
  calibratedOn: number;
  rows: AgreementRow[];
  liveLoad: LiveRunLoad[];
}
const loadFile = join(out, 'live-load.json');
const round2 = (xs: number[]): number[] => xs.map((x) => Number(x.toFixed(2)));

/** Move this process into the testbed's host cgroup (or back to the root): its children inherit it. */
function joinHostGroup(hostProcs: string | null): void {
  const d = detectCgroupsAt('/');
  if (d.version === 0) return;
  try {
    writeFileSync(hostProcs ?? rootProcsFile(d), `${process.pid}\n`);
  } catch (e) {
    console.log(`(cgroup: could not move the campaign ${hostProcs ? 'into' : 'out of'} the host group: ${(e as Error).message})`);
  }
}

if (!argv.includes('--analyse-only')) {
  conmig('testbed', 'up', '--config', testbedFile, '--state', state, '--images', images);
  const loads: LiveRunLoad[] = [];
  try {
    const d = detectCgroupsAt('/');
    if (d.version !== 0) joinHostGroup(await createHostGroup(d));
    for (let k = 1; k <= runs; k++) {
      const loadBefore = round2(loadavg());
      const t0 = Date.now();
      conmig('run', scenario, '--live', '--inventory', join(state, 'inventory.yaml'), '--seed', String(k), '--out', join(out, `live-${k}`), '--no-progress', '--no-report');
      loads.push({ seed: k, wallS: Number(((Date.now() - t0) / 1000).toFixed(1)), loadBefore, loadAfter: round2(loadavg()) });
      console.log(`live run ${k}: load average (1, 5, 15 min) before ${loadBefore.join(', ')}, after ${loads.at(-1)?.loadAfter.join(', ')}`);
    }
  } finally {
    joinHostGroup(null);
    writeFileSync(loadFile, JSON.stringify(loads, null, 2) + '\n');
    conmig('testbed', 'down', '--state', state);
  }
}
const liveLoad = existsSync(loadFile) ? (JSON.parse(readFileSync(loadFile, 'utf8')) as LiveRunLoad[]) : [];
const calibrated = join(out, 'calibrated.yaml');
conmig('calibrate', ...Array.from({ length: calibrateOn }, (_, i) => policyDir(join(out, `live-${i + 1}`))), '--scenario', scenario, '--out', calibrated);
const rows: AgreementRow[] = [];
for (let k = calibrateOn + 1; k <= runs; k++) {
  conmig('run', calibrated, '--seed', String(k), '--out', join(out, `sim-${k}`), '--no-progress', '--no-report');
  const live = policyDir(join(out, `live-${k}`));
  const cmp = join(out, `compare-${k}`);
  conmig('compare', live, policyDir(join(out, `sim-${k}`)), '--out', cmp, '--allow-mismatch');
  rows.push(row(k, cmp, live));
}
writeFileSync(join(out, 'agreement.json'), JSON.stringify({ scenario, calibratedOn: calibrateOn, rows, liveLoad } satisfies Agreement, null, 2) + '\n');
writeFileSync(join(out, 'agreement.md'), table(rows));
process.stdout.write(table(rows));
console.log(`wrote ${join(out, 'agreement.md')} and agreement.json`);
