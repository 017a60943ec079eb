/**
 * NodeExec through the conmig node agent (scripts/conmig-agent.sh): one long-lived bash process
 * per node, started over the node's existing SSH connection (its stdio is the channel: no port,
 * no new trust), that runs every command locally, several at once, with framed results
 * (agent-protocol.ts). Saves the SSH session set-up of every command (~100-150 ms here) and keeps
 * node facts (CRIU features, rootfs hashes, free space) cached and fresh on the node (`fact`).
 *
 * Start-up uploads the script to `<workDir>/conmig-agent.sh` when the node's copy differs
 * (sha256), starts it, and checks its hello: protocol and the file's hash must be this conmig's.
 * When the agent cannot start (no bash, the file cannot be written, a foreign agent answers),
 * mode `auto` falls back to one SSH command per step with a note; mode `require` refuses
 * (SETUP_MISSING naming the node and why). An agent that dies under running commands fails them
 * with NODE_UNREACHABLE naming the node; the next command starts a new one.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { ConmigError } from '../../model/errors.ts';
import { AGENT_PROTO, encodeFact, encodeKill, encodePing, encodeRun, FrameParser, type AgentFrame } from './agent-protocol.ts';
import { shq, type ExecPipe, type ExecResult, type NodeExec, type RunOptions, type RunningCommand, type StreamOptions } from './types.ts';

/** `auto`: the agent where it starts, else one SSH command per step (with a note); `require`: the agent or an error. */
export type AgentMode = 'auto' | 'require';

/** Where the agent's source is (scripts/, beside src/ and dist/). */
export const AGENT_SCRIPT_FILE = resolve(dirname(fileURLToPath(import.meta.url)), '../../../scripts/conmig-agent.sh');

let scriptCache: Buffer | null = null;
export function agentScript(): Buffer {
  scriptCache ??= readFileSync(AGENT_SCRIPT_FILE);
  return scriptCache;
}

export function sha256(b: Buffer | string): string {
  return createHash('sha256').update(b).digest('hex');
}

/** The agent's path on a node. */
export function agentPath(workDir: string): string {
  return `${workDir}/conmig-agent.sh`;
}

/** One command: install the script if the node's copy differs, then become the agent. */
export function bootstrapCommand(workDir: string, script: Buffer): string {
  const f = shq(agentPath(workDir));
  const tmp = `${f}.tmp.$$`;
  return [
    `mkdir -p ${shq(workDir)} 2>/dev/null`,
    `if [ "$(sha256sum < ${f} 2>/dev/null | cut -c1-64)" != ${sha256(script)} ]; then`,
    `printf %s ${script.toString('base64')} | base64 -d > ${tmp} && chmod 0700 ${tmp} && mv -fT ${tmp} ${f} || { rm -f ${tmp}; echo "conmig-agent: cannot install ${f}" >&2; }`,
    'fi',
    `exec bash ${f}`,
  ].join('\n');
}

export interface AgentExecOptions {
  node: string;
  /** The node's work folder (the agent goes there). */
  workDir: string;
  /** Start a long-lived command on the node (over its SSH connection). */
  open: (cmd: string) => Promise<ExecPipe>;
  /** One command per step, used when the agent cannot start (mode auto). */
  fallback: NodeExec | null;
  mode: AgentMode;
  /** Told once when the agent cannot start and the fallback is used. */
  onNote?: (text: string) => void;
  startTimeoutMs?: number;
  /** The script to install (default: scripts/conmig-agent.sh) and the hash its hello must say (default: its sha256). */
  script?: Buffer;
  expectHash?: string;
  /** Open the node's connection now (without starting anything). */
  connect?: () => Promise<void>;
}

interface Pending {
  cmd: string;
  out: Buffer[];
  err: Buffer[];
  opts: StreamOptions;
  t0: number;
  killed: boolean;
  timer: NodeJS.Timeout | null;
  resolve: (r: ExecResult & { flags: string }) => void;
  reject: (e: unknown) => void;
}

