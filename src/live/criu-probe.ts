/**
 * What CRIU can do on a node, probed over the node's exec (cached per
 * command by the caller: one probe per node per `conmig migrate`).
 *
 *   cold      needs `criu check` to pass
 *   precopy   also needs memory dirty tracking (`criu check --feature mem_dirty_track`,
 *             i.e. CONFIG_MEM_SOFT_DIRTY); off on this project's 6.18 kernels
 *   postcopy  also needs userfaultfd (`criu check --feature uffd-noncoop`, `uffd`), and
 *             pipes of 4 MiB for CRIU's lazy page server: /proc/sys/fs/pipe-max-size >= 4 MiB
 *             or CAP_SYS_RESOURCE in the bounding set. Without either, CRIU's F_SETPIPE_SZ
 *             fails, CRIU ignores it, and its page server later dies in splice() with "Bad
 *             file descriptor" at the first page the destination asks for (docs/migrate.md).
 */
import { ConmigError } from '../model/errors.ts';
import type { MigrationMode } from '../model/types.ts';
import { shq, tail, type NodeExec } from './exec/types.ts';

/** Pipe size CRIU's lazy page server asks for (PIPE_MAX_SIZE pages, rounded up to 4 MiB). */
export const LAZY_PIPE_BYTES = 4 * 1024 * 1024;
const CAP_SYS_RESOURCE = 24n;

export interface CriuProbe {
  node: string;
  /** `criu --version` first line ('' if criu did not run). */
  criuVersion: string;
  kernel: string;
  /** `criu check` passed. */
  checkOk: boolean;
  checkOutput: string;
  memDirtyTrack: boolean;
  uffd: boolean;
  uffdNoncoop: boolean;
  /** /proc/sys/fs/pipe-max-size (undefined: not probed). */
  pipeMaxBytes?: number;
  /** CAP_SYS_RESOURCE is in the bounding set (then pipe-max-size does not bind CRIU). */
  capSysResource?: boolean;
  /** Output of the feature checks that failed, for messages. */
  failures: Record<string, string>;
}

const MARK = '@@conmig@@';

/** Probe one node with a single SSH command (four criu calls). */
export async function probeCriu(exec: NodeExec, criu: string): Promise<CriuProbe> {
  const c = shq(criu);
  const parts: Array<[string, string]> = [
    ['version', `${c} --version 2>&1`],
    ['kernel', 'uname -r'],
    ['check', `${c} check 2>&1`],
    ['dirty', `${c} check --feature mem_dirty_track 2>&1`],
    ['uffd', `${c} check --feature uffd 2>&1`],
    ['uffdnc', `${c} check --feature uffd-noncoop 2>&1`],
    ['pipe', 'cat /proc/sys/fs/pipe-max-size'],
    ['capbnd', "awk '/^CapBnd:/ {print $2}' /proc/self/status"],
  ];
  const script = parts.map(([k, cmd]) => `${cmd}; echo "${MARK} ${k} $?"`).join('\n');
  const r = await exec.run(script, { timeoutMs: 60_000 });
  const out = new Map<string, { code: number; text: string }>();
  let buf: string[] = [];
  for (const line of r.stdout.split('\n')) {
    const m = line.match(new RegExp(`^${MARK} (\\w+) (\\d+)$`));
    if (m) {
      out.set(m[1], { code: Number(m[2]), text: buf.join('\n').trim() });
      buf = [];
    } else buf.push(line);
  }
  const get = (k: string): { code: number; text: string } => out.get(k) ?? { code: 127, text: r.stderr.trim() };
  const failures: Record<string, string> = {};
  const feature = (k: string, name: string): boolean => {
    const x = get(k);
    const ok = x.code === 0 && !/not supported|is OFF|missing/i.test(x.text);
    if (!ok) failures[name] = tail(x.text, 4);
    return ok;
  };
  const pipe = get('pipe');
  const capbnd = get('capbnd');
  const pipeMaxBytes = pipe.code === 0 && /^\d+$/.test(pipe.text) ? Number(pipe.text) : undefined;
  const capSysResource = capbnd.code === 0 && /^[0-9a-f]+$/i.test(capbnd.text) ? ((BigInt(`0x${capbnd.text}`) >> CAP_SYS_RESOURCE) & 1n) === 1n : undefined;
  const check = get('check');
  const checkOk = check.code === 0 && /Looks good/i.test(check.text);
  if (!checkOk) failures.check = tail(check.text, 6);
  return {
    node: exec.node,
    criuVersion: get('version').code === 0 ? (get('version').text.split('\n')[0] ?? '') : '',
    kernel: get('kernel').text,
    checkOk,
    checkOutput: check.text,
    memDirtyTrack: feature('dirty', 'mem_dirty_track'),
    uffd: feature('uffd', 'uffd'),
    uffdNoncoop: feature('uffdnc', 'uffd-noncoop'),
    ...(pipeMaxBytes === undefined ? {} : { pipeMaxBytes }),
    ...(capSysResource === undefined ? {} : { capSysResource }),
    failures,
  };
}

