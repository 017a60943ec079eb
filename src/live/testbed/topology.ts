/**
 * Testbed topology: pure data (a description), expanded by `planTopology` into
 * the shaping each node gets. `conmig testbed up --config FILE` reads it; without
 * a file, `--nodes N --bandwidth-mbps B` means a star of N nodes at B each.
 *
 *   shape: star            # star: every node on one switch; line: node1 - node2 - ... in list order
 *   latencyMs: 0           # access RTT added by the user-space relay (users -> node)
 *   cpuPerNode: 0.5        # CPU cores of every node (cgroup CPU bandwidth; absent: unlimited)
 *   cpuPeriodUs: 10000     # CFS period of those limits
 *   limitNodeServices: false  # true: the node's sshd (migration commands) within its limit too
 *   nodes:
 *     - name: node1
 *       bandwidthMbps: 1000   # star: the node's link; line: unused (see links)
 *       cpus: 1               # this node's CPU cores (overrides cpuPerNode)
 *     - name: node2
 *   links:                 # line only: one entry per hop between neighbours in list order
 *     - { from: node1, to: node2, bandwidthMbps: 500 }
 *   containers:            # workload containers `up` starts (without: plate on the first node)
 *     - { name: s1, node: node1, image: synthetic, port: 8101, memoryMiB: 16, service: "exp:20", seed: 1 }
 *     - { name: plate, node: node2, image: plate }            # port 8080
 *
 * Shaping (kernel, tc): on a star, each node's link is shaped to its bandwidth on
 * both sides of its veth (egress in the node, egress of the bridge port), so a
 * transfer node_i -> node_j gets min(B_i, B_j). On a line, traffic from node i to
 * node j is shaped to the narrowest hop between them (htb class per destination):
 * the bottleneck is emulated, hop-by-hop contention is not.
 */
import path from 'node:path';
import { z } from 'zod';
import { ConmigError, type Problem } from '../../model/errors.ts';
import { yamlData } from '../../scenario-io/parse.ts';
import { MAX_SCENARIO_BYTES, readLimitedText } from '../../scenario-io/read-limited.ts';
import { DEFAULT_CPU_PERIOD_US } from './cgroup.ts';
import { MAX_NODES } from './layout.ts';

const nodeName = z.string().regex(/^[a-z][a-z0-9]{0,11}$/, 'lowercase letters and digits, at most 12, starting with a letter');

export const TopologySchema = z.strictObject({
  shape: z.enum(['star', 'line']).default('star'),
  latencyMs: z.number().min(0).max(10_000).default(0),
  defaultBandwidthMbps: z.number().positive().max(100_000).default(1000),
  /** CPU cores every node may use (a cgroup CPU bandwidth limit per node); absent: unlimited. */
  cpuPerNode: z.number().min(0.01).max(1024).optional(),
  /** CFS period of the limits (µs): short, so a job of tens of ms already runs at the limited speed. */
  cpuPeriodUs: z.number().int().min(1000).max(1_000_000).default(DEFAULT_CPU_PERIOD_US),
  /**
   * Run each node's sshd (and so the migration's runc/CRIU/tar on that node) within the node's
   * CPU limit too. Default false: the limit is the capacity that serves requests; see docs/testbed.md.
   */
  limitNodeServices: z.boolean().default(false),
  nodes: z
    .array(z.strictObject({ name: nodeName, bandwidthMbps: z.number().positive().max(100_000).optional(),
      cpus: z.number().min(0.01).max(1024).optional() }))
    .min(1)
    .max(MAX_NODES),
  links: z
    .array(z.strictObject({ from: nodeName, to: nodeName, bandwidthMbps: z.number().positive().max(100_000) }))
    .default([]),
  containers: z
    .array(z.strictObject({
      name: z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, 'lowercase letters, digits and "-", starting with a letter'),
      node: nodeName,
      image: z.enum(['plate', 'synthetic']),
      /** Port the service listens on in whatever node it runs (unique: containers may meet on a node). */
      port: z.number().int().min(1024).max(65535).optional(),
      /** synthetic: memory it holds (MiB). */
      memoryMiB: z.number().int().min(1).max(1024).optional(),
      /** synthetic: service-time distribution of GET /work (ms of CPU): fixed:V, exp:MEAN, lognormal:MEAN:SD, uniform:A:B. */
      service: z.string().regex(/^(fixed|exp):[0-9.]+$|^(lognormal|uniform):[0-9.]+:[0-9.]+$/, 'fixed:V, exp:MEAN, lognormal:MEAN:SD or uniform:A:B').optional(),
      /** synthetic: seed of its service-time stream. */
      seed: z.number().int().min(0).optional(),
    }))
    .optional(),
});