/** One running agent. */
class AgentSession {
  private readonly pending = new Map<number, Pending>();
  private readonly parser = new FrameParser();
  private nextId = 1;
  private stderrTail = '';
  closed = false;
  exitCode: number | null = null;
  hello: Extract<AgentFrame, { kind: 'hello' }> | null = null;
  private helloWaiters: Array<() => void> = [];

  constructor(
    private readonly node: string,
    private readonly pipe: ExecPipe,
  ) {
    pipe.onStdout((chunk) => {
      let frames: AgentFrame[];
      try {
        frames = this.parser.push(chunk);
      } catch (e) {
        this.stderrTail += `\n(controller: ${(e as Error).message})`;
        this.pipe.kill();
        return;
      }
      for (const f of frames) this.onFrame(f);
    });
    pipe.onStderr((chunk) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-2000);
    });
    pipe.onClose((code) => this.onClose(code));
  }

  get stderr(): string {
    return this.stderrTail.trim();
  }

  /** Resolves at the hello or when the agent ends first (then `hello` stays null). */
  waitHello(timeoutMs: number): Promise<void> {
    if (this.hello || this.closed) return Promise.resolve();
    return new Promise((res) => {
      const t = setTimeout(res, timeoutMs);
      this.helloWaiters.push(() => {
        clearTimeout(t);
        res();
      });
    });
  }

  private wakeHello(): void {
    const w = this.helloWaiters;
    this.helloWaiters = [];
    for (const f of w) f();
  }

  private onFrame(f: AgentFrame): void {
    if (f.kind === 'hello') {
      this.hello = f;
      this.wakeHello();
      return;
    }
    if (f.kind === 'err') {
      this.stderrTail = (this.stderrTail + `\n${f.text}`).slice(-2000);
      return;
    }
    const p = this.pending.get(f.id);
    if (!p) return; // timed out on this side already
    if (f.kind === 'out') {
      (f.fd === 1 ? p.out : p.err).push(f.data);
      (f.fd === 1 ? p.opts.onStdout : p.opts.onStderr)?.(f.data);
      return;
    }
    this.pending.delete(f.id);
    if (p.timer) clearTimeout(p.timer);
    if (f.stdout.length) {
      p.out.push(f.stdout);
      p.opts.onStdout?.(f.stdout);
    }
    if (f.stderr.length) {
      p.err.push(f.stderr);
      p.opts.onStderr?.(f.stderr);
    }
    const stderr = Buffer.concat(p.err).toString('utf8');
    p.resolve({
      code: f.code,
      stdout: Buffer.concat(p.out).toString('utf8'),
      stderr: f.flags === 'timeout' ? `${stderr}\n(timed out after ${p.opts.timeoutMs} ms)` : stderr,
      wallMs: performance.now() - p.t0,
      nodeWallMs: f.nodeWallUs / 1000,
      flags: f.flags,
    });
  }

  private onClose(code: number | null): void {
    this.closed = true;
    this.exitCode = code;
    this.wakeHello();
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      if (p.timer) clearTimeout(p.timer);
      if (p.killed) {
        p.resolve({ code: -1, stdout: Buffer.concat(p.out).toString('utf8'), stderr: Buffer.concat(p.err).toString('utf8'), wallMs: performance.now() - p.t0, flags: 'killed' });
        continue;
      }
      p.reject(
        new ConmigError('NODE_UNREACHABLE', `the conmig agent on ${this.node} ended (${code === null ? 'connection lost' : `exit ${code}`}) while running a command`, {
          context: { node: this.node, command: p.cmd, stderr: this.stderr.slice(-2000) || undefined },
        }),
      );
    }
  }

  private send(b: Buffer): void {
    if (!this.closed) this.pipe.write(b);
  }

  /** Start a command; `id` lets the caller kill it. */
  start(cmd: string, opts: StreamOptions, fact?: { key: string; maxAgeMs: number; validator: string }): { id: number; done: Promise<ExecResult & { flags: string }> } {
    const id = this.nextId++;
    const done = new Promise<ExecResult & { flags: string }>((resolve, reject) => {
      if (this.closed) {
        reject(new ConmigError('NODE_UNREACHABLE', `the conmig agent on ${this.node} has ended`, { context: { node: this.node, command: cmd } }));
        return;
      }
      const p: Pending = { cmd, out: [], err: [], opts, t0: performance.now(), killed: false, timer: null, resolve, reject };
      if (opts.timeoutMs !== undefined) {
        // the agent enforces the timeout; this is the safety net if its answer never comes
        p.timer = setTimeout(() => {
          this.pending.delete(id);
          this.send(encodeKill(id));
          resolve({ code: -1, stdout: Buffer.concat(p.out).toString('utf8'), stderr: `${Buffer.concat(p.err).toString('utf8')}\n(timed out after ${opts.timeoutMs} ms)`, wallMs: performance.now() - p.t0, flags: 'timeout' });
        }, opts.timeoutMs + 3000);
      }
      this.pending.set(id, p);
      this.send(fact ? encodeFact(id, fact.key, fact.maxAgeMs, fact.validator, cmd) : encodeRun(id, cmd, { timeoutMs: opts.timeoutMs, stream: Boolean(opts.onStdout || opts.onStderr), stdin: opts.stdin }));
    });
    return { id, done };
  }

  kill(id: number): void {
    const p = this.pending.get(id);
    if (p) p.killed = true;
    this.send(encodeKill(id));
  }

  ping(): Promise<ExecResult & { flags: string }> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { cmd: '(ping)', out: [], err: [], opts: {}, t0: performance.now(), killed: false, timer: null, resolve, reject });
      this.send(encodePing(id));
    });
  }

  close(): void {
    if (this.closed) return;
    this.pipe.end();
  }

  /** Stop it now (a test's crashing agent). */
  destroy(): void {
    this.pipe.kill();
  }
}

