/**
 * Kernel side of the local testbed: namespaces, veths, the bridge, addresses and
 * bandwidth shaping with tc (tbf/htb; netem is not available on this kernel).
 * Internal to src/live/testbed.
 */
import { run, tryRun } from './exec.ts';
import { BRIDGE, CONTROLLER_ADDR, PREFIX_LEN, USERS_ADDR, USERS_NETNS, USERS_VETH, hostVeth, nodeAddr, nodeNetns } from './layout.ts';
import type { NodePlan } from './topology.ts';

export async function createBridge(): Promise<void> {
  await run('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
  await run('ip', ['addr', 'add', `${CONTROLLER_ADDR}/${PREFIX_LEN}`, 'dev', BRIDGE]);
  await run('ip', ['link', 'set', BRIDGE, 'up']);
}

/** A namespace with lo up and eth0 (one end of a veth whose other end is on the bridge). */
export async function createNamespace(netns: string, veth: string, addr: string, node?: string): Promise<void> {
  await run('ip', ['netns', 'add', netns], { node });
  await run('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', `${veth}-p`], { node });
  await run('ip', ['link', 'set', `${veth}-p`, 'netns', netns], { node });
  await run('ip', ['link', 'set', veth, 'master', BRIDGE, 'up'], { node });
  await run('ip', ['-n', netns, 'link', 'set', `${veth}-p`, 'name', 'eth0'], { node });
  await run('ip', ['-n', netns, 'addr', 'add', `${addr}/${PREFIX_LEN}`, 'dev', 'eth0'], { node });
  await run('ip', ['-n', netns, 'link', 'set', 'eth0', 'up'], { node });
  await run('ip', ['-n', netns, 'link', 'set', 'lo', 'up'], { node });
}

export async function createUsersNamespace(): Promise<void> {
  await createNamespace(USERS_NETNS, USERS_VETH, USERS_ADDR, 'users');
}

export async function createNodeNamespace(p: NodePlan): Promise<void> {
  await createNamespace(nodeNetns(p.name), hostVeth(p.index), nodeAddr(p.index), p.name);
}

/** Bucket big enough for GSO packets on a veth (64 KiB) and ~5 ms of traffic. */
export function burstBytes(mbps: number): number {
  return Math.max(65536, Math.ceil((mbps * 1e6) / 8 / 200));
}

/** tc argument lists that shape one node (pure, for tests and `status`). */
export function shapingCommands(p: NodePlan, all: readonly NodePlan[]): { netns?: string; args: string[] }[] {
  const ns = nodeNetns(p.name);
  const rate = (m: number): string => `${m}mbit`;
  const cmds: { netns?: string; args: string[] }[] = [
    // toward the node: egress of its bridge port
    { args: ['qdisc', 'replace', 'dev', hostVeth(p.index), 'root', 'tbf', 'rate', rate(p.linkMbps),
      'burst', String(burstBytes(p.linkMbps)), 'latency', '100ms'] },
    // from the node: htb, default class at the link rate, one class per slower destination
    { netns: ns, args: ['qdisc', 'replace', 'dev', 'eth0', 'root', 'handle', '1:', 'htb', 'default', '1'] },
    { netns: ns, args: ['class', 'add', 'dev', 'eth0', 'parent', '1:', 'classid', '1:1', 'htb', 'rate', rate(p.linkMbps),
      'ceil', rate(p.linkMbps), 'burst', String(burstBytes(p.linkMbps)), 'cburst', String(burstBytes(p.linkMbps)), 'quantum', '60000'] },
  ];
  for (const [dest, mbps] of Object.entries(p.perDestinationMbps)) {
    const d = all.find((x) => x.name === dest);
    if (!d) continue;
    const cls = `1:${100 + d.index}`;
    cmds.push({ netns: ns, args: ['class', 'add', 'dev', 'eth0', 'parent', '1:', 'classid', cls, 'htb', 'rate', rate(mbps),
      'ceil', rate(mbps), 'burst', String(burstBytes(mbps)), 'cburst', String(burstBytes(mbps)), 'quantum', '60000'] });
    cmds.push({ netns: ns, args: ['filter', 'add', 'dev', 'eth0', 'parent', '1:', 'protocol', 'ip', 'prio', '1', 'u32',
      'match', 'ip', 'dst', `${nodeAddr(d.index)}/32`, 'flowid', cls] });
  }
  return cmds;
}

export async function shapeNode(p: NodePlan, all: readonly NodePlan[]): Promise<void> {
  for (const c of shapingCommands(p, all)) await run('tc', c.args, { netns: c.netns, node: p.name });
}

export async function listNamespaces(): Promise<string[]> {
  const r = await tryRun('ip', ['netns', 'list']);
  return r.stdout.split('\n').map((l) => l.split(' ')[0]).filter((n) => n.startsWith('cm-'));
}

export async function listLinks(): Promise<string[]> {
  const r = await tryRun('ip', ['-o', 'link', 'show']);
  return r.stdout
    .split('\n')
    .map((l) => l.split(':')[1]?.trim().split('@')[0] ?? '')
    .filter((n) => n.startsWith('cm-'));
}