export interface ContainerPlan {
  name: string;
  node: string;
  image: 'plate' | 'synthetic';
  port: number;
  /** The container's command line. */
  args: string[];
}
export type Topology = z.infer<typeof TopologySchema>;

export interface NodePlan {
  name: string;
  /** 1-based position: decides address, veth and relay port. */
  index: number;
  /** Rate of the node's own link (default class in the node, bridge-port egress). */
  linkMbps: number;
  /** Destinations shaped below linkMbps (line topologies): node name -> Mbps. */
  perDestinationMbps: Record<string, number>;
  /** CPU cores the node may use (cgroup CPU bandwidth); absent: unlimited. */
  cpus?: number;
}

export interface TopologyPlan {
  shape: 'star' | 'line';
  latencyMs: number;
  /** CFS period of the nodes' CPU limits (µs). */
  cpuPeriodUs: number;
  /** The nodes' sshd run within their CPU limits. */
  limitNodeServices: boolean;
  nodes: NodePlan[];
  /** Workload containers from the file (absent: the default, plate on the first node unless --no-workload). */
  containers?: ContainerPlan[];
}

export function starTopology(nodes: number, bandwidthMbps: number, latencyMs: number, cpuPerNode?: number): Topology {
  return {
    shape: 'star',
    latencyMs,
    defaultBandwidthMbps: bandwidthMbps,
    ...(cpuPerNode === undefined ? {} : { cpuPerNode }),
    cpuPeriodUs: DEFAULT_CPU_PERIOD_US,
    limitNodeServices: false,
    nodes: Array.from({ length: nodes }, (_, i) => ({ name: `node${i + 1}`, bandwidthMbps })),
    links: [],
  };
}

function invalid(file: string | undefined, problems: Problem[]): ConmigError {
  return new ConmigError('USAGE', `testbed topology ${file ?? '(inline)'} is invalid`, { problems });
}

