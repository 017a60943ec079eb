/**
 * OCI bundle configs for the workload containers.
 *
 * Each node has the images under `<imagesDir>/<image>/rootfs` (the same content
 * on every node, like a pre-pulled image) and a bundle per container under
 * `<bundlesDir>/<container>/config.json` whose `root.path` points at the node's
 * image rootfs and whose network namespace is the node's.
 *
 * For `conmig migrate`: before `runc restore` at the destination, write the
 * destination's bundle with
 *   bundleConfigForNode(sourceConfigJson, '/run/netns/<dest netns>', { rootfsPath: '<dest imagesDir>/<image>/rootfs' })
 * (the one-line change is the `network` namespace `path`; on ORBIT, where each
 * node has its own network stack, drop the path instead: `netnsPath: null`;
 * on a node with a CPU-limited cgroup parent, `cgroupsPath: '<parent>/<container>'`).
 * Containers must run with stdio on /dev/null: CRIU cannot dump a container whose
 * stdout is a file on the host.
 */

import { ConmigError } from '../../model/errors.ts';

export interface ImageSpec {
  image: string;
  args: string[];
  port: number;
  env: string[];
}

interface Namespace {
  type: string;
  path?: string;
}

interface OciConfig {
  ociVersion: string;
  process: { terminal: boolean; user: { uid: number; gid: number }; args: string[]; env: string[]; cwd: string;
    noNewPrivileges?: boolean; capabilities?: Record<string, string[]>; rlimits?: unknown[] };
  root: { path: string; readonly: boolean };
  hostname: string;
  mounts: unknown[];
  linux: { namespaces: Namespace[]; cgroupsPath?: string; maskedPaths?: string[]; readonlyPaths?: string[] } & Record<string, unknown>;
  [k: string]: unknown;
}

const CAPS = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_AUDIT_WRITE'];

/** A runc config (like `runc spec`, terminal off, writable rootfs) for one container on one node. */
export function makeBundleConfig(opts: {
  image: ImageSpec;
  container: string;
  rootfsPath: string;
  netnsPath: string | null;
  args?: string[];
}): OciConfig {
  const namespaces: Namespace[] = [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }];
  namespaces.push(opts.netnsPath ? { type: 'network', path: opts.netnsPath } : { type: 'network' });
  return {
    ociVersion: '1.0.2-dev',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: opts.args ?? opts.image.args,
      env: opts.image.env,
      cwd: '/',
      noNewPrivileges: true,
      capabilities: { bounding: CAPS, effective: CAPS, permitted: CAPS },
    },
    root: { path: opts.rootfsPath, readonly: false },
    hostname: opts.container,
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts',
        options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    ],
    linux: {
      namespaces,
      maskedPaths: ['/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
        '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

/**
 * Rewrite a container's config.json (text) for another node: set the network
 * namespace path (or remove it for `null`), and optionally the rootfs path and
 * the cgroup (`cgroupsPath`: a path puts the container there, e.g. under the
 * destination node's CPU-limited parent; `null` removes it, runc's default;
 * absent keeps it). Returns the new JSON text; everything else is kept as it
 * was, which CRIU needs.
 */
export function bundleConfigForNode(configJson: string, netnsPath: string | null,
  opts: { rootfsPath?: string; cgroupsPath?: string | null } = {}): string {
  const cfg = JSON.parse(configJson) as OciConfig;
  const ns = cfg.linux?.namespaces;
  if (!Array.isArray(ns)) throw new ConmigError('MIGRATION_FAILED', 'container config.json has no linux.namespaces');
  const net = ns.find((n) => n.type === 'network');
  if (net) {
    if (netnsPath) net.path = netnsPath;
    else delete net.path;
  } else if (netnsPath) ns.push({ type: 'network', path: netnsPath });
  if (opts.rootfsPath) cfg.root.path = opts.rootfsPath;
  if (opts.cgroupsPath === null) delete cfg.linux.cgroupsPath;
  else if (opts.cgroupsPath !== undefined) cfg.linux.cgroupsPath = opts.cgroupsPath;
  return JSON.stringify(cfg, null, 2) + '\n';
}
