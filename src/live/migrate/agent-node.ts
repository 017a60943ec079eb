/**
 * The node-side steps through the node agent (src/live/exec/agent.ts): every step of ShellNode,
 * run by the agent on the node, and pre-flight's facts answered from the agent's cache so that a
 * pre-flight between warm nodes takes milliseconds:
 *
 *  - CRIU features: kept until `criu`'s binary or the kernel changes (validator: their stat).
 *  - a rootfs's content hash with its fingerprint and size (one fact, so the fingerprint
 *    pre-flight hands to the transfer is the one the hash was taken with: if the rootfs changed
 *    since, the post-freeze fingerprint differs and the rootfs is sent). The agent re-takes the
 *    fingerprint (commands.ts manifestCmd) every few seconds and re-hashes only when it changed;
 *    an answer may be up to 3 s old: safe at the source, as said; at the destination no worse
 *    than before (its hash was never re-taken between pre-flight and restore), and a rollback's
 *    clear re-takes the fact of the bundle it removed.
 *  - free space where checkpoints go: at most 3 s old (the need has an 8 MiB margin; a full disk
 *    during the transfer is rolled back).
 *  - the node-to-node SSH channel: the source keeps its ControlMaster to each destination open
 *    (its socket and process checked before each use) instead of a handshake per migration; the
 *    channel's socket is a link to it; the masters stop when the controller closes its connections.
 *  - the container's memory (for the disk check): from its init's cgroup, not `runc ps`, at most 3 s old.
 *  - config.json (re-read when its size, mtime or inode change) and the CRIU config file (re-written
 *    when its content differs), at most 3 s since their last check.
 */
import { ConmigError } from '../../model/errors.ts';
import { probeCriu, type CriuProbe } from '../criu-probe.ts';
import type { InventoryNode } from '../inventory.ts';
import { AgentExec } from '../exec/agent.ts';
import { shq, tail, type ExecResult, type NodeExec, type RunOptions, type RunningCommand, type StreamOptions } from '../exec/types.ts';
import { CRIU_CONF, checkpointSpaceCmd, criuConfPath, manifestCmd, preparePushCmd, preparedPushCmd, preparedPushFiles, runcStateCmd, parseKv, parseRuncState, toInt, transferSsh, treeHashCmd, type RuncState } from './commands.ts';
import type { ContainerSize, MigrationNode, PushRequest, PushResult, TransferChannel } from './node.ts';
import { ShellNode } from './shell-node.ts';

/** How old a cached fact may be when pre-flight reads it. */
const ROOTFS_MAX_AGE_MS = 3000;
const SPACE_MAX_AGE_MS = 3000;
const RSS_MAX_AGE_MS = 3000;
const CONFIG_MAX_AGE_MS = 3000;
const CRIU_MAX_AGE_MS = 10 * 60_000;

interface RootfsFact {
  manifest: string;
  bytes: number;
  hash: string;
}

/** A node's steps: through its agent when the exec is one, else one SSH command each. */
export function migrationNode(n: InventoryNode, exec: NodeExec): MigrationNode {
  return exec instanceof AgentExec ? new AgentNode(n, exec) : new ShellNode(n, exec);
}

/** One command: fingerprint, size and content hash of a tree (`none` if it is not a folder). */
export function rootfsFactCmd(dir: string): string {
  return `if [ -d ${shq(dir)} ]; then echo "manifest $(${manifestCmd(dir)})"; echo "bytes $(du -sb ${shq(dir)} | cut -f1)"; echo "hash $(${treeHashCmd(dir)})"; else echo "manifest none"; echo "bytes 0"; echo "hash none"; fi`;
}

export class AgentNode extends ShellNode {
  private readonly node: InventoryNode;
  private readonly agent: AgentExec;
  /** The source's rootfs fact, asked for by measure and read by treeHash of the same pre-flight. */
  private memo: { dir: string; at: number; fact: Promise<RootfsFact> } | null = null;
  /** Init pids seen by containerState (measure reads the container's cgroup with it). */
  private readonly pids = new Map<string, { pid: number; at: number }>();