/** CONMIG_AGENT_TRACE=1: one stderr line per command (for finding where time goes). */
const TRACE = process.env.CONMIG_AGENT_TRACE === '1';
function trace(node: string, cmd: string, r: ExecResult, flags: string): void {
  process.stderr.write(`[agent ${node}] ${r.wallMs.toFixed(1)} ms (node ${r.nodeWallMs?.toFixed(1) ?? '?'} ms, ${flags}) ${cmd.replace(/\s+/g, ' ').slice(0, 110)}\n`);
}

export class AgentExec implements NodeExec {
  readonly node: string;
  private readonly o: AgentExecOptions;
  private readonly script: Buffer;
  private readonly expectHash: string;
  private session: AgentSession | null = null;
  private starting: Promise<AgentSession | null> | null = null;
  /** Why the agent is not used (auto mode, after a failed start). */
  private fallbackReason: string | null = null;
  /** Commands run (best effort) before the agent is closed. */
  private readonly closing = new Set<string>();

  constructor(o: AgentExecOptions) {
    this.node = o.node;
    this.o = o;
    this.script = o.script ?? agentScript();
    this.expectHash = o.expectHash ?? sha256(this.script);
  }

  /** 'agent' once it runs; 'ssh' when it fell back; null before the first command. */
  get via(): 'agent' | 'ssh' | null {
    if (this.fallbackReason !== null) return 'ssh';
    return this.session && !this.session.closed ? 'agent' : null;
  }

  /** The running agent's pid on the node (tests). */
  get agentPid(): number | null {
    return this.session && !this.session.closed ? (this.session.hello?.pid ?? null) : null;
  }

  /** The agent, started if needed; null when the fallback is used. */
  async agent(): Promise<AgentSession | null> {
    if (this.fallbackReason !== null) return null;
    if (this.session && !this.session.closed) return this.session;
    this.starting ??= this.start().finally(() => {
      this.starting = null;
    });
    return this.starting;
  }

