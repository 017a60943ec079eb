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
  // a disk-less dump's page server that never got its dump goes too, and a push prepared
  // before the freeze that was never triggered (its process group: the ssh to the destination too)
  const push = shq(`${dir}/push/pid`);
  return `{ [ -f ${shq(`${dir}/pswork/ps.pid`)} ] && kill -KILL "$(cat ${shq(`${dir}/pswork/ps.pid`)})" 2>/dev/null; }; { [ -f ${push} ] && kill -KILL -- "-$(cat ${push})" 2>/dev/null; }; for m in $(awk -v p=${d}/ 'index($2, p) == 1 {print $2}' /proc/mounts | sort -r); do umount -l "$m" 2>/dev/null; done; rm -rf --one-file-system ${d}`;
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

// ---- post-copy (CRIU lazy pages) and disk-less cold (CRIU page server) ----

/**
 * A shell snippet setting `port` to a TCP port nothing listens on in this network namespace
 * (ports LO..LO+799, from /proc/net/tcp{,6}); exits 1 if none is found.
 */
export function freePortSnippet(lo: number): string {
  return [
    'port=',
    `for _i in $(seq 1 40); do p=$(( ${lo} + RANDOM % 800 ))`,
    '  awk \'$4 == "0A" {print $2}\' /proc/net/tcp /proc/net/tcp6 2>/dev/null | grep -qi ":$(printf %04X "$p")$" || { port=$p; break; }',
    'done',
    '[ -n "$port" ] || { echo "no free TCP port" >&2; exit 1; }',
  ].join('\n');
}

/** Files of a lazy (post-copy) dump on the source, under `<dir>/work`. */
export function lazyDumpFiles(dir: string): { ready: string; rc: string; runcPid: string; err: string; log: string } {
  const w = `${dir}/work`;
  return { ready: `${w}/ready`, rc: `${w}/ckpt.rc`, runcPid: `${w}/runc.pid`, err: `${w}/runc.err`, log: `${w}/dump.log` };
}

/**
 * Source, post-copy: start `runc checkpoint --lazy-pages` in the background (it outlives this
 * command: CRIU keeps the memory and serves it from its page server on `address:$port` until
 * the destination has every page), and return once CRIU says the dump is done (a byte on the
 * status fd) or it failed. Prints `port N` on success.
 */
export function lazyCheckpointCmd(n: InventoryNode, id: string, dir: string, address: string): string {
  const f = lazyDumpFiles(dir);
  const dump = runc(n, `checkpoint --lazy-pages --page-server "${address}:$port" --status-fd 3 --image-path ${shq(`${dir}/img`)} --work-path ${shq(`${dir}/work`)} ${shq(id)}`);
  // the background job: runc's pid for an abort (kill its CRIU), its exit status when it ends
  const job = `${dump} 3>${shq(f.ready)} </dev/null >/dev/null 2>${shq(f.err)} & echo $! > ${shq(f.runcPid)}; wait $!; echo $? > ${shq(`${f.rc}.tmp`)}; mv ${shq(`${f.rc}.tmp`)} ${shq(f.rc)}`;
  return [
    `mkdir -p ${shq(`${dir}/img`)} ${shq(`${dir}/work`)} && : > ${shq(f.ready)}`,
    freePortSnippet(27100),
    `port=$port setsid bash -c ${shq(job)} </dev/null >/dev/null 2>&1 &`,
    `for _i in $(seq 1 6000); do [ -s ${shq(f.ready)} ] && break; [ -e ${shq(f.rc)} ] && break; sleep 0.02; done`,
    `if [ -s ${shq(f.ready)} ]; then echo "port $port"; exit 0; fi`,
    `cat ${shq(f.err)} >&2; exit 1`,
  ].join('\n');
}

/**
 * Source, post-copy: wait until the lazy dump ended (every page served: CRIU then ends the
 * source's copy) and print `rc N` and the lazy bytes CRIU had kept (`lazy_bytes N`).
 */
export function lazyDumpWaitCmd(dir: string, timeoutS: number): string {
  const f = lazyDumpFiles(dir);
  return [
    `for _i in $(seq 1 ${timeoutS * 20}); do [ -e ${shq(f.rc)} ] && break; sleep 0.05; done`,
    `echo "rc $(cat ${shq(f.rc)} 2>/dev/null || echo timeout)"`,
    `echo "lazy_bytes $(grep -o '([0-9]* lazy)' ${shq(f.log)} 2>/dev/null | tr -dc '0-9\\n' | awk '{s += $1} END {print s * 4096}')"`,
  ].join('\n');
}

