/**
 * What CRIU can do on a node, probed over the node's exec (cached per
 * command by the caller: one probe per node per `conmig migrate`).
 *
 *   cold      needs `criu check` to pass
 *   precopy   also needs memory dirty tracking (`criu check --feature mem_dirty_track`,
 *             i.e. CONFIG_MEM_SOFT_DIRTY); off on this project's 6.18 kernels
 *   postcopy  also needs userfaultfd (`criu check --feature uffd-noncoop`, `uffd`)
 */
import { ConmigError } from '../model/errors.ts';
import type { MigrationMode } from '../model/types.ts';
import { shq, tail, type NodeExec } from './exec/types.ts';

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
    failures,
  };
}

/** Modes this node can do, by its probe. */
export function supportedModes(p: CriuProbe): MigrationMode[] {
  if (!p.checkOk) return [];
  const m: MigrationMode[] = ['cold'];
  if (p.memDirtyTrack) m.push('precopy');
  if (p.uffd && p.uffdNoncoop) m.push('postcopy');
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
  return null;
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