  /** Start it and check its hello (a stale or foreign agent is refused). */
  private async start(): Promise<AgentSession | null> {
    const pipe = await this.o.open(bootstrapCommand(this.o.workDir, this.script)); // NODE_UNREACHABLE passes through
    const s = new AgentSession(this.node, pipe);
    const timeoutMs = this.o.startTimeoutMs ?? 15_000;
    await s.waitHello(timeoutMs);
    let why: string | null = null;
    const h = s.hello;
    if (!h) why = s.closed ? `it ended at start-up (exit ${s.exitCode ?? '?'})${s.stderr ? `: ${s.stderr.split('\n').slice(-3).join(' | ')}` : ''}` : `no hello within ${timeoutMs} ms`;
    else if (h.proto !== AGENT_PROTO || h.hash !== this.expectHash) {
      why = `${agentPath(this.o.workDir)} is another version (protocol ${h.proto}, sha256 ${h.hash.slice(0, 12)}; this conmig needs protocol ${AGENT_PROTO}, sha256 ${this.expectHash.slice(0, 12)}) and could not be replaced${s.stderr ? `: ${s.stderr.split('\n').slice(-2).join(' | ')}` : ''}`;
    }
    if (why === null) {
      this.session = s;
      return s;
    }
    s.destroy();
    const msg = `the conmig agent could not start on ${this.node}: ${why}`;
    if (this.o.mode === 'require' || !this.o.fallback) {
      throw new ConmigError('SETUP_MISSING', msg, { context: { node: this.node, file: agentPath(this.o.workDir) } });
    }
    this.fallbackReason = why;
    this.o.onNote?.(`${msg}; using one SSH command per step on ${this.node} (slower)`);
    return null;
  }

  run(cmd: string, opts: RunOptions = {}): Promise<ExecResult> {
    return this.stream(cmd, opts).done;
  }

  stream(cmd: string, opts: StreamOptions = {}): RunningCommand {
    let killed = false;
    let kill: (() => void) | null = null;
    const done = (async (): Promise<ExecResult> => {
      const s = await this.agent();
      if (!s) {
        const fb = this.o.fallback!.stream(cmd, opts);
        kill = () => fb.kill();
        if (killed) fb.kill();
        return fb.done;
      }
      const started = s.start(cmd, opts);
      kill = () => s.kill(started.id);
      if (killed) s.kill(started.id);
      const { flags: _flags, ...r } = await started.done;
      if (TRACE) trace(this.node, cmd, r, _flags);
      return r;
    })();
    return {
      done,
      kill: () => {
        killed = true;
        kill?.();
      },
    };
  }

  /**
   * A node fact: `cmd`'s result, kept by the agent and answered from its cache when checked less
   * than `maxAgeMs` ago (the agent re-checks it every few seconds: `validator`, a cheap
   * fingerprint, and `cmd` again only when that changed). Without the agent: `cmd` now.
   */
  async fact(cmd: string, o: { maxAgeMs: number; validator?: string; timeoutMs?: number }): Promise<ExecResult & { cached: boolean }> {
    const s = await this.agent();
    if (!s) return { ...(await this.o.fallback!.run(cmd, { timeoutMs: o.timeoutMs })), cached: false };
    const validator = o.validator ?? '';
    const key = sha256(`${validator}\0${cmd}`).slice(0, 32);
    const { flags, ...r } = await s.start(cmd, { timeoutMs: o.timeoutMs }, { key, maxAgeMs: o.maxAgeMs, validator }).done;
    if (TRACE) trace(this.node, `(fact) ${cmd}`, r, flags);
    return { ...r, cached: flags === 'cached' };
  }

  /** One round trip to the node (the agent answers itself; no process is started). */
  async ping(): Promise<number> {
    const t0 = performance.now();
    const s = await this.agent();
    if (!s) await this.o.fallback!.run('true', { timeoutMs: 15_000 });
    else await s.ping();
    return performance.now() - t0;
  }

  /** Connect now; throws NODE_UNREACHABLE / HOSTKEY_MISMATCH. */
  async ensureConnected(): Promise<void> {
    await (this.o.connect ? this.o.connect() : this.agent());
  }

  /** Run `cmd` on the node when this exec closes (e.g. stop an SSH master kept warm). */
  atClose(cmd: string): void {
    this.closing.add(cmd);
  }

  async close(): Promise<void> {
    const s = this.session;
    if (s && !s.closed && this.closing.size) {
      await Promise.all([...this.closing].map((c) => s.start(c, { timeoutMs: 5000 }).done.catch(() => undefined)));
    }
    this.closing.clear();
    this.session = null;
    s?.close();
    await this.o.fallback?.close();
  }
}