/**
 * Source, post-copy: end a lazy dump that is still serving (kill runc's CRIU: runc then
 * resumes the container, as a failed dump does) and wait for runc to exit. No-op if it ended.
 */
export function abortLazyDumpCmd(dir: string): string {
  const f = lazyDumpFiles(dir);
  return [
    `if [ -e ${shq(f.runcPid)} ] && [ ! -e ${shq(f.rc)} ]; then`,
    `  pkill -KILL -P "$(cat ${shq(f.runcPid)})" 2>/dev/null`,
    `  for _i in $(seq 1 200); do [ -e ${shq(f.rc)} ] && break; sleep 0.05; done`,
    'fi',
    `cat ${shq(f.rc)} 2>/dev/null || echo none`,
  ].join('\n');
}

/** Files of the destination's lazy-pages daemon, under `<dir>/rwork`. */
export function lazyDaemonFiles(dir: string): { rc: string; log: string; socket: string } {
  const w = `${dir}/rwork`;
  return { rc: `${w}/lazy.rc`, log: `${w}/lazy-pages.log`, socket: `${w}/lazy-pages.socket` };
}

/**
 * The CRIU that runs the destination's lazy-pages daemon: `criu-lazy-pages` where the node has it
 * (scripts/setup-live.sh builds it: CRIU with conmig's lazy-pages patch, which pipelines the
 * background fetch and fetches 64 KiB per fault; docs/migrate.md), else the node's CRIU. Only
 * the daemon uses it: the dumps and restores keep the node's CRIU.
 */
export function lazyDaemonCriu(n: InventoryNode, stock = false): string {
  return stock ? shq(n.criuPath) : `"$(command -v criu-lazy-pages 2>/dev/null || echo ${shq(n.criuPath)})"`;
}

/**
 * Destination, post-copy: start CRIU's lazy-pages daemon (it fetches the pages from the
 * source's page server, on demand and in the background) and restore with --lazy-pages.
 * The daemon runs in a guard job: if it ends with an error before the last page arrived, the
 * container it served is killed at once (missing pages would otherwise read as zeroes).
 */
export function lazyRestoreCmd(n: InventoryNode, id: string, dir: string, bundle: string, srcAddress: string, port: number, opts?: { stockDaemon?: boolean }): string {
  const f = lazyDaemonFiles(dir);
  const w = `${dir}/rwork`;
  const daemon = `${lazyDaemonCriu(n, opts?.stockDaemon === true)} lazy-pages --page-server --address ${shq(srcAddress)} --port ${port} --images-dir ${shq(`${dir}/img`)} --work-dir ${shq(w)} -o lazy-pages.log`;
  const guard = `${daemon} </dev/null >/dev/null 2>&1; rc=$?; if [ $rc != 0 ]; then runc --root ${shq(n.runcRoot)} kill ${shq(id)} KILL >/dev/null 2>&1; ${deleteCmd(n, id)}; fi; echo $rc > ${shq(`${f.rc}.tmp`)}; mv ${shq(`${f.rc}.tmp`)} ${shq(f.rc)}`;
  const restore = runc(n, `restore -d --lazy-pages --image-path ${shq(`${dir}/img`)} --work-path ${shq(w)} --bundle ${shq(bundle)} ${shq(id)}`);
  return [
    `mkdir -p ${shq(w)}`,
    `setsid bash -c ${shq(guard)} </dev/null >/dev/null 2>&1 &`,
    `for _i in $(seq 1 500); do [ -S ${shq(f.socket)} ] && break; [ -e ${shq(f.rc)} ] && break; sleep 0.01; done`,
    `[ -S ${shq(f.socket)} ] || { echo "criu lazy-pages did not start" >&2; tail -n 15 ${shq(f.log)} >&2; exit 1; }`,
    `${restore} </dev/null >/dev/null 2>${shq(`${w}/runc.err`)}`,
  ].join('\n');
}

/** Destination, post-copy: wait for the lazy-pages daemon to end; `rc N` (0: every page arrived). */
export function lazyWaitCmd(dir: string, timeoutS: number): string {
  const f = lazyDaemonFiles(dir);
  return [
    `for _i in $(seq 1 ${timeoutS * 20}); do [ -e ${shq(f.rc)} ] && break; sleep 0.05; done`,
    `rc=$(cat ${shq(f.rc)} 2>/dev/null || echo timeout); echo "rc $rc"`,
    `[ "$rc" = 0 ] || tail -n 15 ${shq(f.log)}`,
  ].join('\n');
}

