/**
 * The node-side steps (node.ts) as one shell command each over the node's
 * exec (SSH on real nodes): the commands of commands.ts, their output parsed.
 */
import { probeCriu, type CriuProbe } from '../criu-probe.ts';
import type { InventoryNode } from '../inventory.ts';
import { runChecked, shq, tail, type NodeExec } from '../exec/types.ts';
import {
  CRIU_CONF,
  abortLazyDumpCmd,
  lazyCheckpointCmd,
  lazyDumpWaitCmd,
  lazyRestoreCmd,
  lazyWaitCmd,
  pageServerCmd,
  stopPageServerCmd,
  streamCheckpointCmd,
  checkpointCmd,
  checkpointSpaceCmd,
  criuConfPath,
  deleteCmd,
  dumpLogCmd,
  manifestCmd,
  measureCmd,
  parseKv,
  parseRuncState,
  predumpCmd,
  restoreCmd,
  restoreLogCmd,
  rmCheckpointDir,
  runcStateCmd,
  toInt,
  transferSsh,
  treeHashCmd,
  type RuncState,
} from './commands.ts';
import type { ContainerSize, MigrationNode, PushRequest, PushResult, StepOutcome, TransferChannel } from './node.ts';

export class ShellNode implements MigrationNode {
  readonly name: string;

  constructor(
    private readonly n: InventoryNode,
    private readonly exec: NodeExec,
  ) {
    this.name = n.name;
  }

  async reach(): Promise<void> {
    await this.exec.run('true', { timeoutMs: 15_000 });
  }

  async containerState(id: string): Promise<RuncState | null> {
    return parseRuncState(await this.exec.run(runcStateCmd(this.n, id), { timeoutMs: 15_000 }), this.n);
  }

  probeCriu(): Promise<CriuProbe> {
    return probeCriu(this.exec, this.n.criuPath);
  }

  async readConfig(bundle: string): Promise<string> {
    return (await runChecked(this.exec, `cat ${shq(`${bundle}/config.json`)}`, { phase: 'preflight', what: 'reading config.json' })).stdout;
  }

  async measure(id: string, rootfs: string): Promise<ContainerSize> {
    const r = await runChecked(this.exec, measureCmd(this.n, id, rootfs), { phase: 'preflight', what: 'measuring the container' });
    const kv = parseKv(r.stdout);
    return { rssBytes: toInt(kv.get('rss_kib') ?? '0') * 1024, rootfsBytes: toInt(kv.get('rootfs_bytes') ?? '0'), manifest: kv.get('manifest') ?? '' };
  }

  async treeHash(dir: string): Promise<string> {
    return (await runChecked(this.exec, treeHashCmd(dir), { phase: 'preflight', what: 'hashing the rootfs' })).stdout.trim();
  }

  async checkpointSpace(): Promise<number> {
    return toInt((await runChecked(this.exec, checkpointSpaceCmd(this.n), { phase: 'preflight', what: 'df' })).stdout);
  }

  async exists(path: string): Promise<boolean> {
    return (await this.exec.run(`test -e ${shq(path)}`)).code === 0;
  }

  async writeCriuConfig(): Promise<void> {
    await runChecked(this.exec, `mkdir -p ${shq(this.n.workDir)} && cat > ${shq(criuConfPath(this.n))}`, {
      stdin: CRIU_CONF,
      phase: 'preflight',
      what: 'writing the CRIU config',
    });
  }

  async openChannel(ch: TransferChannel, to: InventoryNode): Promise<{ ok: boolean; stderr: string }> {
    const r = await this.exec.run(transferSsh(this.n, to, ch.ctlSock, ['-M', '-o', 'ControlPersist=300', '-f', '-N']), { timeoutMs: 20_000 });
    return { ok: r.code === 0, stderr: r.stderr };
  }

  async closeChannel(ch: TransferChannel, to: InventoryNode): Promise<void> {
    await this.exec.run(`${transferSsh(this.n, to, ch.ctlSock, ['-O', 'exit'])} 2>/dev/null; rm -f ${shq(ch.ctlSock)}`, { timeoutMs: 10_000 });
  }

  async predump(id: string, dir: string, round: number): Promise<void> {
    await runChecked(this.exec, predumpCmd(this.n, id, dir, round), { phase: 'predump', what: 'runc checkpoint --pre-dump' });
  }

