/**
 * What live mode costs (`node --import tsx bench/live.ts [--quick] [--inventory FILE]`):
 *
 *  1. control-loop overhead per decision: wall ms from the view refresh to the
 *     decisions (LiveBackend.step + controlStep), with the CPU read from the
 *     streaming node monitors (the default) and with one SSH command per node per step;
 *  2. probe overhead: SSH commands per control step and their wall ms;
 *  3. how many emulated users one controller process drives before its
 *     measurements distort latency: users at a fixed rate each, doubled until
 *     the median measured RTT of GET /health drifts more than 10% above the
 *     emulated value (model + measured base RTT), or the event-loop lag p99
 *     exceeds 5 ms.
 *
 * Needs root and the testbed tools: brings up its own 3-node local testbed
 * (state /tmp/conmig-bench-live) unless --inventory names a running one.
 * Prints a markdown table.
 */
import { performance } from 'node:perf_hooks';
import { stringify } from 'yaml';
import { controlStep } from '../src/model/control.ts';
import { createBuiltinPolicy } from '../src/model/policies/index.ts';
import type { RequestRecord } from '../src/model/results.ts';
import type { Scenario } from '../src/model/types.ts';
import { parseScenarioText } from '../src/scenario-io/load.ts';
import { SshExecPool } from '../src/live/exec/pool.ts';
import { loadInventory } from '../src/live/inventory.ts';
import { RelayAccess, InClientAccess } from '../src/live/backend/access.ts';
import { LiveBackend } from '../src/live/backend/backend.ts';
import { measureBaseRtt } from '../src/live/backend/base-rtt.ts';
import { createScenarioClock, sleepWallMs } from '../src/live/backend/clock.ts';
import { UserMotion } from '../src/live/backend/motion.ts';
import { preflight } from '../src/live/backend/preflight.ts';
import { runPolicyLive } from '../src/live/backend/run.ts';
import { cleanTestbed, testbedUp } from '../src/live/testbed/index.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const invArg = args.indexOf('--inventory') >= 0 ? args[args.indexOf('--inventory') + 1] : undefined;
const STATE = '/tmp/conmig-bench-live';
const EMULATED_MS = 20;
const RATE_PER_USER = 5;