/** Modes this node can do, by its probe. */
export function supportedModes(p: CriuProbe): MigrationMode[] {
  if (!p.checkOk) return [];
  const m: MigrationMode[] = ['cold'];
  if (p.memDirtyTrack) m.push('precopy');
  if (p.uffd && p.uffdNoncoop && lazyPipesOk(p)) m.push('postcopy');
  return m;
}

/** Why `mode` cannot run on this node, or null if it can. */
export function modeRefusal(mode: MigrationMode, p: CriuProbe): string | null {
  if (!p.criuVersion) return `CRIU does not run on ${p.node} (${p.failures.check ?? 'no output'})`;
  if (!p.checkOk) return `\`criu check\` fails on ${p.node} (kernel ${p.kernel}): ${p.failures.check ?? ''}`.trim();
  if (mode === 'precopy' && !p.memDirtyTrack) {
    return `pre-copy needs memory dirty tracking (soft-dirty), which ${p.node}'s kernel ${p.kernel} lacks; use --mode cold or postcopy`;
  }
  if (mode === 'postcopy' && !(p.uffd && p.uffdNoncoop)) {
    return `post-copy needs userfaultfd (criu check --feature uffd/uffd-noncoop), which ${p.node}'s kernel ${p.kernel} lacks; use --mode cold`;
  }
  if (mode === 'postcopy' && !lazyPipesOk(p)) {
    return (
      `post-copy needs 4 MiB pipes for CRIU's lazy page server: ${p.node} has fs.pipe-max-size ${p.pipeMaxBytes} and no CAP_SYS_RESOURCE, ` +
      `so CRIU's page server would fail at the first page ("page-pipe: splice: Bad file descriptor"); run \`sysctl -w fs.pipe-max-size=${LAZY_PIPE_BYTES}\` on ${p.node} ` +
      '(scripts/setup-live.sh does) or use --mode cold'
    );
  }
  return null;
}

/** CRIU's lazy page server can size its pipes (unknown counts as yes: older probes did not look). */
export function lazyPipesOk(p: CriuProbe): boolean {
  return p.capSysResource === true || p.pipeMaxBytes === undefined || p.pipeMaxBytes >= LAZY_PIPE_BYTES;
}

/** Throw MODE_UNSUPPORTED if any node cannot do `mode`. */
export function assertModeSupported(mode: MigrationMode, probes: readonly CriuProbe[]): void {
  for (const p of probes) {
    const why = modeRefusal(mode, p);
    if (why) {
      throw new ConmigError('MODE_UNSUPPORTED', why, {
        context: { node: p.node, mode, kernel: p.kernel, criu: p.criuVersion, supported: supportedModes(p).join(', ') || 'none' },
      });
    }
  }
}
