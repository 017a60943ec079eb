/**
 * Live migration benchmark: real runc + CRIU migrations between two network
 * namespace nodes over SSH, at shaped bandwidths, beside the physical floor
 * measured in the same run.
 *
 *   tsx bench/live-migration.ts [--quick] [--runs N] [--bandwidths 100,1000]
 *                               [--workloads plate,synthetic-64,synthetic-256,synthetic-1024]
 *                               [--modes cold,precopy,postcopy] [--out FILE.md] [--json FILE]
 *                               [--agent-only] [--no-agent-rows]
 *
 * It brings up its own 2-node rig (test/live/helpers/rig.sh: cm-b namespaces on
 * 10.77.0.192/28, so it never disturbs the shared testbed), installs the
 * workload images built by workloads/build.sh (plate = the ALPR service,
 * synthetic-N = N MiB of touched memory, every page read by each request;
 * cache-N[-hotK] = the same with a K KiB hot set, default 1024, plus one item
 * page per request) on both nodes, and per (workload,
 * bandwidth, mode) migrates the container node1 -> node2 -> node1 ... `runs`
 * times. Beside each median it reports the floor:
 *   - transfer floor = bytes moved / shaped bandwidth
 *   - bare checkpoint + restore of the same container on one node (no network,
 *     no SSH round trips, no verification), timed on the node itself.
 * Modes the nodes' kernels cannot do are listed with the reason instead.
 * Needs root and scripts/setup-live.sh.
 *
 *   tsx bench/live-migration.ts --suite lazy [--runs N] [--cases W@MBIT,...]
 *                               [--modes cold,cold-disk,postcopy,postcopy-stock]
 * post-copy and disk-less cold (BENCHMARKS.md); postcopy-stock runs the node's own
 * CRIU as the lazy-pages daemon, postcopy the patched criu-lazy-pages where installed.
 * CONMIG_IMAGE_CACHE: the images' folder (default /var/lib/conmig/images).
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { isConmigError } from '../src/model/errors.ts';
import type { MigrationMode } from '../src/model/types.ts';
import type { InventoryNode } from '../src/live/inventory.ts';
import { SshExecPool, type AgentSetting } from '../src/live/exec/pool.ts';
import { runChecked, shq } from '../src/live/exec/types.ts';
import { makeBundleConfig, type ImageSpec } from '../src/live/testbed/bundle.ts';
import { migrateContainer } from '../src/live/migrate/migrator.ts';
import { modeRefusal, probeCriu, type CriuProbe } from '../src/live/criu-probe.ts';
import type { LiveMigrationResult } from '../src/live/migrate/result.ts';
import { httpGetText, rig, rigUnavailableReason, rigUp } from '../test/live/helpers/rig.ts';

// a rig moved elsewhere (RIG_PFX, rig.sh) keeps its own state folder: rig.sh up tears down what the folder lists
const STATE = process.env.RIG_PFX ? `/tmp/conmig-${process.env.RIG_PFX}-bench` : '/tmp/conmig-rigb-bench';
// CONMIG_IMAGE_CACHE: images built from this checkout's workloads/ (workloads/build.sh DIR) instead of the shared ones
const IMAGE_CACHE = process.env.CONMIG_IMAGE_CACHE ?? '/var/lib/conmig/images';
const REPO = new URL('..', import.meta.url).pathname;

interface Workload {
  name: string;
  image: 'plate' | 'synthetic';
  memoryMiB: number | null;
  /** cache-N: the synthetic service with a hot set (each request reads hotKiB and one item page), not every page */
  hotKiB?: number;
}