/**
 * Destination, disk-less cold: start a one-shot `criu page-server` that receives the memory pages into `<dir>/img` while the source dumps.
 * Prints `port N` (the server is listening when this returns).
 */
export function pageServerCmd(n: InventoryNode, dir: string, address: string): string {
  return [
    `mkdir -p ${shq(`${dir}/img`)} ${shq(`${dir}/pswork`)}`,
    'for _t in 1 2 3; do',
    freePortSnippet(27900),
    `  if ${shq(n.criuPath)} page-server -d --images-dir ${shq(`${dir}/img`)} --work-dir ${shq(`${dir}/pswork`)} --address ${shq(address)} --port "$port" --pidfile ${shq(`${dir}/pswork/ps.pid`)} -o page-server.log </dev/null >/dev/null 2>&1; then echo "port $port"; exit 0; fi`,
    'done',
    `tail -n 10 ${shq(`${dir}/pswork/page-server.log`)} >&2; exit 1`,
  ].join('\n');
}

/** Source, disk-less cold: the final dump, memory pages streamed to the destination's page server. */
export function streamCheckpointCmd(n: InventoryNode, id: string, dir: string, dstAddress: string, port: number): string {
  const cmd = runc(n, `checkpoint --page-server ${shq(`${dstAddress}:${port}`)} --image-path ${shq(`${dir}/img`)} --work-path ${shq(`${dir}/work`)} ${shq(id)}`);
  const log = shq(`${dir}/work/dump.log`);
  // the bytes that went to the page server (CRIU's pagemap, 4 KiB pages), for the record
  return `mkdir -p ${shq(`${dir}/img`)} ${shq(`${dir}/work`)} && ${cmd} && echo "page_bytes $(grep -o 'Pagemap generated: [0-9]* pages' ${log} | awk '{s += $3} END {print s * 4096}')"`;
}

/** Destination, disk-less cold: stop a page server that did not get its dump (no-op if it ended). */
export function stopPageServerCmd(dir: string): string {
  const pid = shq(`${dir}/pswork/ps.pid`);
  return `[ -e ${pid} ] && kill -KILL "$(cat ${pid})" 2>/dev/null; true`;
}

// ---- the push prepared before the freeze (node agent) ----

/** Files of a push prepared before the freeze, under `<srcDir>/push` on the source. */
export function preparedPushFiles(srcDir: string): { dir: string; pid: string; trig: string; done: string; rc: string; out: string; err: string } {
  const d = `${srcDir}/push`;
  return { dir: d, pid: `${d}/pid`, trig: `${d}/trig`, done: `${d}/done`, rc: `${d}/rc`, out: `${d}/out`, err: `${d}/err` };
}

/**
 * Source, before the freeze: start the push's pipeline now, so that its ssh session to the
 * destination (a process start on each side; the destination's shell start-up, which reads the
 * root's ~/.bashrc there, ~150 ms on this project's machine) is set up while the container still
 * runs, and the push after the freeze only has to send the bytes. The pipeline waits for one
 * line on `push/trig` (`img`: images and config.json; `all`: the rootfs too); the destination
 * side says `ready` once it runs, and creates nothing but `dstDir` before bytes arrive (the
 * bundle only once config.json came). It ends by itself when the node agent ends (the
 * controller went away: CONMIG_AGENT_PID) or after `maxWaitS` without a trigger, and
 * rmCheckpointDir(srcDir) kills it (its process group). Prints `ready 1` when the destination
 * side runs, `ready 0` when it did not say so within 5 s (the pipeline is used anyway); exits 1
 * if the pipeline already ended (the push then takes the ordinary path).
 */
