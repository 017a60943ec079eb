/**
 * Naming and addressing of the local testbed (pure; no I/O). Everything the
 * testbed creates in the kernel starts with `cm-`, so `clean` can find it
 * after a crash without any state file.
 *
 *   bridge  cm-br0           10.77.0.1/24 in the root namespace (the controller)
 *   users   netns cm-users   10.77.0.2/24, veth cm-hu <-> eth0   (relay + emulated users)
 *   node i  netns cm-<name>  10.77.0.(10+i)/24, veth cm-h<i> <-> eth0, sshd on :22
 *
 * State directory (default /var/lib/conmig/testbed):
 *   inventory.yaml, testbed.json (what up built), relay.json, relay.sock, relay.pid, logs/
 *   ssh/controller_ed25519{,.pub}, ssh/known_hosts, ssh/authorized_keys
 *   nodes/<name>/  = node workDir: sshd/ (config, host key, pid), .ssh/ (transfer key,
 *                    known_hosts), runc/ (runc --root), images/<image>/, bundles/<c>/,
 *                    checkpoints/
 */
import { join } from 'node:path';

export const PREFIX = 'cm-';
export const BRIDGE = 'cm-br0';
export const SUBNET_PREFIX = '10.77.0';
export const PREFIX_LEN = 24;
export const CONTROLLER_ADDR = `${SUBNET_PREFIX}.1`;
export const USERS_NETNS = 'cm-users';
export const USERS_ADDR = `${SUBNET_PREFIX}.2`;
export const USERS_VETH = 'cm-hu';
export const RELAY_BASE_PORT = 18000;
export const MAX_NODES = 200;
export const DEFAULT_STATE_DIR = '/var/lib/conmig/testbed';
export const DEFAULT_IMAGES_DIR = '/var/lib/conmig/images';

export function nodeNetns(name: string): string {
  return `${PREFIX}${name}`;
}
export function nodeAddr(index1: number): string {
  return `${SUBNET_PREFIX}.${10 + index1}`;
}
export function hostVeth(index1: number): string {
  return `cm-h${index1}`;
}
export function relayPort(index1: number): number {
  return RELAY_BASE_PORT + index1;
}

export interface NodePaths {
  workDir: string;
  sshdDir: string;
  sshdConfig: string;
  hostKey: string;
  sshdPid: string;
  sshdLog: string;
  transferDir: string;
  transferKey: string;
  transferKnownHosts: string;
  runcRoot: string;
  imagesDir: string;
  bundlesDir: string;
  checkpointsDir: string;
}

export function nodePaths(stateDir: string, name: string): NodePaths {
  const workDir = join(stateDir, 'nodes', name);
  const sshdDir = join(workDir, 'sshd');
  const transferDir = join(workDir, '.ssh');
  return {
    workDir,
    sshdDir,
    sshdConfig: join(sshdDir, 'sshd_config'),
    hostKey: join(sshdDir, 'ssh_host_ed25519_key'),
    sshdPid: join(sshdDir, 'sshd.pid'),
    sshdLog: join(sshdDir, 'sshd.log'),
    transferDir,
    transferKey: join(transferDir, 'id_ed25519'),
    transferKnownHosts: join(transferDir, 'known_hosts'),
    runcRoot: join(workDir, 'runc'),
    imagesDir: join(workDir, 'images'),
    bundlesDir: join(workDir, 'bundles'),
    checkpointsDir: join(workDir, 'checkpoints'),
  };
}

export interface StatePaths {
  stateDir: string;
  inventory: string;
  testbedJson: string;
  sshDir: string;
  controllerKey: string;
  knownHosts: string;
  authorizedKeys: string;
  relayJson: string;
  relaySock: string;
  relayPid: string;
  relayLog: string;
  logsDir: string;
}

export function statePaths(stateDir: string): StatePaths {
  const sshDir = join(stateDir, 'ssh');
  const logsDir = join(stateDir, 'logs');
  return {
    stateDir,
    inventory: join(stateDir, 'inventory.yaml'),
    testbedJson: join(stateDir, 'testbed.json'),
    sshDir,
    controllerKey: join(sshDir, 'controller_ed25519'),
    knownHosts: join(sshDir, 'known_hosts'),
    authorizedKeys: join(sshDir, 'authorized_keys'),
    relayJson: join(stateDir, 'relay.json'),
    relaySock: join(stateDir, 'relay.sock'),
    relayPid: join(stateDir, 'relay.pid'),
    relayLog: join(logsDir, 'relay.log'),
    logsDir,
  };
}
