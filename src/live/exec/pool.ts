/**
 * One SSH connection per inventory node for the duration of a command, and on it the node
 * agent (agent.ts) that runs the node's commands, unless the agent is off (`--no-agent`,
 * CONMIG_AGENT=off): then one SSH command per step.
 */
import { ConmigError } from '../../model/errors.ts';
import type { Inventory } from '../inventory.ts';
import { inventoryFileOf, nodeByName } from '../inventory.ts';
import { AgentExec, type AgentMode } from './agent.ts';
import { SshNodeExec } from './ssh.ts';
import type { NodeExec } from './types.ts';

export interface ExecPool {
  get(node: string): NodeExec;
  closeAll(): Promise<void>;
}

/** The node agent: `auto` (default: where it starts), `require` (or an error), `off` (one SSH command per step). */
export type AgentSetting = AgentMode | 'off';

/** CONMIG_AGENT=off|auto|require (default auto); anything else is a USAGE error. */
export function agentSettingFromEnv(env: NodeJS.ProcessEnv = process.env): AgentSetting {
  const v = env.CONMIG_AGENT;
  if (v === undefined || v === '') return 'auto';
  if (v === 'off' || v === 'auto' || v === 'require') return v;
  throw new ConmigError('USAGE', `CONMIG_AGENT=${v}: expected off, auto or require`);
}

/** A node's exec from the pool: connects on first use, or now with ensureConnected. */
export type PoolExec = NodeExec & { ensureConnected(): Promise<void> };

export class SshExecPool implements ExecPool {
  private readonly inv: Inventory;
  private readonly conns = new Map<string, PoolExec>();
  private readonly connectTimeoutMs: number;
  readonly agent: AgentSetting;
  private readonly onNote: (text: string) => void;

  constructor(inv: Inventory, opts: { connectTimeoutMs?: number; agent?: AgentSetting; onNote?: (text: string) => void } = {}) {
    this.inv = inv;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 8000;
    this.agent = opts.agent ?? agentSettingFromEnv();
    this.onNote = opts.onNote ?? ((t) => process.stderr.write(`conmig: ${t}\n`));
  }

  /** The node's exec (NODE_UNKNOWN if the inventory has no such node); connects lazily. */
  get(node: string): PoolExec {
    let c = this.conns.get(node);
    if (!c) {
      const n = nodeByName(this.inv, node);
      const ssh = new SshNodeExec({
        node: n.name,
        host: n.address,
        port: n.sshPort,
        user: n.user,
        keyFile: this.inv.controller.sshKey,
        keySource: `inventory ${inventoryFileOf(this.inv) ?? '(inline)'}, controller.sshKey`,
        knownHostsFile: this.inv.controller.knownHosts,
        connectTimeoutMs: this.connectTimeoutMs,
      });
      c =
        this.agent === 'off'
          ? ssh
          : new AgentExec({ node: n.name, workDir: n.workDir, open: (cmd) => ssh.openPipe(cmd), fallback: ssh, mode: this.agent, onNote: this.onNote, connect: () => ssh.ensureConnected() });
      this.conns.set(node, c);
    }
    return c;
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.conns.values()].map((c) => c.close()));
    this.conns.clear();
  }
}
