/**
 * Node CPU for the live view: every container's CPU counters (runc's cgroup
 * stats) on each node, read over SSH either once per control step or from
 * one long-running command per node that prints them every few hundred ms.
 * The CPU used since the previous sample is filed as busy time (scenario-
 * scaled, so utilisation = busy / (cores * window) in one clock).
 */
import { ConmigError } from '../../model/errors.ts';
import type { ExecPool } from '../exec/pool.ts';
import { shq, type RunningCommand } from '../exec/types.ts';
import type { InventoryNode } from '../inventory.ts';
import type { ScenarioClock } from './clock.ts';

/** Busy CPU of node n: `busyScenUs` over [fromScenUs, toScenUs]. */
export type BusySink = (n: number, fromScenUs: number, toScenUs: number, busyScenUs: number) => void;

export class NodeCpu {
  private readonly cpuLastNs: Map<string, number>[];
  private lastCpuScenUs = 0;
  private readonly monitors: RunningCommand[] = [];
  private readonly latest: (Map<string, number> | null)[];
  private stoppingMonitors = false;
  private lostNode: string | null = null;

  constructor(
    private readonly nodes: readonly InventoryNode[],
    private readonly pool: ExecPool,
    private readonly clock: ScenarioClock,
    private readonly onBusy: BusySink,
  ) {
    this.cpuLastNs = nodes.map(() => new Map());
    this.latest = nodes.map(() => null);
  }

  /** Whether the per-node monitors run (steps then read their latest sample, no SSH round trip). */
  get streaming(): boolean {
    return this.monitors.length > 0;
  }

  /** Shell loop printing every container's CPU counters (runc's cgroup stats) and a tick mark. */
  private script(n: InventoryNode, everyWallMs: number | null): string {
    const r = shq(n.runcRoot);
    const once = `for id in $(runc --root ${r} list -q 2>/dev/null); do printf '%s\\t' "$id"; runc --root ${r} events --stats "$id" 2>/dev/null | tr -d '\\n'; echo; done; echo "${TICK}"`;
    if (everyWallMs === null) return once;
    return `while :; do ${once}; sleep ${(everyWallMs / 1000).toFixed(3)}; done`;
  }

  /** One sample of every node's container CPU counters (one SSH command per node, in parallel). */
  async sample(): Promise<void> {
    const outs = await Promise.all(this.nodes.map((n) => this.pool.get(n.name).run(this.script(n, null), { timeoutMs: 15_000 })));
    outs.forEach((out, n) => {
      const batch = parseCpuLines(out.stdout.split('\n'));
      if (batch) this.fileCpu(n, batch);
    });
    this.lastCpuScenUs = this.clock.nowScenUs();
  }

  /**
   * Keep one long-running command per node that prints the CPU counters
   * every `everyWallMs`; steps then read the latest sample without an SSH
   * round trip. A monitor whose connection ends marks its node lost.
   */
  start(everyWallMs: number): void {
    this.nodes.forEach((n, i) => {
      let buf = '';
      let lines: string[] = [];
      const cmd = this.pool.get(n.name).stream(this.script(n, everyWallMs), {
        onStdout: (chunk) => {
          buf += chunk.toString('utf8');
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            if (line === TICK) {
              this.latest[i] = parseCpuLines(lines);
              lines = [];
            } else lines.push(line);
          }
        },
      });
      cmd.done.then(
        () => {
          if (!this.stoppingMonitors) this.lostNode = n.name;
        },
        () => {
          if (!this.stoppingMonitors) this.lostNode = n.name;
        },
      );
      this.monitors.push(cmd);
    });
  }

  stop(): void {
    this.stoppingMonitors = true;
    for (const m of this.monitors) m.kill();
    this.monitors.length = 0;
  }

  /** File the latest streamed samples; throws NODE_UNREACHABLE when a node's monitor ended. */
  fileLatest(): void {
    if (this.lostNode) {
      throw new ConmigError('NODE_UNREACHABLE', `lost node ${this.lostNode}: its CPU monitor (an SSH command) ended`, { context: { node: this.lostNode } });
    }
    this.latest.forEach((batch, n) => {
      if (batch) this.fileCpu(n, batch);
      this.latest[n] = null;
    });
    this.lastCpuScenUs = this.clock.nowScenUs();
  }

  /** File the CPU used since the previous sample of node n as busy time over [last sample, now]. */
  private fileCpu(n: number, seen: Map<string, number>): void {
    const last = this.cpuLastNs[n];
    let busyNs = 0;
    for (const [id, ns] of seen) {
      const prev = last.get(id);
      if (prev !== undefined && ns >= prev) busyNs += ns - prev;
    }
    this.cpuLastNs[n] = seen;
    const fromScenUs = this.lastCpuScenUs;
    const toScenUs = this.clock.nowScenUs();
    // CPU µs of wall time are scenario-scaled so that utilisation = busy / (cores * window) in one clock.
    const busyScenUs = (busyNs / 1000) * this.clock.timeScale;
    if (busyScenUs > 0) this.onBusy(n, fromScenUs, toScenUs, busyScenUs);
  }
}

const TICK = '@@conmig-cpu-tick@@';

/** container id -> CPU ns from `id<TAB>json` lines (null if no line parsed and none was expected). */
function parseCpuLines(lines: readonly string[]): Map<string, number> {
  const seen = new Map<string, number>();
  for (const line of lines) {
    const tab = line.indexOf('\t');
    if (tab <= 0) continue;
    const ns = cpuTotalNs(line.slice(tab + 1));
    if (ns !== null) seen.set(line.slice(0, tab), ns);
  }
  return seen;
}

/** usage.total (ns) from one `runc events --stats` JSON line, or null. */
export function cpuTotalNs(json: string): number | null {
  try {
    const j = JSON.parse(json) as { data?: { cpu?: { usage?: { total?: unknown } } } };
    const t = j.data?.cpu?.usage?.total;
    return typeof t === 'number' && Number.isFinite(t) ? t : null;
  } catch {
    return null;
  }
}
