export * from './types.ts';
export { SshNodeExec, type SshTarget } from './ssh.ts';
export { LocalExec } from './local.ts';
export { SshExecPool, type ExecPool } from './pool.ts';
export { parseKnownHosts, verifyHostKey, hostKeyName, type HostKeyVerdict } from './known-hosts.ts';