interface Row {
  workload: string;
  bandwidthMbps: number;
  mode: MigrationMode;
  runs: number;
  checkpointMs: number;
  transferMs: number;
  restoreMs: number;
  totalMs: number;
  downtimeMs: number;
  bytes: number;
  floorTransferMs: number;
  bareCheckpointMs: number;
  bareRestoreMs: number;
  refused?: string;
  failed?: string;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function median(xs: number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The phase medians a table row shows: migrations `rs` at `bandwidthMbps`, the bare floor `bare` of the same run. */
function phaseMedians(rs: readonly LiveMigrationResult[], bare: ReadonlyArray<{ checkpointMs: number; restoreMs: number }>, bandwidthMbps: number) {
  return {
    checkpointMs: median(rs.map((r) => r.checkpointMs)),
    transferMs: median(rs.map((r) => r.transferMs)),
    restoreMs: median(rs.map((r) => r.restoreMs)),
    totalMs: median(rs.map((r) => r.totalMs)),
    downtimeMs: median(rs.map((r) => r.downtimeMs)),
    floorTransferMs: median(rs.map((r) => ((r.bytes * 8) / (bandwidthMbps * 1e6)) * 1000)),
    bareCheckpointMs: median(bare.map((x) => x.checkpointMs)),
    bareRestoreMs: median(bare.map((x) => x.restoreMs)),
  };
}

function parseWorkload(w: string): Workload {
  if (w === 'plate') return { name: 'plate', image: 'plate', memoryMiB: null };
  const c = w.match(/^cache-(\d+)(?:-hot(\d+))?$/);
  if (c) return { name: w, image: 'synthetic', memoryMiB: Number(c[1]), hotKiB: Number(c[2] ?? 1024) };
  const m = w.match(/^synthetic-(\d+)$/);
  if (!m) throw new Error(`unknown workload ${w} (plate | synthetic-<MiB> | cache-<MiB>[-hot<KiB>])`);
  return { name: w, image: 'synthetic', memoryMiB: Number(m[1]) };
}

async function startContainer(pool: SshExecPool, node: InventoryNode, w: Workload, spec: ImageSpec): Promise<string> {
  const id = w.name;
  const rootfs = `${node.imagesDir}/${w.image}/rootfs`;
  const args = w.memoryMiB === null ? spec.args : [spec.args[0], String(spec.port), String(w.memoryMiB), '0', ...(w.hotKiB ? ['-', '-', String(w.hotKiB)] : [])];
  const cfg = makeBundleConfig({ image: spec, container: id, rootfsPath: rootfs, netnsPath: `/run/netns/${node.netns}`, args });
  const ex = pool.get(node.name);
  const b = `${node.bundlesDir}/${id}`;
  await runChecked(ex, `mkdir -p ${shq(b)} && cat > ${shq(`${b}/config.json`)}`, { stdin: JSON.stringify(cfg, null, 2) });
  await runChecked(ex, `runc --root ${shq(node.runcRoot)} run -d --bundle ${shq(b)} ${shq(id)} </dev/null >/dev/null 2>&1`, {
    what: `starting ${id}`,
  });
  const deadline = performance.now() + 120_000;
  while (performance.now() < deadline) {
    const r = await httpGetText(node.address, spec.port, '/health', 2000);
    if (r?.status === 200) return id;
    await new Promise((r2) => setTimeout(r2, 200));
  }
  throw new Error(`${id} does not answer on ${node.name}`);
}

/** Bare runc checkpoint + restore of the container on its node, timed on the node. */
async function bareCheckpointRestore(pool: SshExecPool, node: InventoryNode, id: string): Promise<{ checkpointMs: number; restoreMs: number }> {
  const d = `${node.workDir}/checkpoints/bare-${id}`;
  const conf = `${node.workDir}/conmig-criu.conf`;
  const r = `CRIU_CONFIG_FILE=${shq(conf)} runc --root ${shq(node.runcRoot)} --criu ${shq(node.criuPath)}`;
  const script = [
    `rm -rf ${shq(d)}; mkdir -p ${shq(`${d}/img`)}`,
    `b=$(runc --root ${shq(node.runcRoot)} state ${shq(id)} | sed -n 's/.*"bundle": "\\(.*\\)".*/\\1/p')`,
    't0=$(date +%s%N)',
    `${r} checkpoint --image-path ${shq(`${d}/img`)} --work-path ${shq(`${d}/w`)} ${shq(id)} || exit 3`,
    't1=$(date +%s%N)',
    `${r} restore -d --image-path ${shq(`${d}/img`)} --work-path ${shq(`${d}/rw`)} --bundle "$b" ${shq(id)} </dev/null >/dev/null 2>&1 || exit 4`,
    't2=$(date +%s%N)',
    'echo "$t0 $t1 $t2"',
    `rm -rf --one-file-system ${shq(d)}`,
  ].join('\n');
  const ex = pool.get(node.name);
  const out = await ex.run(script, { timeoutMs: 600_000 });
  if (out.code !== 0) {
    const log = await ex.run(`tail -n 8 ${shq(`${d}/w/dump.log`)} ${shq(`${d}/rw/restore.log`)} 2>/dev/null; rm -rf --one-file-system ${shq(d)}`);
    // the container must run again for the next migration
    const st = await ex.run(`runc --root ${shq(node.runcRoot)} state ${shq(id)}`);
    throw new Error(`bare ${out.code === 3 ? 'checkpoint' : 'restore'} failed on ${node.name} (container ${st.code === 0 ? 'still there' : 'GONE'}): ${log.stdout.trim().split('\n').filter((l) => /Error/.test(l)).slice(-3).join(' | ')}`);
  }
  const [t0, t1, t2] = out.stdout.trim().split(' ').map((x) => BigInt(x));
  return { checkpointMs: Number(t1 - t0) / 1e6, restoreMs: Number(t2 - t1) / 1e6 };
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toFixed(0) : '-';
}

export function markdownTable(rows: Row[]): string {
  const head =
    '| workload | Mbit/s | mode | runs | checkpoint ms | transfer ms | restore ms | total ms | downtime ms | MiB moved | floor: MiB/bandwidth ms | floor: bare ckpt+restore ms |\n' +
    '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|';
  const lines = rows.map((r) =>
    r.refused || r.failed
      ? `| ${r.workload} | ${r.bandwidthMbps} | ${r.mode} | 0 | ${r.refused ? `refused: ${r.refused}` : `failed: ${r.failed}`} | | | | | | | |`
      : `| ${r.workload} | ${r.bandwidthMbps} | ${r.mode} | ${r.runs} | ${fmt(r.checkpointMs)} | ${fmt(r.transferMs)} | ${fmt(r.restoreMs)} | ${fmt(r.totalMs)} | ${fmt(r.downtimeMs)} | ${(r.bytes / 2 ** 20).toFixed(1)} | ${fmt(r.floorTransferMs)} | ${fmt(r.bareCheckpointMs)} + ${fmt(r.bareRestoreMs)} = ${fmt(r.bareCheckpointMs + r.bareRestoreMs)} |`,
  );
  return [head, ...lines].join('\n');
}

// ---- warm nodes: the node agent vs one SSH command per step (issue 11) ----

interface WarmRow {
  exec: string;
  runs: number;
  preflightMs: number;
  dryRunPreflightMs: number;
  /** Set-up before the freeze after the checks (the push's session: the second `preflight` entry). */
  prepareMs: number;
  checkpointMs: number;
  transferMs: number;
  restoreMs: number;
  totalMs: number;
  downtimeMs: number;
  /** The floor, same run: bare runc checkpoint + restore on the node, and bytes / bandwidth. */
  bareCheckpointMs: number;
  bareRestoreMs: number;
  floorTransferMs: number;
}

/**
 * plate between warm nodes (connections open, the agent running with its facts cached, the
 * node-to-node channel open, CRIU probed): a warm-up migration there and back, then `runs`
 * migrations node1 <-> node2 and `runs` pre-flights alone (dry runs), for each exec setting
 * in the same run: the node agent, and one SSH command per step (the baseline).
 */
async function warmRows(inv: Awaited<ReturnType<typeof rigUp>>, spec: ImageSpec, runs: number, bw: number, results: LiveMigrationResult[]): Promise<WarmRow[]> {
  const rows: WarmRow[] = [];
  const w: Workload = { name: 'plate', image: 'plate', memoryMiB: null };
  // `fresh`: the agent, but a new controller process per migration as far as conmig can tell (a new
  // pool: new SSH connections, agents, node-to-node channel, CRIU probe cache), like one
  // `conmig migrate` after another; the agents' facts on the nodes outlive them
  const settings: Array<{ agent: AgentSetting; fresh: boolean }> = [{ agent: 'off', fresh: false }, { agent: 'require', fresh: false }, ...(process.argv.includes('--no-fresh-row') ? [] : [{ agent: 'require' as AgentSetting, fresh: true }])];
  for (const { agent: setting, fresh } of settings) {
    const pool = new SshExecPool(inv, { agent: setting });
    let probes = new Map<string, CriuProbe>();
    // the pool a migration uses (fresh: a new one each time, closed after it)
    const use = async <T>(f: (p: SshExecPool) => Promise<T>): Promise<T> => {
      if (!fresh) return f(pool);
      probes = new Map<string, CriuProbe>();
      const p = new SshExecPool(inv, { agent: setting });
      try {
        return await f(p);
      } finally {
        await p.closeAll();
      }
    };
    const [a, b] = inv.nodes;
    let at = a;
    const ms: LiveMigrationResult[] = [];
    const dry: number[] = [];
    const bare: Array<{ checkpointMs: number; restoreMs: number }> = [];
    try {
      const id = await startContainer(pool, a, w, spec);
      const move = async (record: boolean): Promise<void> => {
        const to = at === a ? b : a;
        const r = await use((p) => migrateContainer({ inventory: inv, pool: p, container: id, from: at.name, to: to.name, mode: 'cold', port: spec.port, probeCache: probes }));
        at = to;
        if (record) ms.push(r);
      };
      await move(false);
      await move(false);
      for (let k = 0; k < runs; k++) {
        process.stderr.write(`  warm plate, ${setting === 'off' ? 'per-command SSH' : fresh ? 'agent, new controller each time' : 'agent'}: run ${k + 1}/${runs}\n`);
        const to = at === a ? b : a;
        const d = await use((p) => migrateContainer({ inventory: inv, pool: p, container: id, from: at.name, to: to.name, mode: 'cold', port: spec.port, probeCache: probes, dryRun: true }));
        dry.push(d.phases.find((p) => p.phase === 'preflight')?.wallMs ?? NaN);
        await move(true);
        // the floor in the same run, on the node the container is on now
        try {
          bare.push(await bareCheckpointRestore(pool, at, id));
        } catch (e) {
          process.stderr.write(`    (floor run skipped: ${(e as Error).message})\n`);
          if ((e as Error).message.includes('GONE')) throw e;
        }
      }
      results.push(...ms);
    } finally {
      await pool.get(at.name).run(`runc --root ${shq(at.runcRoot)} delete -f plate`).catch(() => undefined);
      await pool.closeAll();
    }
    rows.push({
      exec: setting === 'off' ? 'one SSH command per step (--no-agent)' : fresh ? 'node agent, a new controller per migration (agents started, facts kept on the nodes)' : 'node agent',
      runs: ms.length,
      preflightMs: median(ms.map((r) => r.phases.find((p) => p.phase === 'preflight')?.wallMs ?? NaN)),
      dryRunPreflightMs: median(dry),
      prepareMs: median(ms.map((r) => r.phases.filter((p) => p.phase === 'preflight').slice(1).reduce((a, p) => a + p.wallMs, 0))),
      ...phaseMedians(ms, bare, bw),
    });
  }
  return rows;
}

export function warmTable(rows: WarmRow[], bw: number): string {
  const base = rows.find((r) => r.exec.startsWith('one SSH'));
  const head =
    `| plate, warm nodes, ${bw} Mbit/s | runs | pre-flight ms | pre-flight alone (dry run) ms | set-up before the freeze ms | checkpoint ms | transfer ms | restore ms | total ms | downtime ms | floor: bare ckpt + restore + MiB/bandwidth ms | downtime / floor | total vs per-command SSH | downtime vs per-command SSH |\n` +
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|';
  const lines = rows.map((r) => {
    const floor = r.bareCheckpointMs + r.bareRestoreMs + r.floorTransferMs;
    return `| ${r.exec} | ${r.runs} | ${fmt(r.preflightMs)} | ${fmt(r.dryRunPreflightMs)} | ${fmt(r.prepareMs)} | ${fmt(r.checkpointMs)} | ${fmt(r.transferMs)} | ${fmt(r.restoreMs)} | ${fmt(r.totalMs)} | ${fmt(r.downtimeMs)} | ${fmt(r.bareCheckpointMs)} + ${fmt(r.bareRestoreMs)} + ${fmt(r.floorTransferMs)} = ${fmt(floor)} | ${(r.downtimeMs / floor).toFixed(2)}x | ${base ? `${(r.totalMs / base.totalMs).toFixed(2)}x` : '-'} | ${base ? `${(r.downtimeMs / base.downtimeMs).toFixed(2)}x` : '-'} |`;
  });
  return [head, ...lines].join('\n');
}

// ---- post-copy and disk-less cold (issue 11): `--suite lazy` ----

interface LazyRow {
  workload: string;
  bandwidthMbps: number;
  /**
   * cold = disk-less (--diskless), cold-disk = the dump to disk (the default), postcopy = with the
   * node's criu-lazy-pages (CRIU with conmig's lazy-pages patch) where installed, postcopy-stock =
   * the lazy-pages daemon of the node's own CRIU (stockLazyDaemon)
   */
  mode: 'cold' | 'cold-disk' | 'postcopy' | 'postcopy-stock';
  runs: number;
  checkpointMs: number;
  transferMs: number;
  restoreMs: number;
  lazyPagesMs: number;
  totalMs: number;
  downtimeMs: number;
  bytes: number;
  floorTransferMs: number;
  bareMs: number;
  notes: string;
  failed?: string;
}

function lazyTable(rows: LazyRow[]): string {
  const head =
    '| workload | Mbit/s | mode | runs | checkpoint ms | transfer ms | restore ms | lazy-pages ms | total ms | downtime ms | MiB moved | floor: MiB/bandwidth ms | floor: bare ckpt+restore ms | downtime / floor | total / (MiB/bandwidth) |\n' +
    '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|';
  const lines = rows.map((r) =>
    r.failed
      ? `| ${r.workload} | ${r.bandwidthMbps} | ${r.mode} | ${r.runs} | failed: ${r.failed} | | | | | | | | | | |`
      : `| ${r.workload} | ${r.bandwidthMbps} | ${r.mode} | ${r.runs} | ${fmt(r.checkpointMs)} | ${fmt(r.transferMs)} | ${fmt(r.restoreMs)} | ${fmt(r.lazyPagesMs)} | ${fmt(r.totalMs)} | ${fmt(r.downtimeMs)} | ${(r.bytes / 2 ** 20).toFixed(1)} | ${fmt(r.floorTransferMs)} | ${fmt(r.bareMs)} | ${(r.downtimeMs / (r.floorTransferMs + r.bareMs)).toFixed(2)}x | ${(r.totalMs / r.floorTransferMs).toFixed(2)}x |`,
  );
  return [head, ...lines].join('\n');
}

/**
 * Disk-less cold (beside the dump to disk, same run) and post-copy, medians of `runs`, with
 * the floor measured in the same run (bare checkpoint + restore on one node; bytes/bandwidth).
 * Goals (issue 11): disk-less cold downtime <= 1.25x the floor; post-copy downtime < 0.3 s and
 * total within 1.3x of bytes/bandwidth.
 */
async function lazySuite(inv: Awaited<ReturnType<typeof rigUp>>, pool: SshExecPool, specs: Record<string, ImageSpec>, probes: Map<string, CriuProbe>, runs: number, cases: Array<{ w: Workload; bw: number; modes: LazyRow['mode'][] }>): Promise<LazyRow[]> {
  const rows: LazyRow[] = [];
  const [a, b] = inv.nodes;
  for (const { w, bw, modes } of cases) {
    rig('shape', STATE, String(bw));
    const spec = specs[w.image];
    const id = await startContainer(pool, a, w, spec);
    let at = a;
    const bare: number[] = [];
    try {
      for (const mode of modes) {
        const rs: LiveMigrationResult[] = [];
        try {
          for (let k = 0; k < runs; k++) {
            const to = at === a ? b : a;
            process.stderr.write(`  [lazy suite] ${w.name} @${bw} Mbit/s ${mode} run ${k + 1}/${runs}: ${at.name} -> ${to.name}\n`);
            const r = await migrateContainer({
              inventory: inv, pool, container: id, from: at.name, to: to.name, mode: mode.startsWith('postcopy') ? 'postcopy' : 'cold',
              diskless: mode === 'cold', stockLazyDaemon: mode === 'postcopy-stock', port: spec.port, probeCache: probes,
            });
            rs.push(r);
            if (process.env.CONMIG_BENCH_VERBOSE) process.stderr.write(`    ${JSON.stringify({ phases: r.phases, downtime: r.downtime })}\n`);
            at = to;
            if (bare.length < runs) {
              try {
                const x = await bareCheckpointRestore(pool, at, id);
                bare.push(x.checkpointMs + x.restoreMs);
              } catch (e) {
                process.stderr.write(`    (floor run skipped: ${(e as Error).message})\n`);
                if ((e as Error).message.includes('GONE')) throw e;
              }
            }
          }
          const notes = [...new Set(rs.flatMap((r) => r.phases.filter((p) => p.phase === 'checkpoint' && p.note).map((p) => p.note!)))].join('; ');
          rows.push({
            workload: w.name, bandwidthMbps: bw, mode, runs: rs.length,
            checkpointMs: median(rs.map((r) => r.checkpointMs)), transferMs: median(rs.map((r) => r.transferMs)), restoreMs: median(rs.map((r) => r.restoreMs)),
            lazyPagesMs: median(rs.map((r) => r.lazyPagesMs)), totalMs: median(rs.map((r) => r.totalMs)), downtimeMs: median(rs.map((r) => r.downtimeMs)),
            bytes: median(rs.map((r) => r.bytes)), floorTransferMs: median(rs.map((r) => ((r.bytes * 8) / (bw * 1e6)) * 1000)), bareMs: NaN, notes,
          });
        } catch (e) {
          rows.push({
            workload: w.name, bandwidthMbps: bw, mode, runs: rs.length, checkpointMs: NaN, transferMs: NaN, restoreMs: NaN, lazyPagesMs: NaN, totalMs: NaN,
            downtimeMs: NaN, bytes: NaN, floorTransferMs: NaN, bareMs: NaN, notes: '', failed: isConmigError(e) ? `${e.code}: ${e.message.slice(0, 300)}${e.context.sshError ? ` (${String(e.context.sshError).slice(0, 200)})` : ''}` : String(e).slice(0, 300),
          });
          // the container must be somewhere for the next mode: find it
          const where = await Promise.all(inv.nodes.map(async (n) => ((await pool.get(n.name).run(`runc --root ${shq(n.runcRoot)} state ${shq(id)}`)).code === 0 ? n : null)));
          const found = where.find((n) => n !== null);
          if (!found) break;
          at = found;
        }
      }
    } finally {
      await pool.get(at.name).run(`runc --root ${shq(at.runcRoot)} delete -f ${shq(id)}`).catch(() => undefined);
    }
    const floor = median(bare);
    for (const r of rows) if (r.workload === w.name && r.bandwidthMbps === bw) r.bareMs = floor;
  }
  return rows;
}

async function lazyMain(): Promise<void> {
  const runs = Number(arg('runs') ?? 3);
  const only = arg('cases');
  const why = rigUnavailableReason();
  if (why) throw new Error(`cannot run the live benchmark: ${why}`);
  const specs: Record<string, ImageSpec> = {};
  for (const img of ['plate', 'synthetic']) {
    const { readFile } = await import('node:fs/promises');
    specs[img] = JSON.parse(await readFile(join(IMAGE_CACHE, img, 'image.json'), 'utf8')) as ImageSpec;
  }
  const all: Array<{ w: Workload; bw: number; modes: LazyRow['mode'][] }> = [
    ...['plate', 'synthetic-64', 'synthetic-256', 'synthetic-1024'].map((w) => ({ w: parseWorkload(w), bw: 1000, modes: ['cold', 'cold-disk'] as LazyRow['mode'][] })),
    ...['plate', 'synthetic-64', 'synthetic-256'].map((w) => ({ w: parseWorkload(w), bw: 100, modes: ['cold', 'cold-disk'] as LazyRow['mode'][] })),
    ...['synthetic-256', 'synthetic-1024'].map((w) => ({ w: parseWorkload(w), bw: 1000, modes: ['postcopy-stock', 'postcopy'] as LazyRow['mode'][] })),
    // a cache with a small hot set (1 MiB index + one item page per request): the working set post-copy must fetch before an answer
    ...['cache-256', 'cache-1024'].map((w) => ({ w: parseWorkload(w), bw: 1000, modes: ['cold-disk', 'postcopy-stock', 'postcopy'] as LazyRow['mode'][] })),
  ];
  const modes = arg('modes')?.split(',');
  const cases = (only ? all.filter((c) => only.split(',').includes(`${c.w.name}@${c.bw}`)) : all)
    .map((c) => ({ ...c, modes: modes ? c.modes.filter((m) => modes.includes(m)) : c.modes }))
    .filter((c) => c.modes.length > 0);
  const inv = await rigUp(STATE, 2);
  const pool = new SshExecPool(inv);
  let rows: LazyRow[] = [];
  try {
    for (const n of inv.nodes) {
      await runChecked(pool.get(n.name), `mkdir -p ${shq(n.imagesDir)} && cp -a ${shq(`${IMAGE_CACHE}/plate`)} ${shq(`${IMAGE_CACHE}/synthetic`)} ${shq(n.imagesDir)}/`);
    }
    const probes = new Map<string, CriuProbe>();
    for (const n of inv.nodes) probes.set(n.name, await probeCriu(pool.get(n.name), n.criuPath));
    rows = await lazySuite(inv, pool, specs, probes, runs, cases);
  } finally {
    await pool.closeAll();
    rig('down', STATE);
  }
  const notes = rows.filter((r) => r.notes).map((r) => `- ${r.workload} @${r.bandwidthMbps} ${r.mode}: ${r.notes}`).join('\n');
  const md = `## Post-copy and disk-less cold (medians of ${runs} runs; ${new Date().toISOString()})\n\n${lazyTable(rows)}\n\n${notes}\n`;
  process.stdout.write(md);
  const out = arg('out');
  if (out) await writeFile(out, md);
  const json = arg('json');
  if (json) await writeFile(json, JSON.stringify({ rows }, null, 2));
}

async function main(): Promise<void> {
  if (arg('suite') === 'lazy') return lazyMain();
  const quick = process.argv.includes('--quick');
  const runs = Number(arg('runs') ?? 3);
  const bandwidths = (arg('bandwidths') ?? (quick ? '1000' : '100,1000')).split(',').map(Number);
  const workloads = (arg('workloads') ?? (quick ? 'plate,synthetic-64' : 'plate,synthetic-64,synthetic-256,synthetic-1024')).split(',').map(parseWorkload);
  const modes = (arg('modes') ?? 'cold,precopy,postcopy').split(',') as MigrationMode[];
  const why = rigUnavailableReason();
  if (why) throw new Error(`cannot run the live benchmark: ${why}`);
  if (!existsSync(join(IMAGE_CACHE, 'plate', 'image.json')) || !existsSync(join(IMAGE_CACHE, 'synthetic', 'image.json'))) {
    process.stderr.write('building workload images (workloads/build.sh)...\n');
    const { execFileSync } = await import('node:child_process');
    execFileSync('bash', [join(REPO, 'workloads', 'build.sh'), IMAGE_CACHE], { stdio: 'inherit' });
  }
  const specs: Record<string, ImageSpec> = {};
  for (const img of ['plate', 'synthetic']) {
    const { readFile } = await import('node:fs/promises');
    specs[img] = JSON.parse(await readFile(join(IMAGE_CACHE, img, 'image.json'), 'utf8')) as ImageSpec;
  }

  const inv = await rigUp(STATE, 2);
  const pool = new SshExecPool(inv);
  const rows: Row[] = [];
  const results: LiveMigrationResult[] = [];
  const agentOnly = process.argv.includes('--agent-only');
  let warm = '';
  try {
    for (const n of inv.nodes) {
      await runChecked(pool.get(n.name), `mkdir -p ${shq(n.imagesDir)} && cp -a ${shq(`${IMAGE_CACHE}/plate`)} ${shq(`${IMAGE_CACHE}/synthetic`)} ${shq(n.imagesDir)}/`);
    }
    if (!process.argv.includes('--no-agent-rows')) {
      const bw = 1000;
      rig('shape', STATE, String(bw));
      warm = warmTable(await warmRows(inv, specs.plate, Number(arg('warm-runs') ?? 5), bw, results), bw);
    }
    if (agentOnly) bandwidths.length = 0;
    const probes = new Map<string, CriuProbe>();
    for (const n of inv.nodes) probes.set(n.name, await probeCriu(pool.get(n.name), n.criuPath));
    for (const bw of bandwidths) {
      rig('shape', STATE, String(bw));
      for (const w of workloads) {
        for (const mode of modes) {
          const base: Row = {
            workload: w.name, bandwidthMbps: bw, mode, runs: 0, checkpointMs: NaN, transferMs: NaN, restoreMs: NaN, totalMs: NaN,
            downtimeMs: NaN, bytes: NaN, floorTransferMs: NaN, bareCheckpointMs: NaN, bareRestoreMs: NaN,
          };
          const refusal = [...probes.values()].map((p) => modeRefusal(mode, p)).find((x) => x !== null);
          if (refusal) {
            rows.push({ ...base, refused: refusal });
            continue;
          }
          const spec = specs[w.image];
          const [a, b] = inv.nodes;
          const id = await startContainer(pool, a, w, spec);
          const rs: LiveMigrationResult[] = [];
          const bare: Array<{ checkpointMs: number; restoreMs: number }> = [];
          let at = a;
          try {
            for (let k = 0; k < runs; k++) {
              // the CRIU config file the migrator writes is needed by the bare run too: migrate first
              const to = at === a ? b : a;
              process.stderr.write(`  ${w.name} @${bw} Mbit/s ${mode} run ${k + 1}/${runs}: ${at.name} -> ${to.name}\n`);
              const r = await migrateContainer({ inventory: inv, pool, container: id, from: at.name, to: to.name, mode, port: spec.port, probeCache: probes });
              rs.push(r);
              results.push(r);
              at = to;
              try {
                bare.push(await bareCheckpointRestore(pool, at, id));
              } catch (e) {
                process.stderr.write(`    (floor run skipped: ${(e as Error).message})\n`);
                if ((e as Error).message.includes('GONE')) throw e;
              }
            }
            rows.push({
              ...base,
              runs: rs.length,
              ...phaseMedians(rs, bare, bw),
              bytes: median(rs.map((r) => r.bytes)),
            });
          } catch (e) {
            rows.push({ ...base, runs: rs.length, failed: isConmigError(e) ? `${e.code}: ${e.message}${e.context.stderr ? ` (stderr: ${String(e.context.stderr).replace(/\s+/g, ' ').slice(0, 300)})` : ''}` : String(e) });
          } finally {
            await pool.get(at.name).run(`runc --root ${shq(at.runcRoot)} delete -f ${shq(id)}`).catch(() => undefined);
          }
        }
      }
    }
  } finally {
    await pool.closeAll();
    rig('down', STATE);
  }
  const env = [...new Set(results.flatMap((r) => Object.entries(r.environment).map(([k, v]) => `${k}=${v}`)))].join(', ');
  const md = `## Live migration benchmark (medians of ${runs} runs; ${new Date().toISOString()})\n\n${agentOnly ? '' : `${markdownTable(rows)}\n\n`}${warm ? `${warm}\n\n` : ''}Environment: ${env}. Downtime is what a client probing /health every 10 ms from the controller saw.\n`;
  process.stdout.write(md);
  const out = arg('out');
  if (out) await writeFile(out, md);
  const json = arg('json');
  if (json) await writeFile(json, JSON.stringify({ rows, results }, null, 2));
}

await main();
// a bench script, not library code: once the table is out, do not wait for a straggling handle
// (a run was seen to stay alive after printing; to find: a connection or timer left open)
process.exit(0);
