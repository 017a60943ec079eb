/**
 * SSH for the local testbed: per-node host keys, a fresh controller key,
 * node-to-node transfer keys, known_hosts built from the host public keys (so
 * clients verify host keys: StrictHostKeyChecking=yes), and one sshd per node
 * started inside the node's network namespace with
 *   nsenter --net=/run/netns/<ns> /usr/sbin/sshd -f <config> -o ListenAddress=<addr> -o PidFile=<pid>
 * (not `ip netns exec`, which remounts /sys and hides the cgroup files runc needs).
 * Internal to src/live/testbed.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { ConmigError } from '../../model/errors.ts';
import { run } from './exec.ts';
import type { NodePaths } from './layout.ts';

export const SSHD = '/usr/sbin/sshd';

export async function genKey(file: string, comment: string): Promise<string> {
  await rm(file, { force: true });
  await rm(`${file}.pub`, { force: true });
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
  return (await readFile(`${file}.pub`, 'utf8')).trim();
}

export function sshdConfig(p: NodePaths, authorizedKeys: string): string {
  return [
    '# conmig testbed node sshd (ListenAddress and PidFile are given with -o)',
    'Port 22',
    `HostKey ${p.hostKey}`,
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    // the state dir may live under /tmp (world-writable parents)
    'StrictModes no',
    `AuthorizedKeysFile ${authorizedKeys}`,
    'SetEnv PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    'MaxStartups 100:30:200',
    'MaxSessions 100',
    'UseDNS no',
    'Subsystem sftp internal-sftp',
    'LogLevel INFO',
    '',
  ].join('\n');
}

/**
 * Start the node's sshd. With `cgroupProcs` (the node's services leaf) it starts
 * inside that cgroup, so the daemon and every session it forks (the migration's
 * runc, CRIU and tar) run within the node's CPU limit from the first instruction.
 */
export async function startSshd(p: NodePaths, netns: string, addr: string, node: string, cgroupProcs?: string): Promise<void> {
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  await run('nsenter', [`--net=/run/netns/${netns}`, SSHD, '-t', '-f', p.sshdConfig], { node });
  const argv = ['nsenter', `--net=/run/netns/${netns}`, SSHD, '-f', p.sshdConfig, '-o', `ListenAddress=${addr}`,
    '-o', `PidFile=${p.sshdPid}`, '-E', p.sshdLog];
  if (cgroupProcs === undefined) await run(argv[0], argv.slice(1), { node });
  else await run('sh', ['-c', 'echo $$ > "$0" && exec "$@"', cgroupProcs, ...argv], { node });
}

/** Wait until host:port accepts TCP connections (from the calling namespace). */
export async function waitTcp(host: string, port: number, timeoutMs: number, node?: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ host, port });
      const t = setTimeout(() => { s.destroy(); resolve(false); }, 500);
      s.once('connect', () => { clearTimeout(t); s.destroy(); resolve(true); });
      s.once('error', () => { clearTimeout(t); resolve(false); });
    });
    if (ok) return;
    if (Date.now() > deadline) {
      throw new ConmigError('TESTBED_FAILED', `${host}:${port} did not accept connections within ${timeoutMs} ms`, {
        context: { node, address: `${host}:${port}` },
      });
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** known_hosts line for a node: names it by inventory name and address. */
export async function knownHostsLine(p: NodePaths, name: string, addr: string): Promise<string> {
  const pub = (await readFile(`${p.hostKey}.pub`, 'utf8')).trim().split(' ');
  return `${addr},${name} ${pub[0]} ${pub[1]}`;
}

export async function writeSecret(file: string, text: string): Promise<void> {
  await writeFile(file, text, { mode: 0o600 });
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function readPid(file: string): Promise<number | undefined> {
  if (!existsSync(file)) return undefined;
  const n = Number((await readFile(file, 'utf8')).trim());
  return Number.isInteger(n) && n > 0 ? n : undefined;
}
