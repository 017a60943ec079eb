/**
 * NodeExec over SSH (ssh2). One connection per node, opened on first use and
 * reused by every command until close(). Host keys are verified against the
 * inventory's known_hosts; an unknown or changed key is HOSTKEY_MISMATCH
 * naming the node, never ignored.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import ssh2, { Client, type ClientChannel } from 'ssh2';

// ssh2 is CommonJS: Node's ES-module loader finds `Client` among its named exports but not
// `utils` (vitest's interop does, which hid it); the default export has both.
const { utils } = ssh2;
import { ConmigError } from '../../model/errors.ts';
import { parseKnownHosts, verifyHostKey, type HostKeyVerdict, type KnownHostEntry } from './known-hosts.ts';
import { shq, type ExecPipe, type ExecResult, type NodeExec, type RunOptions, type RunningCommand, type StreamOptions } from './types.ts';

export interface SshTarget {
  node: string;
  host: string;
  port: number;
  user: string;
  /** Path of the private key (controller side). */
  keyFile: string;
  /** Where keyFile was given, for messages: e.g. `inventory /x/inventory.yaml, controller.sshKey`. */
  keySource?: string;
  /** Path of the known_hosts file (controller side). */
  knownHostsFile: string;
  connectTimeoutMs?: number;
}

export class SshNodeExec implements NodeExec {
  readonly node: string;
  private readonly target: SshTarget;
  private client: Client | null = null;
  private connecting: Promise<Client> | null = null;
  private readonly open = new Set<ClientChannel>();

  constructor(target: SshTarget) {
    this.node = target.node;
    this.target = target;
  }

  private connect(): Promise<Client> {
    if (this.client) return Promise.resolve(this.client);
    if (this.connecting) return this.connecting;
    const t = this.target;
    let entries: KnownHostEntry[];
    let privateKey: Buffer;
    try {
      entries = parseKnownHosts(readFileSync(t.knownHostsFile, 'utf8'));
    } catch (e) {
      return Promise.reject(
        new ConmigError('HOSTKEY_MISMATCH', `cannot read known_hosts ${t.knownHostsFile} to verify ${t.node}`, {
          context: { node: t.node, file: t.knownHostsFile },
          cause: e,
        }),
      );
    }
    try {
      privateKey = readFileSync(t.keyFile);
    } catch (e) {
      return Promise.reject(
        new ConmigError('NODE_UNREACHABLE', `cannot read SSH key ${t.keyFile} for ${t.node}`, {
          context: { node: t.node, file: t.keyFile },
          cause: e,
        }),
      );
    }
    // Checked here, not left to ssh2 (whose parse error ends as an internal error).
    const parsed = utils.parseKey(privateKey);
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    if (key instanceof Error || !key || !key.isPrivateKey()) {
      const why = key instanceof Error ? key.message : 'it is a public key';
      const where = t.keySource ?? 'controller.sshKey';
      return Promise.reject(
        new ConmigError('INVENTORY_INVALID', `${where}: ${t.keyFile} is not a private SSH key (${why}); it is needed to reach node ${t.node}`, {
          context: { node: t.node, field: 'controller.sshKey', file: t.keyFile },
        }),
      );
    }
    this.connecting = new Promise<Client>((resolve, reject) => {
      const c = new Client();
      let verdict: HostKeyVerdict = 'ok';
      let settled = false;
      c.on('ready', () => {
        settled = true;
        this.client = c;
        this.connecting = null;
        resolve(c);
      });
      c.on('error', (err: Error) => {
        this.connecting = null;
        if (settled) return; // reported to the running commands by their channels
        settled = true;
        if (verdict !== 'ok') {
          reject(
            new ConmigError(
              'HOSTKEY_MISMATCH',
              `host key of ${t.node} (${t.host}:${t.port}) is ${verdict === 'unknown' ? 'not in' : `${verdict} against`} ${t.knownHostsFile}; refusing to connect`,
              { context: { node: t.node, address: `${t.host}:${t.port}`, knownHosts: t.knownHostsFile, verdict } },
            ),
          );
        } else {
          reject(
            new ConmigError('NODE_UNREACHABLE', `cannot reach ${t.node} at ${t.host}:${t.port} over SSH: ${err.message}`, {
              context: { node: t.node, address: `${t.host}:${t.port}`, sshError: err.message },
              cause: err,
            }),
          );
        }
      });
      c.on('close', () => {
        if (this.client === c) this.client = null;
      });
      c.connect({
        host: t.host,
        port: t.port,
        username: t.user,
        privateKey,
        readyTimeout: t.connectTimeoutMs ?? 8000,
        keepaliveInterval: 2000,
        keepaliveCountMax: 3,
        hostVerifier: (key: Buffer) => {
          verdict = verifyHostKey(entries, t.host, t.port, key);
          return verdict === 'ok';
        },
      });
    });
    return this.connecting;
  }

