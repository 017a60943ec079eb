/**
 * Live mode entry point (`conmig run SCENARIO --live`, or `mode: live`): the
 * scenario's policies, one after another, drive real nodes from an
 * inventory through the live backend (src/live/backend/), with the SAME
 * policy objects and the same control step as the simulator, and each run is
 * written in the simulation's result schema (plus summary.environment and
 * live-migrations.json), then the report over all of them.
 *
 *   1. pre-flight (nothing touched): nodes, SSH host keys, runc/CRIU, the
 *      migration mode, where each container runs; one refusal listing every problem
 *   2. base RTT of every path, measured once
 *   3. per policy: put each container back on its scenario start node (a
 *      migration, not recorded) if it is elsewhere, run, write the folder
 *   4. the report
 *
 * Ctrl-C (SIGINT, or opts.signal) or a lost node ends the current run
 * cleanly: users stop, migrations in flight finish or roll back, the results
 * so far are written with summary.environment.ended, and INTERRUPTED is
 * thrown naming where every container runs.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { ConmigError } from '../model/errors.ts';
import type { Policy } from '../model/policy.ts';
import type { Scenario } from '../model/types.ts';
import { writeReport } from '../report/index.ts';
import { createRequestTraceWriter, writeFileAtomic, writeRun, writeRunIdentity } from '../results/index.ts';
import { loadPolicy } from '../run/load-policy.ts';
import { policyDirName, type ScenarioRun } from '../run/run-scenario.ts';
import { InClientAccess, RelayAccess, type AccessPath } from './backend/access.ts';
import type { MigrateFn } from './backend/backend.ts';
import { measureBaseRtt, type BaseRtt } from './backend/base-rtt.ts';
import { preflight } from './backend/preflight.ts';
import { runPolicyLive, type LivePolicyRunResult } from './backend/run.ts';
import type { CriuProbe } from './criu-probe.ts';
import { SshExecPool, type AgentSetting } from './exec/pool.ts';
import { loadInventory } from './inventory.ts';
import { locateContainer, migrateContainer } from './migrate/migrator.ts';
import { defaultJournalDir } from './migrate/journal.ts';
import { recoverBeforeMigrating } from './migrate/recover.ts';
import { Teardown } from './teardown.ts';
import { DEFAULT_STATE_DIR, statePaths } from './testbed/layout.ts';

export interface LiveRunOptions {
  outDir: string;
  /** Inventory file; default: the scenario's live.inventory, else the local testbed's. */
  inventory?: string;
  seed?: number;
  /** Called now and then with the fraction of scenario time done. */
  onProgress?: (policyIndex: number, policyName: string, fraction: number) => void;
  /** Stops the run like Ctrl-C; without it, runLive listens for SIGINT itself while it runs. */
  signal?: AbortSignal;
  /** Force the access-latency element (default: the relay when the inventory has one). */
  access?: 'relay' | 'in-client';
  /** Progress lines (placement resets, runs written). */
  log?: (line: string) => void;
  /** Skip the HTML report. */
  noReport?: boolean;
  /** The migration primitive (tests only). */
  migrate?: MigrateFn;
  /** Migration journal folder (default: defaultJournalDir(), migrate/journal.ts); interrupted migrations in it are recovered first. */
  journalDir?: string;
  /** The node agent (`off` with --no-agent; default CONMIG_AGENT, else auto: exec/pool.ts). */
  agent?: AgentSetting;
}

/** Where `conmig testbed up` writes the inventory by default. */
export const DEFAULT_INVENTORY = statePaths(DEFAULT_STATE_DIR).inventory;

export interface LiveScenarioRun extends ScenarioRun {
  live: LivePolicyRunResult;
}