function scenarioFor(users: number, durationS: number, inventory: string): Scenario {
  const doc = {
    name: 'bench-live',
    mode: 'live',
    durationS,
    controlIntervalS: 1,
    metricsWindowS: 5,
    reportIntervalS: durationS,
    qosThresholdMs: 100,
    // every user sits at x = 0: RTT to node1 = EMULATED_MS
    latency: { kind: 'linear', edgeConstantsMs: { node1: EMULATED_MS, node2: 60, node3: 110 }, msPerM: 1 },
    topology: {
      areaM: { width: 120, height: 10 },
      nodes: [1, 2, 3].map((i) => ({ id: `node${i}`, x: [10, 60, 110][i - 1], y: 0, cpuCores: 2, memoryMiB: 4096 })),
      links: [
        { a: 'node1', b: 'node2', latencyMs: 1, bandwidthMbps: 1000 },
        { a: 'node2', b: 'node3', latencyMs: 1, bandwidthMbps: 1000 },
      ],
    },
    users: Array.from({ length: users }, (_, i) => ({
      id: `u${i + 1}`,
      start: { x: 0, y: 0 },
      mobility: { kind: 'static' },
      requests: { ratePerS: RATE_PER_USER, requestKiB: 0, responseKiB: 0, timeoutMs: 5000 },
    })),
    containers: [{ id: 'plate', node: 'node1', users: Array.from({ length: users }, (_, i) => `u${i + 1}`), memoryMiB: 124, imageMiB: 83, dirtyRateMiBps: 1, serviceTime: { kind: 'deterministic', valueMs: 1 } }],
    migration: { mode: 'cold' },
    policies: ['never'],
    output: { requestTrace: false, perUserSeries: false },
    live: { inventory, timeScale: 1 },
  };
  return parseScenarioText(stringify(doc), '/tmp/bench-live.yaml');
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? Number.NaN : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
const f = (x: number, d = 2): string => (Number.isFinite(x) ? x.toFixed(d) : '-');

async function main(): Promise<void> {
  let inventoryFile = invArg;
  if (!inventoryFile) {
    await cleanTestbed(STATE).catch(() => undefined);
    inventoryFile = (await testbedUp({ stateDir: STATE, nodes: 3 })).inventoryFile;
  }
  const inv = await loadInventory(inventoryFile);
  const pool = new SshExecPool(inv);
  const lines: string[] = [];
  try {
    // ---------------------------------------------------------------- 1 + 2: control loop and probes
    const scen = scenarioFor(1, 3600, inventoryFile);
    const pre = await preflight(scen, inv, inventoryFile, pool);
    const steps = quick ? 10 : 40;
    lines.push('## live mode: control loop and probes', '', `${steps} control steps, 3 nodes, 1 user, policy threshold (no migration: the container is on the nearest node)`, '');
    lines.push('| CPU probe | SSH commands per step | probe wall ms (median) | step: refresh -> decisions, wall ms (median) | p95 | decide + validate ms (median) |', '| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const mode of ['stream', 'per-step'] as const) {
      const clock = createScenarioClock(1);
      const backend = new LiveBackend({
        scenario: scen, motion: new UserMotion(scen, 1), inventory: inv, nodes: pre.nodes, containerNames: ['plate'], ports: [8080],
        pool, clock, signal: new AbortController().signal, probeCache: new Map(pre.probes),
      });
      await backend.sampleCpu();
      if (mode === 'stream') backend.startMonitors(250);
      const policy = createBuiltinPolicy({ name: 'threshold', params: {} });
      const stepMs: number[] = [];
      const probeMs: number[] = [];
      const decideMs: number[] = [];
      let ssh = 0;
      for (let k = 0; k < steps; k++) {
        await sleepWallMs(250);
        const t0 = performance.now();
        const t = await backend.step();
        const t1 = performance.now();
        controlStep(policy, backend);
        const t2 = performance.now();
        stepMs.push(t2 - t0);
        probeMs.push(t.probeWallMs);
        decideMs.push(t2 - t1);
        ssh = t.sshCommands;
      }
      backend.stopMonitors();
      const p95 = [...stepMs].sort((a, b) => a - b)[Math.ceil(0.95 * stepMs.length) - 1];
      lines.push(`| ${mode === 'stream' ? 'streaming monitor (default)' : 'one SSH command per node per step'} | ${ssh} | ${f(median(probeMs))} | ${f(median(stepMs))} | ${f(p95)} | ${f(median(decideMs), 3)} |`);
    }

    // ---------------------------------------------------------------- 3: users one process drives
    const base = await measureBaseRtt(pre.nodes, inv.relay, { node: pre.nodes[0], port: 8080, healthPath: '/health' });
    const expected = EMULATED_MS + base.baseRttMs[0];
    const durationS = quick ? 6 : 15;
    const counts = quick ? [1, 4, 16] : [1, 2, 4, 8, 16, 32, 64, 128];
    lines.push('', `## live mode: emulated users per controller process`, '');
    lines.push(`Each user: ${RATE_PER_USER} GET /health per s, emulated RTT ${EMULATED_MS} ms + measured base ${f(base.baseRttMs[0])} ms = ${f(expected)} ms expected; ${durationS} s per step; access: ${inv.relay ? 'relay (a route per user)' : 'in-client delay'}. Limit: median measured RTT > +10% or event-loop lag p99 > 5 ms.`, '');
    lines.push('| users | requests/s | served | failed | median RTT ms | drift % | p95 RTT ms | event-loop lag p99 ms | within limits |', '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
    for (const users of counts) {
      const s = scenarioFor(users, durationS, inventoryFile);
      const rows: RequestRecord[] = [];
      const access = inv.relay ? new RelayAccess(inv.relay) : new InClientAccess();
      const r = await runPolicyLive({
        scenario: s, policy: createBuiltinPolicy({ name: 'never', params: {} }), seed: 1, inventory: inv, nodes: pre.nodes,
        containerNames: ['plate'], ports: [8080], pool, access, baseRttMs: pre.nodes.map(() => base.baseRttMs[0]),
        probeCache: new Map(pre.probes), signal: new AbortController().signal, path: '/health', requestSink: (x) => rows.push(x),
      });
      await access.close();
      const served = rows.filter((x) => x.status === 'served').map((x) => x.responseMs);
      const med = median(served);
      const drift = ((med - expected) / expected) * 100;
      const lag = r.users.eventLoopLagP99Ms;
      const ok = drift <= 10 && lag <= 5;
      const p95 = [...served].sort((a, b) => a - b)[Math.max(0, Math.ceil(0.95 * served.length) - 1)];
      lines.push(`| ${users} | ${users * RATE_PER_USER} | ${served.length} | ${rows.length - served.length} | ${f(med)} | ${f(drift, 1)} | ${f(p95)} | ${f(lag)} | ${ok ? 'yes' : 'NO'} |`);
      process.stderr.write(`${users} users: median ${f(med)} ms, lag p99 ${f(lag)} ms\n`);
      if (!ok) break;
    }
  } finally {
    await pool.closeAll();
    if (!invArg) await cleanTestbed(STATE).catch(() => undefined);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

await main();