  /** Connect now (pre-flight); throws NODE_UNREACHABLE / HOSTKEY_MISMATCH. */
  async ensureConnected(): Promise<void> {
    await this.connect();
  }

  run(cmd: string, opts: RunOptions = {}): Promise<ExecResult> {
    return this.stream(cmd, opts).done;
  }

  stream(cmd: string, opts: StreamOptions = {}): RunningCommand {
    let channel: ClientChannel | null = null;
    let killed = false;
    const t0 = performance.now();
    const done = (async (): Promise<ExecResult> => {
      const client = await this.connect();
      // OpenSSH ignores channel signals: the node enforces the timeout itself.
      const remote =
        opts.timeoutMs === undefined
          ? cmd
          : `timeout -s KILL ${Math.max(1, Math.ceil(opts.timeoutMs / 1000))} sh -c ${shq(cmd)}`;
      return await new Promise<ExecResult>((resolve, reject) => {
        client.exec(remote, (err, ch) => {
          if (err) {
            reject(
              new ConmigError('NODE_UNREACHABLE', `cannot run a command on ${this.node}: ${err.message}`, {
                context: { node: this.node, command: cmd, sshError: err.message },
                cause: err,
              }),
            );
            return;
          }
          channel = ch;
          this.open.add(ch);
          if (killed) ch.close();
          const out: Buffer[] = [];
          const errb: Buffer[] = [];
          let code: number | null = null;
          let timedOut = false;
          const timer =
            opts.timeoutMs === undefined
              ? null
              : setTimeout(() => {
                  timedOut = true;
                  ch.close();
                  this.open.delete(ch);
                  resolve({
                    code: -1,
                    stdout: Buffer.concat(out).toString('utf8'),
                    stderr: `${Buffer.concat(errb).toString('utf8')}\n(timed out after ${opts.timeoutMs} ms)`,
                    wallMs: performance.now() - t0,
                  });
                }, opts.timeoutMs);
          ch.on('data', (d: Buffer) => {
            out.push(d);
            opts.onStdout?.(d);
          });
          ch.stderr.on('data', (d: Buffer) => {
            errb.push(d);
            opts.onStderr?.(d);
          });
          ch.on('exit', (c: number | null) => {
            code = c;
          });
          ch.on('close', () => {
            if (timer) clearTimeout(timer);
            this.open.delete(ch);
            const stdout = Buffer.concat(out).toString('utf8');
            const stderr = Buffer.concat(errb).toString('utf8');
            const wallMs = performance.now() - t0;
            if (code === null && !killed && !timedOut) {
              // the connection went away under the command
              reject(
                new ConmigError('NODE_UNREACHABLE', `lost the SSH connection to ${this.node} while running a command`, {
                  context: { node: this.node, command: cmd, stderr: stderr.slice(-2000) },
                }),
              );
              return;
            }
            resolve({
              code: code ?? -1,
              stdout,
              stderr: timedOut ? `${stderr}\n(timed out after ${opts.timeoutMs} ms)` : stderr,
              wallMs,
            });
          });
          if (opts.stdin !== undefined) ch.end(opts.stdin);
          else ch.end();
        });
      });
    })();
    return {
      done,
      kill: () => {
        killed = true;
        if (channel) {
          channel.signal('KILL');
          channel.close();
        }
      },
    };
  }

  /** A long-lived command on the node with its streams open over one channel (the node agent). */
  async openPipe(cmd: string): Promise<ExecPipe> {
    const client = await this.connect();
    const ch = await new Promise<ClientChannel>((resolve, reject) =>
      client.exec(cmd, (err, c) =>
        err
          ? reject(
              new ConmigError('NODE_UNREACHABLE', `cannot start a command on ${this.node}: ${err.message}`, {
                context: { node: this.node, sshError: err.message },
                cause: err,
              }),
            )
          : resolve(c),
      ),
    );
    this.open.add(ch);
    let code: number | null = null;
    let closed = false;
    const closeCbs: Array<(code: number | null) => void> = [];
    const ended = (): void => {
      if (closed) return;
      closed = true;
      for (const cb of closeCbs) cb(code);
    };
    // its exit (commands it started may keep the channel's streams open), or the channel's end
    ch.on('exit', (c: number | null) => {
      code = c;
      ended();
    });
    ch.on('close', () => {
      this.open.delete(ch);
      ended();
    });
    return {
      write: (b) => {
        if (!closed) ch.write(b);
      },
      end: () => {
        if (!closed) ch.end();
      },
      onStdout: (cb) => ch.on('data', cb),
      onStderr: (cb) => ch.stderr.on('data', cb),
      onClose: (cb) => closeCbs.push(cb),
      kill: () => {
        ch.signal('KILL');
        ch.close();
      },
    };
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = null;
    if (c) c.end();
  }
}