export async function runLive(scenario: Scenario, opts: LiveRunOptions): Promise<{ runs: LiveScenarioRun[]; reportPath?: string }> {
  const log = opts.log ?? ((): void => {});
  const seed = opts.seed ?? scenario.seed;
  const inventoryFile = path.resolve(opts.inventory ?? scenario.live?.inventory ?? DEFAULT_INVENTORY);
  const inv = await loadInventory(inventoryFile);
  // Policies first: a bad parameter fails before anything is touched.
  const policies: Policy[] = [];
  for (const ref of scenario.policies) policies.push(await loadPolicy(ref, scenario));

  const ctl = new AbortController();
  const onSigint = (): void => {
    log('interrupt: stopping the users, letting migrations in flight finish or roll back, writing the results so far');
    ctl.abort();
  };
  const outer = opts.signal;
  const onOuter = (): void => ctl.abort();
  if (outer) {
    if (outer.aborted) ctl.abort();
    outer.addEventListener('abort', onOuter, { once: true });
  } else process.on('SIGINT', onSigint);

  const pool = new SshExecPool(inv, { connectTimeoutMs: 6000, agent: opts.agent });
  const probeCache = new Map<string, CriuProbe>();
  const journalDir = opts.journalDir ?? defaultJournalDir();
  const migrate: MigrateFn = opts.migrate ?? ((o) => migrateContainer({ journalDir, ...o }));
  let access: AccessPath | null = null;
  const runs: LiveScenarioRun[] = [];
  let stop: LivePolicyRunResult | null = null;
  // The pool (SSH connections, node agents) is closed whatever ends the run, a refusal before
  // the first policy included: an open connection would keep the process alive after its error.
  try {
    try {
      // what an earlier controller left half-way is ended first (conmig recover)
      if (!opts.migrate) await recoverBeforeMigrating({ inventory: inv, journalDir, pool, log: (l) => log(`recover: ${l}`) }, scenario.containers.map((c) => scenario.live?.containerNames[c.id] ?? c.id));
      const pre = await preflight(scenario, inv, inventoryFile, pool);
      for (const [k, p] of pre.probes) probeCache.set(k, p);
      const names = pre.containers.map((c) => c.name);
      const ports = pre.containers.map((c) => c.inventory.port);
      const useRelay = opts.access ? opts.access === 'relay' : inv.relay !== undefined;
      if (useRelay && !inv.relay) throw new ConmigError('USAGE', `access "relay" needs an inventory with a relay section (${inventoryFile} has none)`);
      access = useRelay && inv.relay ? new RelayAccess(inv.relay) : new InClientAccess();
      const first = pre.containers[0];
      const firstNode = pre.nodes.find((n) => n.name === first.runningOn) ?? pre.nodes[0];
      const base: BaseRtt = await measureBaseRtt(pre.nodes, useRelay ? inv.relay : undefined, { node: firstNode, port: first.inventory.port, healthPath: '/health' });
      log(`base RTT per node (ms): ${pre.nodes.map((n, i) => `${n.name} ${base.baseRttMs[i].toFixed(2)}`).join(', ')} (${base.method})`);
      for (const e of base.teardownErrors) log(`teardown: ${e}`);

      const where = new Map(pre.containers.map((c, i) => [i, c.runningOn]));
      for (let p = 0; p < policies.length; p++) {
        if (ctl.signal.aborted) break;
        const label = scenario.policies[p].name;
        const resets = await resetPlacement(scenario, inv, pool, names, ports, where, migrate, probeCache, ctl.signal, log);
        if (ctl.signal.aborted) break;
        const dir = path.join(opts.outDir, policyDirName(label));
        await mkdir(dir, { recursive: true });
        const trace = scenario.output.requestTrace ? createRequestTraceWriter(dir) : undefined;
        let r: LivePolicyRunResult;
        try {
          r = await runPolicyLive({
            scenario,
            policy: policies[p],
            seed,
            inventory: inv,
            nodes: pre.nodes,
            containerNames: names,
            ports,
            ...(scenario.live?.requestPath === undefined ? {} : { path: scenario.live.requestPath }),
            pool,
            access,
            baseRttMs: base.baseRttMs,
            probeCache,
            signal: ctl.signal,
            requestSink: trace ? (row) => trace.write(row) : undefined,
            onProgress: opts.onProgress ? (f) => opts.onProgress!(p, label, f) : undefined,
            migrate,
          });
        } finally {
          await trace?.close();
        }
        scenario.containers.forEach((c, i) => where.set(i, r.placement[c.id]));
        r.data.summary.policy.name = label;
        r.data.summary.environment = environmentOf(inventoryFile, inv.kind, pre, base, access.kind, scenario, r, resets);
        await writeRun(dir, r.data);
        await writeFileAtomic(path.join(dir, 'live-migrations.json'), JSON.stringify(r.migrations, null, 2) + '\n');
        runs.push({ policy: label, dir, data: r.data, live: r });
        // Which run wrote this folder, as a simulated run records it (results/output-dir.ts).
        await writeRunIdentity(opts.outDir, {
          mode: 'live',
          scenario: r.data.summary.scenario,
          seed,
          policies: runs.map((x) => ({ name: x.policy, dir: path.basename(x.dir) })),
        });
        log(`${label}: ${r.ended}, ${r.data.summary.requests.served} served, ${r.data.migrations.length} migrations -> ${dir}`);
        if (r.ended !== 'completed') {
          stop = r;
          break;
        }
      }
    } finally {
      if (outer) outer.removeEventListener('abort', onOuter);
      else process.off('SIGINT', onSigint);
      const teardown = new Teardown();
      if (access) await teardown.attempt('closing the access path', () => access!.close());
      for (const e of teardown.errors) log(`teardown: ${e}`);
    }

    let reportPath: string | undefined;
    if (runs.length > 0 && !opts.noReport) {
      const { htmlPath } = await writeReport(
        opts.outDir,
        runs.map((r) => ({ ...r.data, label: r.policy })),
        { title: `${scenario.name} (live): ${scenario.description}`, scenarioName: scenario.name, qosThresholdMs: scenario.qosThresholdMs },
      );
      reportPath = htmlPath;
    }
    if (stop || ctl.signal.aborted) {
      const placement = await describePlacement(inv, pool, scenario.containers.map((c) => scenario.live?.containerNames[c.id] ?? c.id));
      throw new ConmigError(
        'INTERRUPTED',
        `live run stopped (${stop?.ended ?? 'interrupted'}): ${stop ? stop.endedReason : 'interrupted before a run started'}; results so far in ${opts.outDir}; ${placement}`,
        { context: { outDir: opts.outDir, ended: stop?.ended ?? 'interrupted', placement } },
      );
    }
    return { runs, reportPath };
  } finally {
    await pool.closeAll();
  }
}