  /** tar | ssh from the source to the destination's address with its transfer key: node to node, never through the controller. */
  async pushDir(ch: TransferChannel, to: InventoryNode, srcDir: string, dstDir: string, entry: string): Promise<void> {
    const remote = `mkdir -p ${shq(dstDir)} && tar -C ${shq(dstDir)} -xf -`;
    const pipeline = `tar -cf - -C ${shq(srcDir)} ${shq(entry)} | ${transferSsh(this.n, to, ch.ctlSock, ['-o', 'ControlMaster=no'], remote)}`;
    await runChecked(this.exec, `bash -o pipefail -c ${shq(pipeline)}`, { phase: 'transfer', what: `pushing the checkpoint to ${to.name}` });
  }

  async checkpoint(id: string, dir: string, precopyRounds: number): Promise<StepOutcome> {
    const r = await this.exec.run(checkpointCmd(this.n, id, dir, precopyRounds));
    if (r.code === 0) return { ok: true };
    const log = (await this.exec.run(dumpLogCmd(dir))).stdout;
    return { ok: false, stderr: tail(r.stderr), log };
  }

  /**
   * One command on the source: measure, decide whether the rootfs must go (it changed since it was
   * compared), write the destination's config.json, push it all through the open node-to-node channel,
   * and on the destination put the bundle in place. One round trip less is downtime saved.
   */
  async pushCheckpoint(ch: TransferChannel, to: InventoryNode, q: PushRequest): Promise<PushResult> {
    const b64 = (x: string): string => Buffer.from(x).toString('base64');
    const remote = [
      `mkdir -p ${shq(q.dstDir)} ${shq(q.dstBundle)}`,
      `tar -C ${shq(q.dstDir)} -xf -`,
      `if [ -d ${shq(`${q.dstDir}/rootfs`)} ]; then rm -rf --one-file-system ${shq(`${q.dstBundle}/rootfs`)} && mv ${shq(`${q.dstDir}/rootfs`)} ${shq(`${q.dstBundle}/rootfs`)}; fi`,
      `mv ${shq(`${q.dstDir}/config.json`)} ${shq(`${q.dstBundle}/config.json`)}`,
    ].join(' && ');
    const script = [
      'set -o pipefail',
      `img=$(du -sb ${shq(`${q.srcDir}/img`)} | cut -f1)`,
      `man=$(${manifestCmd(q.srcRootfs)})`,
      `rb=$(du -sb ${shq(q.srcRootfs)} | cut -f1)`,
      `if [ "$man" = ${shq(q.manifest)} ] && [ ${q.rootfsCached ? 1 : 0} = 1 ]; then send=0; else send=1; fi`,
      'echo "img $img"; echo "rootfs_bytes $rb"; echo "send_rootfs $send"',
      `if [ $send = 1 ]; then cfg=${b64(q.configSent)}; extra=(-C ${shq(q.srcRootfs)} --transform 's,^\\.,rootfs,' .); else cfg=${b64(q.configCached)}; extra=(); fi`,
      `printf %s "$cfg" | base64 -d > ${shq(`${q.srcDir}/config.json`)}`,
      `tar -cf - -C ${shq(q.srcDir)} img config.json "\${extra[@]}" | ${transferSsh(this.n, to, ch.ctlSock, ['-o', 'ControlMaster=no'], remote)}`,
    ].join('\n');
    const r = await runChecked(this.exec, `bash -c ${shq(script)}`, { phase: 'transfer', what: `pushing the checkpoint to ${to.name}` });
    const kv = parseKv(r.stdout);
    return { imageBytes: toInt(kv.get('img') ?? '0'), rootfsBytes: toInt(kv.get('rootfs_bytes') ?? '0'), rootfsCached: kv.get('send_rootfs') === '0' };
  }

  async dirBytes(dirs: string[]): Promise<number> {
    return toInt((await this.exec.run(`du -sbc ${dirs.map(shq).join(' ')} | tail -1 | cut -f1`)).stdout);
  }

  async restore(id: string, dir: string, bundle: string): Promise<StepOutcome> {
    const r = await this.exec.run(restoreCmd(this.n, id, dir, bundle), { timeoutMs: 300_000 });
    if (r.code === 0) return { ok: true };
    return { ok: false, stderr: tail(r.stderr), log: (await this.exec.run(restoreLogCmd(dir))).stdout };
  }

  async lazyCheckpoint(id: string, dir: string, address: string): Promise<StepOutcome & { port?: number }> {
    const r = await this.exec.run(lazyCheckpointCmd(this.n, id, dir, address), { timeoutMs: 180_000 });
    const port = toInt(parseKv(r.stdout).get('port') ?? '');
    if (r.code === 0 && port > 0) return { ok: true, port };
    const log = (await this.exec.run(dumpLogCmd(dir))).stdout;
    return { ok: false, stderr: tail(r.stderr), log };
  }

