/**
 * One SSH connection per inventory node for the duration of a command.
 */
import type { Inventory } from '../inventory.ts';
import { inventoryFileOf, nodeByName } from '../inventory.ts';
import { SshNodeExec } from './ssh.ts';
import type { NodeExec } from './types.ts';

export interface ExecPool {
  get(node: string): NodeExec;
  closeAll(): Promise<void>;
}

export class SshExecPool implements ExecPool {
  private readonly inv: Inventory;
  private readonly conns = new Map<string, SshNodeExec>();
  private readonly connectTimeoutMs: number;

  constructor(inv: Inventory, opts: { connectTimeoutMs?: number } = {}) {
    this.inv = inv;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 8000;
  }

  /** The node's exec (NODE_UNKNOWN if the inventory has no such node); connects lazily. */
  get(node: string): SshNodeExec {
    let c = this.conns.get(node);
    if (!c) {
      const n = nodeByName(this.inv, node);
      c = new SshNodeExec({
        node: n.name,
        host: n.address,
        port: n.sshPort,
        user: n.user,
        keyFile: this.inv.controller.sshKey,
        keySource: `inventory ${inventoryFileOf(this.inv) ?? '(inline)'}, controller.sshKey`,
        knownHostsFile: this.inv.controller.knownHosts,
        connectTimeoutMs: this.connectTimeoutMs,
      });
      this.conns.set(node, c);
    }
    return c;
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.conns.values()].map((c) => c.close()));
    this.conns.clear();
  }
}
