/**
 * The live inventory: which nodes exist, how to reach them over SSH (with host
 * keys that are verified, never ignored), where runc/CRIU keep their state on
 * each node, and which containers run where.
 *
 * `conmig testbed up` writes one for the local namespace testbed
 * (`<state>/inventory.yaml`); for ORBIT/COSMOS it is written by hand
 * (examples/inventory-orbit.yaml). `conmig migrate` reads it with
 * `loadInventory(file)`.
 *
 * All paths are absolute paths ON THE NODE (for the local testbed every node
 * shares the host's filesystem, so they are host paths too), except
 * `controller.*`, which are paths on the machine running conmig.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { z } from 'zod';
import { ConmigError, type Problem } from '../model/errors.ts';
import { yamlData } from '../scenario-io/parse.ts';
import { MAX_SCENARIO_BYTES, readLimitedText } from '../scenario-io/read-limited.ts';

const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_", "-"');
const absPath = z.string().startsWith('/', 'must be an absolute path');

/** How a node (as an SSH client) reaches the other nodes for checkpoint transfers. */
export const TransferSchema = z.strictObject({
  /** Private key on this node, authorised on every other node. */
  key: absPath,
  /** known_hosts on this node holding every node's host key. */
  knownHosts: absPath,
});

export const NodeSchema = z.strictObject({
  name,
  /** Address the controller and the other nodes SSH to; the workload is reached here too. */
  address: z.string().min(1),
  sshPort: z.number().int().min(1).max(65535).default(22),
  user: z.string().min(1).default('root'),
  /** Local testbed only: network namespace name (`/run/netns/<netns>`) the node lives in. */
  netns: name.optional(),
  /** Scratch and state directory on the node (checkpoints go under it). */
  workDir: absPath,
  /** `runc --root` on this node. */
  runcRoot: absPath,
  /** CRIU binary runc must use (`runc --criu <criuPath>`). */
  criuPath: absPath.default('/usr/local/bin/criu'),
  /** Container images present on this node: `<imagesDir>/<image>/rootfs` and `<imagesDir>/<image>/config.json`. */
  imagesDir: absPath,
  /** Bundles of containers on this node: `<bundlesDir>/<container>/config.json`. */
  bundlesDir: absPath,
  transfer: TransferSchema.optional(),
  /** Shaped bandwidth of the node's link (informational; the testbed enforces it with tc). */
  bandwidthMbps: z.number().positive().optional(),
  /**
   * The node's CPU capacity: its containers run under `cgroupParent` (runc
   * cgroupsPath `<cgroupParent>/<container>`, also after a migration to it), a
   * cgroup with a CPU bandwidth limit of `cores` (absent: unlimited).
   */
  cpu: z.strictObject({
    cgroupParent: absPath,
    cores: z.number().positive().optional(),
    periodUs: z.number().int().positive().optional(),
    cgroupVersion: z.union([z.literal(1), z.literal(2)]).optional(),
  }).optional(),
});

export const ContainerSchema = z.strictObject({
  name,
  /** Node the container runs on when the inventory was written. */
  node: name,
  /** Image name under the node's imagesDir (the same on every node). */
  image: name,
  /** TCP port the workload listens on (on 0.0.0.0 inside the node's network namespace). */
  port: z.number().int().min(1).max(65535),
});

export const RelaySchema = z.strictObject({
  /** Network namespace the relay (and the emulated users) live in. */
  netns: name,
  address: z.string().min(1),
  /** Unix socket (on the controller) to change delay/target at run time: see docs/testbed.md. */
  controlSocket: absPath,
  /** One listening port per node, forwarding to that node's `port`. */
  routes: z.array(
    z.strictObject({
      listenPort: z.number().int().min(1).max(65535),
      node: name,
      targetPort: z.number().int().min(1).max(65535),
      /** One-way added delay is delayMs / 2 per direction, so an RTT adds delayMs. */
      delayMs: z.number().min(0),
    }),
  ),
});