export function preparePushCmd(from: InventoryNode, to: InventoryNode, ctlSock: string, q: { srcDir: string; dstDir: string; srcRootfs: string; dstBundle: string }, maxWaitS = 600): string {
  const f = preparedPushFiles(q.srcDir);
  // the destination: nothing but dstDir before the bytes come; the bundle only with a config.json
  // `ready` only once dstDir exists: before, a caller that saw it could find no folder (a loaded CI run did)
  const remote = [
    `mkdir -p ${shq(q.dstDir)}`,
    'echo ready',
    `tar -C ${shq(q.dstDir)} -xf -`,
    `[ -f ${shq(`${q.dstDir}/config.json`)} ]`,
    `mkdir -p ${shq(q.dstBundle)}`,
    `{ if [ -d ${shq(`${q.dstDir}/rootfs`)} ]; then rm -rf --one-file-system ${shq(`${q.dstBundle}/rootfs`)} && mv ${shq(`${q.dstDir}/rootfs`)} ${shq(`${q.dstBundle}/rootfs`)}; fi; }`,
    `mv ${shq(`${q.dstDir}/config.json`)} ${shq(`${q.dstBundle}/config.json`)}`,
  ].join(' && ');
  const send = [
    'go=',
    `for ((_i = 0; _i < ${maxWaitS}; _i++)); do`,
    '  IFS= read -r -t 1 go <&3 && break',
    '  [ -z "${CONMIG_AGENT_PID:-}" ] || kill -0 "$CONMIG_AGENT_PID" 2>/dev/null || break',
    'done',
    'case $go in',
    `  img) tar -cf - -C ${shq(q.srcDir)} img config.json ;;`,
    `  all) tar -cf - -C ${shq(q.srcDir)} img config.json -C ${shq(q.srcRootfs)} --transform 's,^\\.,rootfs,' . ;;`,
    '  *) exit 125 ;;',
    'esac',
  ].join('\n');
  const job = [
    'set -o pipefail',
    `exec 3<>${shq(f.trig)}`,
    `{ ${send}\n} 3<&3 | ${transferSsh(from, to, ctlSock, ['-o', 'ControlMaster=no'], remote)} >${shq(f.out)} 2>${shq(f.err)}`,
    'rc=$?',
    `echo $rc > ${shq(`${f.rc}.tmp`)} && mv ${shq(`${f.rc}.tmp`)} ${shq(f.rc)}`,
    // the push waiting for it holds `done` open: the line is not lost
    `printf '%s\\n' $rc 1<>${shq(f.done)}`,
  ].join('\n');
  return [
    `mkdir -p ${shq(f.dir)} && mkfifo ${shq(f.trig)} ${shq(f.done)} || exit 1`,
    `setsid bash --norc --noprofile -c ${shq(job)} </dev/null >/dev/null 2>&1 &`,
    `echo $! > ${shq(f.pid)}`,
    `for _i in $(seq 1 500); do grep -qx ready ${shq(f.out)} 2>/dev/null && { echo "ready 1"; exit 0; }; [ -e ${shq(f.rc)} ] && { cat ${shq(f.err)} >&2; exit 1; }; sleep 0.01; done`,
    'echo "ready 0"',
  ].join('\n');
}

/**
 * Source, after the freeze: the push through the pipeline preparePushCmd started (bash). As the
 * ordinary push (ShellNode.pushCheckpoint): the rootfs goes unless pre-flight found it cached and
 * its fingerprint is unchanged; config.json for that case is written; `img`, `rootfs_bytes`,
 * `send_rootfs` are printed. Prints `prepared 0` and changes nothing when the pipeline is gone
 * (the caller then pushes the ordinary way).
 */
export function preparedPushCmd(q: { srcDir: string; srcRootfs: string; manifest: string; rootfsCached: boolean; configCached: string; configSent: string }): string {
  const f = preparedPushFiles(q.srcDir);
  const b64 = (x: string): string => Buffer.from(x).toString('base64');
  return [
    `pid=$(cat ${shq(f.pid)} 2>/dev/null)`,
    `if [ -z "$pid" ] || [ -e ${shq(f.rc)} ] || ! kill -0 "$pid" 2>/dev/null; then echo "prepared 0"; exit 0; fi`,
    `man=$(${manifestCmd(q.srcRootfs)})`,
    `if [ "$man" = ${shq(q.manifest)} ] && [ ${q.rootfsCached ? 1 : 0} = 1 ]; then send=0; go=img; cfg=${b64(q.configCached)}; else send=1; go=all; cfg=${b64(q.configSent)}; fi`,
    `printf %s "$cfg" | base64 -d > ${shq(`${q.srcDir}/config.json`)} || exit 1`,
    `exec 5<>${shq(f.done)}`,
    `printf '%s\\n' "$go" 1<>${shq(f.trig)}`,
    'echo "prepared 1"; echo "send_rootfs $send"',
    // measured while the bytes go
    `echo "img $(du -sb ${shq(`${q.srcDir}/img`)} | cut -f1)"; echo "rootfs_bytes $(du -sb ${shq(q.srcRootfs)} | cut -f1)"`,
    'rc=',
    'until IFS= read -r -t 1 rc <&5; do kill -0 "$pid" 2>/dev/null || { sleep 0.1; rc=$(cat ' + shq(f.rc) + ' 2>/dev/null || echo 255); break; }; done',
    `[ "$rc" = 0 ] || { tail -c 2000 ${shq(f.err)} >&2; exit $(( rc > 0 && rc < 256 ? rc : 1 )); }`,
  ].join('\n');
}
