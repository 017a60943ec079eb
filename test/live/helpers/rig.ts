/**
 * Test helper around rig.sh: part B's own 3-node namespace rig (cmb-*,
 * 10.77.0.192/28), so the migrate tests can run beside the shared testbed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import http from 'node:http';
import { loadInventory, type Inventory } from '../../../src/live/inventory.ts';

export const RIG_SH = fileURLToPath(new URL('./rig.sh', import.meta.url));

/** Why live tests cannot run here, or null. In CI they must run: the caller fails instead of skipping. */
export function rigUnavailableReason(): string | null {
  if (process.getuid?.() !== 0) return 'not root';
  for (const tool of ['runc', 'criu', 'ip', 'tc', 'nsenter', 'ssh', 'ssh-keygen', 'busybox', 'tar']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed (run scripts/setup-live.sh)`;
  }
  if (!existsSync('/usr/sbin/sshd')) return '/usr/sbin/sshd is not installed (run scripts/setup-live.sh)';
  return null;
}

export function rig(...args: string[]): string {
  return execFileSync('bash', [RIG_SH, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export async function rigUp(state: string, nodes = 3): Promise<Inventory> {
  rig('up', state, String(nodes));
  return loadInventory(`${state}/inventory.yaml`);
}

export function httpGetText(host: string, port: number, path: string, timeoutMs = 1000): Promise<{ status: number; body: string } | null> {
  return new Promise((resolve) => {
    const req = http.get({ host, port, path, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(null));
  });
}

export interface CounterState {
  count: number;
  start: number;
  pid: number;
}

export async function counterState(host: string): Promise<CounterState | null> {
  const r = await httpGetText(host, 8080, '/state');
  const m = r?.body.match(/count=(\d+) start=(\d+) pid=(\d+)/);
  return m ? { count: Number(m[1]), start: Number(m[2]), pid: Number(m[3]) } : null;
}

export async function waitCounter(host: string, timeoutMs = 10_000): Promise<CounterState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await counterState(host);
    if (s) return s;
    if (Date.now() > deadline) throw new Error(`counter at ${host} not answering`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function ppidOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return -1;
  }
}

function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

function allPids(): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
}

/** Kill a rig node's sshd: the listener and every session it forked (the node drops off the network for SSH). */
export function killNodeSshd(state: string, node: string): number[] {
  const listener = Number(readFileSync(`${state}/nodes/${node}/sshd.pid`, 'utf8').trim());
  const victims = [listener, ...allPids().filter((p) => ppidOf(p) === listener)];
  for (const p of victims) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  return victims;
}

/** Pids whose command line contains every one of `parts`. */
export function findPids(...parts: string[]): number[] {
  return allPids().filter((p) => p !== process.pid && parts.every((x) => cmdlineOf(p).includes(x)));
}
