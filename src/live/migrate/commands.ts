/**
 * The shell commands a migration runs on its nodes (runc, CRIU, tar, ssh, df),
 * built as strings and parsed back; nothing here runs anything. The node-side
 * steps (shell-node.ts) send them, one SSH command each.
 */
import { ConmigError } from '../../model/errors.ts';
import type { InventoryNode } from '../inventory.ts';
import { shq, type ExecResult } from '../exec/types.ts';

export interface RuncState {
  id: string;
  pid: number;
  status: string;
  bundle: string;
}

export const CRIU_CONF = [
  '# written by conmig migrate: options runc cannot pass to CRIU itself',
  '# a probe connection still in the accept queue is dropped (the client retries)',
  'skip-in-flight',
  '# connections open at dump time are dumped and restored closed (the new node has another address)',
  'tcp-established',
  'tcp-close',
  '',
].join('\n');

export function criuConfPath(n: InventoryNode): string {
  return `${n.workDir}/conmig-criu.conf`;
}

/** `runc` with the node's root and CRIU, and CRIU reading CRIU_CONF. */
export function runc(n: InventoryNode, args: string): string {
  return `CRIU_CONFIG_FILE=${shq(criuConfPath(n))} runc --root ${shq(n.runcRoot)} --criu ${shq(n.criuPath)} ${args}`;
}

export function runcStateCmd(n: InventoryNode, id: string): string {
  return `runc --root ${shq(n.runcRoot)} state ${shq(id)}`;
}

/** A `runc state` answer: the state, null if there is no such container; a timeout throws. */
export function parseRuncState(r: ExecResult, n: InventoryNode): RuncState | null {
  if (r.code !== 0) {
    if (/does not exist|not exist|no such/i.test(r.stderr + r.stdout)) return null;
    if (r.code === -1) throw new ConmigError('COMMAND_FAILED', `runc state timed out on ${n.name}`, { context: { node: n.name } });
    return null;
  }
  try {
    return JSON.parse(r.stdout) as RuncState;
  } catch {
    return null;
  }
}

/**
 * A cheap fingerprint of a rootfs (names, sizes, modes, link targets, file
 * mtimes; not directory mtimes, which runc and CRIU touch) to notice that the
 * container changed its rootfs between the content comparison and the freeze.
 */
export function manifestCmd(dir: string): string {
  return `{ find ${shq(dir)} -xdev ! -type d -printf '%P %s %T@ %m %l\\n'; find ${shq(dir)} -xdev -type d -printf '%P %m\\n'; } 2>/dev/null | LC_ALL=C sort | sha256sum | cut -c1-64`;
}

/** Content hash of a directory tree (`none` if it does not exist). */
export function treeHashCmd(dir: string): string {
  return `if [ -d ${shq(dir)} ]; then tar -C ${shq(dir)} --sort=name --numeric-owner --owner=0 --group=0 --mtime=@0 -cf - . 2>/dev/null | sha256sum | cut -c1-64; else echo none; fi`;
}

/** Memory of every process of the container, and its rootfs's size and fingerprint (`key value` lines). */
export function measureCmd(n: InventoryNode, id: string, rootfs: string): string {
  return [
    `pids=$(runc --root ${shq(n.runcRoot)} ps --format json ${shq(id)} | tr -d '[] ' | tr ',' ' ')`,
    'rss=0; for p in $pids; do k=$(awk \'/^VmRSS:/ {print $2}\' /proc/$p/status 2>/dev/null); rss=$((rss + ${k:-0})); done',
    'echo "rss_kib $rss"',
    `echo "rootfs_bytes $(du -sb ${shq(rootfs)} | cut -f1)"`,
    `echo "manifest $(${manifestCmd(rootfs)})"`,
  ].join('\n');
}

/** Free bytes where checkpoints go (the folder is created). */
export function checkpointSpaceCmd(n: InventoryNode): string {
  const dir = shq(`${n.workDir}/checkpoints`);
  return `mkdir -p ${dir} && df -B1 --output=avail ${dir} | tail -1`;
}

/**
 * Remove a checkpoint directory on a node. A CRIU restore that crashed can
 * leave its cgroup yard (cgroupfs mounts) under the work dir: unmount what is
 * mounted below the directory first, and never cross into another filesystem.
 */