export function planTopology(t: Omit<Topology, 'cpuPeriodUs' | 'limitNodeServices'> & { cpuPeriodUs?: number; limitNodeServices?: boolean }, file?: string): TopologyPlan {
  const problems: Problem[] = [];
  const idx = new Map<string, number>();
  t.nodes.forEach((n, i) => {
    if (idx.has(n.name)) problems.push({ file, path: `nodes[${i}].name`, message: `duplicate node "${n.name}"` });
    idx.set(n.name, i);
  });
  const hop: number[] = [];
  if (t.shape === 'line') {
    t.links.forEach((l, k) => {
      const a = idx.get(l.from);
      const b = idx.get(l.to);
      if (a === undefined) problems.push({ file, path: `links[${k}].from`, message: `unknown node "${l.from}"` });
      if (b === undefined) problems.push({ file, path: `links[${k}].to`, message: `unknown node "${l.to}"` });
      if (a !== undefined && b !== undefined) {
        if (Math.abs(a - b) !== 1) problems.push({ file, path: `links[${k}]`, message: 'a line links neighbours in node order' });
        else hop[Math.min(a, b)] = l.bandwidthMbps;
      }
    });
  } else if (t.links.length > 0) {
    problems.push({ file, path: 'links', message: 'links are for shape "line"; on a star set nodes[].bandwidthMbps' });
  }
  const containers = planContainers(t.containers, idx, file, problems);
  if (problems.length > 0) throw invalid(file, problems);
  const hopMbps = (i: number): number => hop[i] ?? t.defaultBandwidthMbps;
  const cpuOf = (n: Topology['nodes'][number]): { cpus?: number } => {
    const cpus = n.cpus ?? t.cpuPerNode;
    return cpus === undefined ? {} : { cpus };
  };
  const nodes: NodePlan[] = t.nodes.map((n, i) => {
    if (t.shape === 'star') {
      return { name: n.name, index: i + 1, linkMbps: n.bandwidthMbps ?? t.defaultBandwidthMbps, perDestinationMbps: {}, ...cpuOf(n) };
    }
    const adjacent = [i > 0 ? hopMbps(i - 1) : 0, i < t.nodes.length - 1 ? hopMbps(i) : 0];
    const linkMbps = Math.max(...adjacent) || t.defaultBandwidthMbps;
    const perDestinationMbps: Record<string, number> = {};
    t.nodes.forEach((m, j) => {
      if (j === i) return;
      let b = Infinity;
      for (let k = Math.min(i, j); k < Math.max(i, j); k++) b = Math.min(b, hopMbps(k));
      if (b < linkMbps) perDestinationMbps[m.name] = b;
    });
    return { name: n.name, index: i + 1, linkMbps, perDestinationMbps, ...cpuOf(n) };
  });
  return { shape: t.shape, latencyMs: t.latencyMs, cpuPeriodUs: t.cpuPeriodUs ?? DEFAULT_CPU_PERIOD_US,
    limitNodeServices: t.limitNodeServices ?? false, nodes, ...(containers ? { containers } : {}) };
}

const DEFAULT_PORTS = { plate: 8080, synthetic: 8081 } as const;

function planContainers(list: Topology['containers'], nodes: Map<string, number>, file: string | undefined, problems: Problem[]): ContainerPlan[] | undefined {
  if (list === undefined) return undefined;
  const names = new Set<string>();
  const ports = new Map<number, string>();
  return list.map((c, k) => {
    const at = `containers[${k}]`;
    if (names.has(c.name)) problems.push({ file, path: `${at}.name`, message: `duplicate container "${c.name}"` });
    names.add(c.name);
    if (!nodes.has(c.node)) problems.push({ file, path: `${at}.node`, message: `unknown node "${c.node}"` });
    const port = c.port ?? DEFAULT_PORTS[c.image];
    const other = ports.get(port);
    if (other !== undefined) {
      problems.push({ file, path: `${at}.port`, message: `port ${port} is also ${other}'s: containers may meet on one node, so each needs its own port` });
    }
    ports.set(port, c.name);
    if (c.image === 'plate' && (c.memoryMiB !== undefined || c.service !== undefined || c.seed !== undefined)) {
      problems.push({ file, path: at, message: 'memoryMiB, service and seed are for image synthetic' });
    }
    const args = c.image === 'plate'
      ? ['/bin/plate-server', String(port), '/plates', '/usr/bin/tesseract']
      : ['/bin/synthetic', String(port), String(c.memoryMiB ?? 16), '0', c.service ?? 'fixed:20', ...(c.seed === undefined ? [] : [String(c.seed)])];
    return { name: c.name, node: c.node, image: c.image, port, args };
  });
}

export async function loadTopology(file: string): Promise<Topology> {
  const yaml = yamlData(readLimitedText(path.resolve(file), file, 'testbed topology', MAX_SCENARIO_BYTES, 'USAGE'), file);
  if (!yaml.ok) throw new ConmigError('USAGE', `testbed topology ${file} is not valid YAML`, { context: { file }, problems: yaml.problems });
  const data = yaml.data;
  const r = TopologySchema.safeParse(data);
  if (!r.success) {
    throw invalid(
      file,
      r.error.issues.map((i) => ({ file, path: i.path.map(String).join('.'), message: i.message })),
    );
  }
  return r.data;
}