/** Move every container that is not on its scenario start node back there (cold), before a policy's run. */
async function resetPlacement(
  scenario: Scenario,
  inv: Awaited<ReturnType<typeof loadInventory>>,
  pool: SshExecPool,
  names: readonly string[],
  ports: readonly number[],
  where: Map<number, string>,
  migrate: MigrateFn,
  probeCache: Map<string, CriuProbe>,
  signal: AbortSignal,
  log: (l: string) => void,
): Promise<string[]> {
  const done: string[] = [];
  for (let i = 0; i < scenario.containers.length; i++) {
    const c = scenario.containers[i];
    const now = where.get(i);
    if (now === undefined || now === c.node) continue;
    log(`placement: moving ${names[i]} from ${now} back to its start node ${c.node}`);
    await migrate({ inventory: inv, container: names[i], from: now, to: c.node, mode: 'cold', pool, probeCache, signal, port: ports[i], reason: 'reset to the scenario start node' });
    where.set(i, c.node);
    done.push(`${c.id}: ${now} -> ${c.node}`);
  }
  return done;
}

async function describePlacement(inv: Awaited<ReturnType<typeof loadInventory>>, pool: SshExecPool, names: string[]): Promise<string> {
  const parts: string[] = [];
  for (const name of names) {
    try {
      const w = await locateContainer(inv, pool, name);
      parts.push(`${name} runs on ${w.running.join(', ') || 'no node'}${w.unreachable.length ? ` (unreachable: ${w.unreachable.join(', ')})` : ''}`);
    } catch (e) {
      parts.push(`${name}: could not be located (${(e as Error).message})`);
    }
  }
  return parts.join('; ');
}

function environmentOf(
  inventoryFile: string,
  kind: string,
  pre: Awaited<ReturnType<typeof preflight>>,
  base: BaseRtt,
  accessKind: string,
  scenario: Scenario,
  r: LivePolicyRunResult,
  resets: string[],
): Record<string, unknown> {
  const c = r.control;
  const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);
  const max = (xs: number[]): number => (xs.length ? Math.max(...xs) : Number.NaN);
  return {
    ended: r.ended,
    endedReason: r.endedReason,
    inventory: { file: inventoryFile, kind, nodes: pre.nodes.map((n) => n.name) },
    nodes: Object.fromEntries(pre.nodes.map((n, i) => [n.name, { address: n.address, ...pre.facts[n.name], baseRttMs: base.baseRttMs[i] }])),
    timeScale: scenario.live?.timeScale ?? 1,
    onDowntime: scenario.live?.onDowntime ?? 'retry',
    wallClockStart: r.wallStartIso,
    wallS: r.wallMs / 1000,
    access: accessKind,
    baseRtt: { method: base.method, relayExtraMs: base.relayExtraMs },
    placementAtStart: resets.length ? `reset: ${resets.join('; ')}` : 'as in the scenario',
    placementAtEnd: r.placement,
    control: {
      steps: c.steps,
      stepWallMsMean: mean(c.stepWallMs),
      stepWallMsMax: max(c.stepWallMs),
      stepLateWallMsMax: c.stepLateWallMsMax,
      probeWallMsMean: mean(c.probeWallMs),
      decideWallMsMean: mean(c.decideWallMs),
      sshCommandsPerStep: c.sshCommandsPerStep,
      rejectedDecisions: c.rejectedDecisions,
    },
    users: r.users,
    note: 'latencies are wall-clock ms (not scaled); only the time axis runs timeScale times faster',
  };
}