export function rmCheckpointDir(dir: string): string {
  const d = shq(dir);
  return `for m in $(awk -v p=${d}/ 'index($2, p) == 1 {print $2}' /proc/mounts | sort -r); do umount -l "$m" 2>/dev/null; done; rm -rf --one-file-system ${d}`;
}

/** Pre-copy round `round` (images in `<dir>/pre<round>`), on top of the previous round's. */
export function predumpCmd(n: InventoryNode, id: string, dir: string, round: number): string {
  const r = `pre${round}`;
  const parent = round > 1 ? ` --parent-path ${shq(`../pre${round - 1}`)}` : '';
  const cmd = runc(n, `checkpoint --pre-dump --image-path ${shq(`${dir}/${r}`)} --work-path ${shq(`${dir}/work-${r}`)}${parent} ${shq(id)}`);
  return `mkdir -p ${shq(`${dir}/${r}`)} && ${cmd}`;
}

/** The final dump into `<dir>/img` (work files, dump.log, in `<dir>/work`); the container stops. */
export function checkpointCmd(n: InventoryNode, id: string, dir: string, precopyRounds: number): string {
  const parentArg = precopyRounds > 0 ? ` --parent-path ${shq(`../pre${precopyRounds}`)}` : '';
  const cmd = runc(n, `checkpoint --image-path ${shq(`${dir}/img`)} --work-path ${shq(`${dir}/work`)}${parentArg} ${shq(id)}`);
  return `mkdir -p ${shq(`${dir}/img`)} ${shq(`${dir}/work`)} && ${cmd}`;
}

export function dumpLogCmd(dir: string): string {
  return `tail -n 15 ${shq(`${dir}/work/dump.log`)} 2>/dev/null`;
}

/** Restore `id` from `<dir>/img` with `bundle`, detached; runc's errors in `<dir>/rwork/runc.err`. */
export function restoreCmd(n: InventoryNode, id: string, dir: string, bundle: string): string {
  const cmd = runc(n, `restore -d --image-path ${shq(`${dir}/img`)} --work-path ${shq(`${dir}/rwork`)} --bundle ${shq(bundle)} ${shq(id)}`);
  return `mkdir -p ${shq(`${dir}/rwork`)} && ${cmd} </dev/null >/dev/null 2>${shq(`${dir}/rwork/runc.err`)}`;
}

export function restoreLogCmd(dir: string): string {
  return `cat ${shq(`${dir}/rwork/runc.err`)}; tail -n 15 ${shq(`${dir}/rwork/restore.log`)} 2>/dev/null`;
}

export function deleteCmd(n: InventoryNode, id: string): string {
  return `runc --root ${shq(n.runcRoot)} delete -f ${shq(id)} >/dev/null 2>&1`;
}

/**
 * The ssh command the SOURCE node runs to reach the destination (node to node,
 * with the source's transfer key and known_hosts, host keys verified), sharing
 * one master connection through `ctlSock` (on the source).
 */
export function transferSsh(from: InventoryNode, to: InventoryNode, ctlSock: string, extra: string[], remote?: string): string {
  const t = from.transfer;
  if (!t) throw new ConmigError('INVENTORY_INVALID', `node ${from.name} has no transfer key (nodes[].transfer)`, { context: { node: from.name } });
  return [
    'ssh',
    '-i', shq(t.key),
    '-o', shq(`UserKnownHostsFile=${t.knownHosts}`),
    '-o', 'StrictHostKeyChecking=yes',
    '-o', 'BatchMode=yes',
    '-o', 'ConnectTimeout=5',
    '-o', 'ServerAliveInterval=2',
    '-o', 'ServerAliveCountMax=3',
    '-S', shq(ctlSock),
    ...extra,
    '-p', String(to.sshPort),
    shq(`${to.user}@${to.address}`),
    ...(remote === undefined ? [] : [shq(remote)]),
  ].join(' ');
}

/** First number of a command's output (0 if none). */
export function toInt(s: string): number {
  const n = Number.parseInt(s.trim().split(/\s+/)[0] ?? '', 10);
  return Number.isFinite(n) ? n : 0;
}

/** `key value...` lines as a map (the value is the rest of the line). */
export function parseKv(text: string): Map<string, string> {
  return new Map(text.trim().split('\n').map((l) => [l.split(' ')[0], l.split(' ').slice(1).join(' ')] as [string, string]));
}