  constructor(n: InventoryNode, agent: AgentExec) {
    super(n, agent);
    this.node = n;
    this.agent = agent;
  }

  override async reach(): Promise<void> {
    await this.agent.ping();
  }

  /** No runc start-up when there is no such container (its state folder is absent). */
  override async containerState(id: string): Promise<RuncState | null> {
    const dir = shq(`${this.node.runcRoot}/${id}`);
    const cmd = `if [ -d ${dir} ]; then ${runcStateCmd(this.node, id)}; else echo "container does not exist" >&2; exit 1; fi`;
    const st = parseRuncState(await this.agent.run(cmd, { timeoutMs: 15_000 }), this.node);
    if (st && st.pid > 0) this.pids.set(id, { pid: st.pid, at: Date.now() });
    return st;
  }

  override probeCriu(): Promise<CriuProbe> {
    const c = shq(this.node.criuPath);
    const validator = `uname -r; stat -L -c '%s %Y %i' "$(command -v ${c})" 2>&1`;
    return probeCriu(factExec(this.agent, { maxAgeMs: CRIU_MAX_AGE_MS, validator }), this.node.criuPath);
  }

  private rootfsFact(dir: string, maxAgeMs: number): Promise<RootfsFact> {
    return this.agent.fact(rootfsFactCmd(dir), { maxAgeMs, validator: manifestCmd(dir), timeoutMs: 300_000 }).then((r) => {
      if (r.code !== 0) throw failed(this.name, 'hashing the rootfs', rootfsFactCmd(dir), r);
      const kv = parseKv(r.stdout);
      return { manifest: kv.get('manifest') ?? '', bytes: toInt(kv.get('bytes') ?? '0'), hash: kv.get('hash') ?? 'none' };
    });
  }

  override async measure(id: string, rootfs: string): Promise<ContainerSize> {
    const fact = this.rootfsFact(rootfs, ROOTFS_MAX_AGE_MS);
    this.memo = { dir: rootfs, at: Date.now(), fact };
    const init = this.pids.get(id);
    // the container's processes: its init's cgroup (no runc start-up), else `runc ps`
    const viaCgroup =
      init && Date.now() - init.at < 5000
        ? `f=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ {print "/sys/fs/cgroup/memory" $3 "/cgroup.procs"} $1 == "0" && $2 == "" {print "/sys/fs/cgroup" $3 "/cgroup.procs"; print "/sys/fs/cgroup/unified" $3 "/cgroup.procs"}' /proc/${init.pid}/cgroup 2>/dev/null | while read -r c; do [ -r "$c" ] && { echo "$c"; break; }; done); `
        : 'f=; ';
    const rssCmd = [
      `${viaCgroup}if [ -n "$f" ] && [ -s "$f" ]; then pids=$(cat "$f"); else pids=$(runc --root ${shq(this.node.runcRoot)} ps --format json ${shq(id)} | tr -d '[] ' | tr ',' ' '); fi`,
      'rss=0; for p in $pids; do k=$(awk \'/^VmRSS:/ {print $2}\' /proc/$p/status 2>/dev/null); rss=$((rss + ${k:-0})); done',
      'echo "$rss"',
    ].join('\n');
    // an estimate for the disk check (8 MiB margin): like the other facts, at most 3 s old when
    // the init pid is known (a cached answer keyed by it), else measured now
    const rssRun = init && Date.now() - init.at < 5000 ? this.agent.fact(rssCmd, { maxAgeMs: RSS_MAX_AGE_MS, timeoutMs: 60_000 }) : this.agent.run(rssCmd, { timeoutMs: 60_000 });
    const [rss, f] = await Promise.all([rssRun, fact]);
    return { rssBytes: toInt(rss.stdout) * 1024, rootfsBytes: f.bytes, manifest: f.manifest };
  }

