/**
 * Pre-flight of a live run, before anything is touched: every scenario node
 * maps to an inventory node (same name); each is reachable over SSH with a
 * verified host key; runc and the inventory's CRIU are present; the
 * scenario's migration mode works on every node (criu-probe); every scenario
 * container runs on exactly one node and the inventory says its port; a
 * CPU-limited node's scenario capacity (cpuCores x speedFactor) is its limit. All
 * problems are collected and refused in ONE ConmigError (its code is the
 * first problem's; `problems` lists every one).
 */
import { ConmigError, type ErrorCode, type Problem } from '../../model/errors.ts';
import type { Scenario } from '../../model/types.ts';
import { modeRefusal, probeCriu, type CriuProbe } from '../criu-probe.ts';
import type { ExecPool } from '../exec/pool.ts';
import { shq } from '../exec/types.ts';
import type { Inventory, InventoryContainer, InventoryNode } from '../inventory.ts';
import { cpuDisagreement, cpuPeriodDisagreement } from '../testbed/cgroup.ts';

export interface NodeFacts {
  kernel: string;
  runc: string;
  criu: string;
}

export interface PreflightResult {
  /** Scenario node id -> inventory node (same order as the scenario's nodes). */
  nodes: InventoryNode[];
  facts: Record<string, NodeFacts>;
  probes: Map<string, CriuProbe>;
  /** Per scenario container: its inventory entry and the scenario node it runs on now. */
  containers: Array<{ name: string; inventory: InventoryContainer; runningOn: string }>;
}

interface Found {
  code: ErrorCode;
  problem: Problem;
}

const MARK = '@@conmig-pf@@';

export async function preflight(scenario: Scenario, inv: Inventory, inventoryFile: string, pool: ExecPool): Promise<PreflightResult> {
  const found: Found[] = [];
  const add = (code: ErrorCode, path: string, message: string): void => {
    found.push({ code, problem: { file: inventoryFile, path, message } });
  };
  const byName = new Map(inv.nodes.map((n) => [n.name, n]));
  const nodes: InventoryNode[] = [];
  scenario.topology.nodes.forEach((sn, i) => {
    const n = byName.get(sn.id);
    if (!n) {
      add('NODE_UNKNOWN', `topology.nodes[${i}]`, `scenario node "${sn.id}" is not in the inventory (it has ${inv.nodes.map((x) => x.name).join(', ')})`);
    } else {
      nodes.push(n);
      // a CPU-limited testbed node and its scenario node must mean the same computer
      const why = n.cpu?.cores === undefined ? null : cpuDisagreement(sn.id, sn.cpuCores, sn.speedFactor, n.cpu.cores);
      if (why) add('SCENARIO_INVALID', `topology.nodes[${i}]`, why);
      const period = n.cpu?.cores === undefined ? null : cpuPeriodDisagreement(sn.id, sn.cpuPeriodMs, n.cpu.periodUs);
      if (period) add('SCENARIO_INVALID', `topology.nodes[${i}].cpuPeriodMs`, period);
    }
  });

  const facts: Record<string, NodeFacts> = {};
  const probes = new Map<string, CriuProbe>();
  const listing = new Map<string, Set<string>>();
  await Promise.all(
    nodes.map(async (n) => {
      const exec = pool.get(n.name);
      const script = [
        `uname -r; echo "${MARK} kernel"`,
        `runc --version 2>/dev/null | head -1; echo "${MARK} runc $(command -v runc >/dev/null 2>&1; echo $?)"`,
        `test -x ${shq(n.criuPath)}; echo "${MARK} criu $?"`,
        `runc --root ${shq(n.runcRoot)} list 2>/dev/null | awk 'NR>1 && $3=="running" {print $1}'; echo "${MARK} list"`,
      ].join('\n');
      let out: string;
      try {
        out = (await exec.run(script, { timeoutMs: 20_000 })).stdout;
      } catch (e) {
        if (e instanceof ConmigError && (e.code === 'HOSTKEY_MISMATCH' || e.code === 'NODE_UNREACHABLE')) {
          add(e.code, `nodes.${n.name}`, e.message);
          return;
        }
        add('NODE_UNREACHABLE', `nodes.${n.name}`, `cannot reach ${n.name}: ${(e as Error).message}`);
        return;
      }
      const sections = new Map<string, { status: string; text: string }>();
      let buf: string[] = [];
      for (const line of out.split('\n')) {
        const m = line.match(new RegExp(`^${MARK} (\\w+)(?: (\\d+))?$`));
        if (m) {
          sections.set(m[1], { status: m[2] ?? '0', text: buf.join('\n').trim() });
          buf = [];
        } else buf.push(line);
      }
      const runcOk = sections.get('runc')?.status === '0';
      const criuOk = sections.get('criu')?.status === '0';
      facts[n.name] = { kernel: sections.get('kernel')?.text ?? '', runc: sections.get('runc')?.text ?? '', criu: '' };
      listing.set(n.name, new Set((sections.get('list')?.text ?? '').split('\n').filter((x) => x !== '')));
      if (!runcOk) add('SETUP_MISSING', `nodes.${n.name}`, `runc is not installed on ${n.name} (run scripts/setup-live.sh there)`);
      if (!criuOk) {
        add('SETUP_MISSING', `nodes.${n.name}.criuPath`, `CRIU is missing on ${n.name}: ${n.criuPath} is not an executable (run scripts/setup-live.sh there)`);
        return;
      }
      const p = await probeCriu(exec, n.criuPath);
      probes.set(n.name, p);
      facts[n.name].criu = p.criuVersion;
      const why = modeRefusal(scenario.migration.mode, p);
      if (why) add('MODE_UNSUPPORTED', `migration.mode`, `${scenario.migration.mode}: ${why}`);
    }),
  );

  const containers: PreflightResult['containers'] = [];
  const reached = nodes.filter((n) => listing.has(n.name));
  scenario.containers.forEach((c, i) => {
    const name = scenario.live?.containerNames[c.id] ?? c.id;
    const entry = inv.containers.find((x) => x.name === name);
    if (!entry) {
      add('INVENTORY_INVALID', `containers`, `the inventory lists no container "${name}" (scenario container ${c.id}): its port is unknown`);
      return;
    }
    if (reached.length < nodes.length) return; // where it runs cannot be checked; the unreachable node is reported
    const on = reached.filter((n) => listing.get(n.name)?.has(name)).map((n) => n.name);
    if (on.length === 0) {
      add('CONTAINER_UNKNOWN', `containers[${i}]`, `container "${name}" runs on no scenario node (checked ${reached.map((n) => n.name).join(', ')}); start it on ${c.node} first (conmig testbed up starts plate on node1)`);
    } else if (on.length > 1) {
      add('CONTAINER_UNKNOWN', `containers[${i}]`, `container "${name}" runs on several nodes (${on.join(', ')}); remove the extra copies first`);
    } else containers.push({ name, inventory: entry, runningOn: on[0] });
  });

  if (found.length > 0) {
    const lines = found.map((f) => `  - [${f.code}] ${f.problem.message}`);
    throw new ConmigError(found[0].code, `live pre-flight refused (${found.length} problem${found.length > 1 ? 's' : ''}; nothing was changed):\n${lines.join('\n')}`, {
      context: { inventory: inventoryFile, codes: [...new Set(found.map((f) => f.code))].join(', ') },
      problems: found.map((f) => f.problem),
    });
  }
  return { nodes, facts, probes, containers };
}
