/** Where a container runs now, by `runc state` on every reachable node. */
import { nodeByName, type Inventory } from '../inventory.ts';
import type { ExecPool } from '../exec/pool.ts';
import type { NodeFactory } from './node.ts';
import { migrationNode } from './agent-node.ts';

export interface ContainerWhereabouts {
  /** Nodes where it runs (sorted). */
  running: string[];
  /** Nodes that have it in any state. */
  present: Array<{ node: string; status: string }>;
  unreachable: string[];
}

export async function locateContainer(inv: Inventory, pool: ExecPool, id: string): Promise<ContainerWhereabouts> {
  return locateWith(inv, (name) => migrationNode(nodeByName(inv, name), pool.get(name)), id);
}

export async function locateWith(inv: Inventory, nodeOf: NodeFactory, id: string): Promise<ContainerWhereabouts> {
  const running: string[] = [];
  const present: Array<{ node: string; status: string }> = [];
  const unreachable: string[] = [];
  await Promise.all(
    inv.nodes.map(async (n) => {
      try {
        const s = await nodeOf(n.name).containerState(id);
        if (s) {
          present.push({ node: n.name, status: s.status });
          if (s.status === 'running') running.push(n.name);
        }
      } catch {
        unreachable.push(n.name);
      }
    }),
  );
  return { running: running.sort(), present, unreachable: unreachable.sort() };
}