  override async treeHash(dir: string): Promise<string> {
    const m = this.memo;
    if (m && m.dir === dir && Date.now() - m.at < 2000) return (await m.fact).hash;
    return (await this.rootfsFact(dir, ROOTFS_MAX_AGE_MS)).hash;
  }

  /** A rollback's clear may remove the bundle's rootfs: its cached fact is re-taken at once. */
  override async clear(id: string, dir: string, bundle: string | null): Promise<boolean> {
    const gone = await super.clear(id, dir, bundle);
    if (bundle !== null) await this.rootfsFact(`${bundle}/rootfs`, 0).catch(() => undefined);
    return gone;
  }

  /** config.json, re-read when its size, mtime or inode changed (checked at most 3 s ago). */
  override async readConfig(bundle: string): Promise<string> {
    const f = shq(`${bundle}/config.json`);
    const r = await this.agent.fact(`cat ${f}`, { maxAgeMs: CONFIG_MAX_AGE_MS, validator: `stat -c '%s %Y %i' ${f}`, timeoutMs: 30_000 });
    if (r.code !== 0) throw failed(this.name, 'reading config.json', `cat ${f}`, r);
    return r.stdout;
  }

  /**
   * The CRIU config, kept by the agent: written when its content differs from CRIU_CONF (the
   * agent checks every 2 s, and at a pre-flight more than 3 s after its last check).
   */
  override async writeCriuConfig(): Promise<void> {
    const conf = shq(criuConfPath(this.node));
    const b64 = Buffer.from(CRIU_CONF).toString('base64');
    const cmd = `mkdir -p ${shq(this.node.workDir)} && printf %s ${b64} | base64 -d > ${conf}.tmp && mv -f ${conf}.tmp ${conf} && echo written`;
    // `ok` while the file is right, something new each time it is not: re-written until it is
    const validator = `[ "$(base64 -w0 < ${conf} 2>/dev/null)" = ${b64} ] && echo ok || echo "bad $$"`;
    const r = await this.agent.fact(cmd, { maxAgeMs: CONFIG_MAX_AGE_MS, validator, timeoutMs: 30_000 });
    if (r.code !== 0) throw failed(this.name, 'writing the CRIU config', cmd, r);
  }

  override async checkpointSpace(): Promise<number> {
    const r = await this.agent.fact(checkpointSpaceCmd(this.node), { maxAgeMs: SPACE_MAX_AGE_MS, timeoutMs: 30_000 });
    if (r.code !== 0) throw failed(this.name, 'df', checkpointSpaceCmd(this.node), r);
    return toInt(r.stdout);
  }

  /** A warm master to `to` per controller process, its socket linked at the channel's path. */
  private warmSock(ch: TransferChannel): string {
    return `/tmp/conmig-${process.pid}-warm-${ch.from}-${ch.to}.ctl`.replace(/[^A-Za-z0-9_./-]/g, '_');
  }

  override async openChannel(ch: TransferChannel, to: InventoryNode): Promise<{ ok: boolean; stderr: string }> {
    const warm = this.warmSock(ch);
    const w = shq(warm);
    const pidf = shq(`${warm}.pid`);
    // alive: its socket and its process (a master whose connection died exits within ServerAlive's 6 s)
    const cmd = [
      `p=; [ -S ${w} ] && read -r p < ${pidf} 2>/dev/null`,
      `if [ -z "$p" ] || ! kill -0 "$p" 2>/dev/null; then`,
      `rm -f ${w} ${pidf}; ${transferSsh(this.node, to, warm, ['-M', '-o', 'ControlPersist=300', '-f', '-N'])} || exit $?`,
      `${transferSsh(this.node, to, warm, ['-O', 'check'])} 2>&1 | sed -n 's/.*pid=\\([0-9]*\\).*/\\1/p' > ${pidf}`,
      'fi',
      `ln -sfn ${w} ${shq(ch.ctlSock)}`,
    ].join('\n');
    const r = await this.agent.run(cmd, { timeoutMs: 20_000 });
    if (r.code === 0) this.agent.atClose(`${transferSsh(this.node, to, warm, ['-O', 'exit'])} 2>/dev/null; rm -f ${w} ${pidf}`);
    return { ok: r.code === 0, stderr: r.stderr };
  }