export const InventorySchema = z.strictObject({
  version: z.literal(1),
  /** `local` (namespaces on this machine, from `conmig testbed up`) or `orbit` (real nodes). */
  kind: z.enum(['local', 'orbit']),
  controller: z.strictObject({
    /** Private key the controller uses to SSH to every node. */
    sshKey: absPath,
    /** known_hosts holding every node's host key (StrictHostKeyChecking=yes). */
    knownHosts: absPath,
  }),
  nodes: z.array(NodeSchema).min(1),
  containers: z.array(ContainerSchema).default([]),
  relay: RelaySchema.optional(),
});

export type InventoryNode = z.infer<typeof NodeSchema>;
export type InventoryContainer = z.infer<typeof ContainerSchema>;
export type InventoryRelay = z.infer<typeof RelaySchema>;
export type Inventory = z.infer<typeof InventorySchema>;
/** What a writer supplies (defaults not yet applied). */
export type InventoryInput = z.input<typeof InventorySchema>;

function pathOf(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out ? '.' : ''}${String(p)}`;
  return out;
}

/** Validate parsed YAML/JSON; cross-checks names. Throws INVENTORY_INVALID with one problem per field. */
export function parseInventory(data: unknown, file?: string): Inventory {
  const r = InventorySchema.safeParse(data);
  if (!r.success) {
    const problems: Problem[] = r.error.issues.map((i) => ({ file, path: pathOf(i.path), message: i.message }));
    throw new ConmigError('INVENTORY_INVALID', `inventory ${file ?? '(inline)'} is invalid`, { problems });
  }
  const inv = r.data;
  const problems: Problem[] = [];
  const seen = new Map<string, number>();
  inv.nodes.forEach((n, i) => {
    if (seen.has(n.name)) problems.push({ file, path: `nodes[${i}].name`, message: `duplicate node name "${n.name}"` });
    seen.set(n.name, i);
  });
  const cseen = new Set<string>();
  inv.containers.forEach((c, i) => {
    if (cseen.has(c.name)) problems.push({ file, path: `containers[${i}].name`, message: `duplicate container "${c.name}"` });
    cseen.add(c.name);
    if (!seen.has(c.node)) problems.push({ file, path: `containers[${i}].node`, message: `unknown node "${c.node}"` });
  });
  inv.relay?.routes.forEach((rt, i) => {
    if (!seen.has(rt.node)) problems.push({ file, path: `relay.routes[${i}].node`, message: `unknown node "${rt.node}"` });
  });
  if (inv.kind === 'local') {
    inv.nodes.forEach((n, i) => {
      if (!n.netns) problems.push({ file, path: `nodes[${i}].netns`, message: 'required when kind is "local"' });
    });
  }
  if (problems.length > 0) throw new ConmigError('INVENTORY_INVALID', `inventory ${file ?? '(inline)'} is invalid`, { problems });
  return inv;
}

/** Read and validate an inventory file (YAML or JSON). */
export async function loadInventory(file: string): Promise<Inventory> {
  const text = readLimitedText(path.resolve(file), file, 'inventory', MAX_SCENARIO_BYTES, 'INVENTORY_INVALID');
  const yaml = yamlData(text, file);
  if (!yaml.ok) throw new ConmigError('INVENTORY_INVALID', `inventory ${file} is not valid YAML`, { context: { file }, problems: yaml.problems });
  const data = yaml.data;
  const inv = parseInventory(data, file);
  files.set(inv, file);
  return inv;
}

const files = new WeakMap<Inventory, string>();

/** The file an inventory was loaded from (loadInventory), for messages. */
export function inventoryFileOf(inv: Inventory): string | undefined {
  return files.get(inv);
}

/** Validate, then write as YAML (mode 0644: it holds paths, never key material). */
export async function writeInventory(file: string, inv: InventoryInput): Promise<Inventory> {
  const parsed = parseInventory(inv, file);
  const header = '# conmig inventory (written by `conmig testbed up`; format: src/live/inventory.ts)\n';
  await writeFile(file, header + stringify(parsed), { mode: 0o644 });
  return parsed;
}

/** Look a node up by name or throw NODE_UNKNOWN naming the known ones. */
export function nodeByName(inv: Inventory, nodeName: string): InventoryNode {
  const n = inv.nodes.find((x) => x.name === nodeName);
  if (!n) {
    throw new ConmigError('NODE_UNKNOWN', `no node "${nodeName}" in the inventory`, {
      context: { known: inv.nodes.map((x) => x.name).join(', ') },
    });
  }
  return n;
}