  async lazyRestore(id: string, dir: string, bundle: string, srcAddress: string, port: number, opts?: { stockDaemon?: boolean }): Promise<StepOutcome> {
    const r = await this.exec.run(lazyRestoreCmd(this.n, id, dir, bundle, srcAddress, port, opts), { timeoutMs: 300_000 });
    if (r.code === 0) return { ok: true };
    return { ok: false, stderr: tail(r.stderr), log: (await this.exec.run(restoreLogCmd(dir))).stdout };
  }

  async lazyWait(dir: string, timeoutMs: number): Promise<StepOutcome> {
    const s = Math.ceil(timeoutMs / 1000);
    const r = await this.exec.run(lazyWaitCmd(dir, s), { timeoutMs: timeoutMs + 15_000 });
    const rc = parseKv(r.stdout).get('rc');
    if (r.code === 0 && rc === '0') return { ok: true };
    return { ok: false, stderr: r.code === 0 ? `criu lazy-pages ended with ${rc ?? 'nothing'}` : tail(r.stderr), log: r.stdout };
  }

  async lazyDumpWait(dir: string, timeoutMs: number): Promise<{ rc: number | null; lazyBytes: number }> {
    const s = Math.ceil(timeoutMs / 1000);
    const r = await this.exec.run(lazyDumpWaitCmd(dir, s), { timeoutMs: timeoutMs + 15_000 });
    const kv = parseKv(r.stdout);
    const rc = kv.get('rc');
    return { rc: rc === undefined || !/^\d+$/.test(rc) ? null : Number(rc), lazyBytes: toInt(kv.get('lazy_bytes') ?? '0') };
  }

  async abortLazyDump(dir: string): Promise<void> {
    await this.exec.run(abortLazyDumpCmd(dir), { timeoutMs: 30_000 });
  }

  async prepareBundle(bundle: string, config: string): Promise<void> {
    await runChecked(this.exec, `mkdir -p ${shq(bundle)} && cat > ${shq(`${bundle}/config.json`)}`, { stdin: config, phase: 'checkpoint', what: 'preparing the bundle' });
  }

  async startPageServer(dir: string, address: string): Promise<number> {
    const r = await runChecked(this.exec, pageServerCmd(this.n, dir, address), { phase: 'checkpoint', what: 'starting criu page-server' });
    return toInt(parseKv(r.stdout).get('port') ?? '0');
  }

  async stopPageServer(dir: string): Promise<void> {
    await this.exec.run(stopPageServerCmd(dir), { timeoutMs: 10_000 });
  }

  async streamCheckpoint(id: string, dir: string, dstAddress: string, port: number): Promise<StepOutcome & { pageBytes?: number }> {
    const r = await this.exec.run(streamCheckpointCmd(this.n, id, dir, dstAddress, port));
    if (r.code === 0) return { ok: true, pageBytes: toInt(parseKv(r.stdout).get('page_bytes') ?? '0') };
    const log = (await this.exec.run(dumpLogCmd(dir))).stdout;
    return { ok: false, stderr: tail(r.stderr), log };
  }

  async pullPages(from: InventoryNode, localDir: string, remoteDir: string): Promise<void> {
    const remote = `tar -C ${shq(remoteDir)} -cf - img`;
    const pipeline = `${transferSsh(this.n, from, 'none', ['-o', 'ControlMaster=no'], remote)} | tar -C ${shq(localDir)} -xf -`;
    await runChecked(this.exec, `mkdir -p ${shq(localDir)} && bash -o pipefail -c ${shq(pipeline)}`, { phase: 'rollback', what: `fetching the memory pages back from ${from.name}`, timeoutMs: 600_000 });
  }

  async deleteContainer(id: string): Promise<void> {
    await this.exec.run(deleteCmd(this.n, id));
  }

  async removeDir(dir: string, timeoutMs?: number): Promise<void> {
    await this.exec.run(rmCheckpointDir(dir), timeoutMs === undefined ? {} : { timeoutMs });
  }

  async clear(id: string, dir: string, bundle: string | null): Promise<boolean> {
    const rmBundle = bundle === null ? '' : ` rm -rf --one-file-system ${shq(bundle)};`;
    const r = await this.exec.run(
      `${deleteCmd(this.n, id)}; ${rmCheckpointDir(dir)};${rmBundle} ${runcStateCmd(this.n, id)} >/dev/null 2>&1 && echo still-there || echo gone`,
      { timeoutMs: 30_000 },
    );
    return r.stdout.includes('gone');
  }

  async retire(id: string, dir: string): Promise<void> {
    await this.exec.run(`${deleteCmd(this.n, id)}; ${rmCheckpointDir(dir)}`, { timeoutMs: 60_000 });
  }
}