  /**
   * Before the freeze: the push's pipeline started, its ssh session to the destination open
   * (commands.ts preparePushCmd). It ends with this agent, so a controller that dies before the
   * freeze leaves nothing running (and `conmig recover` sees no command of the migration).
   */
  async preparePush(ch: TransferChannel, to: InventoryNode, q: Pick<PushRequest, 'srcDir' | 'dstDir' | 'srcRootfs' | 'dstBundle'>): Promise<boolean> {
    const r = await this.agent.run(preparePushCmd(this.node, to, ch.ctlSock, q), { timeoutMs: 20_000 });
    return r.code === 0;
  }

  async abortPush(srcDir: string): Promise<void> {
    const f = preparedPushFiles(srcDir);
    await this.agent.run(`[ -f ${shq(f.pid)} ] && kill -KILL -- "-$(cat ${shq(f.pid)})" 2>/dev/null; rm -rf ${shq(f.dir)}`, { timeoutMs: 10_000 });
  }

  /** Through the pipeline preparePush started, if it is there and alive; else the ordinary push. */
  override async pushCheckpoint(ch: TransferChannel, to: InventoryNode, q: PushRequest): Promise<PushResult> {
    const cmd = preparedPushCmd(q);
    const r = await this.agent.run(`bash --norc --noprofile -c ${shq(cmd)}`);
    const kv = parseKv(r.stdout);
    if (r.code === 0 && kv.get('prepared') === '0') return super.pushCheckpoint(ch, to, q);
    if (r.code !== 0) {
      throw new ConmigError('COMMAND_FAILED', `pushing the checkpoint to ${to.name} failed on ${this.name} (exit ${r.code}) during transfer`, {
        context: { node: this.name, command: cmd, exit: r.code, stderr: tail(r.stderr || r.stdout), phase: 'transfer' },
      });
    }
    return { imageBytes: toInt(kv.get('img') ?? '0'), rootfsBytes: toInt(kv.get('rootfs_bytes') ?? '0'), rootfsCached: kv.get('send_rootfs') === '0' };
  }

  /** The link goes; the master stays warm for the next migration (unless the link was no link). */
  override async closeChannel(ch: TransferChannel, to: InventoryNode): Promise<void> {
    const s = shq(ch.ctlSock);
    await this.agent.run(`if [ -L ${s} ]; then rm -f ${s}; else ${transferSsh(this.node, to, ch.ctlSock, ['-O', 'exit'])} 2>/dev/null; rm -f ${s}; fi`, { timeoutMs: 10_000 });
  }
}

/** As runChecked says a failed pre-flight command. */
function failed(node: string, what: string, command: string, r: ExecResult): ConmigError {
  return new ConmigError('COMMAND_FAILED', `${what} failed on ${node} (exit ${r.code}) during preflight`, {
    context: { node, command, exit: r.code, stderr: tail(r.stderr || r.stdout), phase: 'preflight' },
  });
}

/** A NodeExec whose run() answers from the agent's fact cache (for probeCriu's one command). */
function factExec(agent: AgentExec, o: { maxAgeMs: number; validator: string }): NodeExec {
  return {
    node: agent.node,
    run: async (cmd: string, ro: RunOptions = {}): Promise<ExecResult> => {
      const { cached: _c, ...r } = await agent.fact(cmd, { ...o, timeoutMs: ro.timeoutMs });
      return r;
    },
    stream: (cmd: string, so?: StreamOptions): RunningCommand => agent.stream(cmd, so),
    close: async () => undefined,
  };
}
