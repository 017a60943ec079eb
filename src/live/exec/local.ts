/**
 * NodeExec on this machine (for tests, and for a controller that is itself a
 * node): `sh -c CMD`, optionally inside a network namespace with
 * `nsenter --net=/run/netns/NS` (never `ip netns exec`, which remounts /sys).
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { ConmigError } from '../../model/errors.ts';
import type { ExecPipe, ExecResult, NodeExec, RunOptions, RunningCommand, StreamOptions } from './types.ts';

export class LocalExec implements NodeExec {
  readonly node: string;
  private readonly netns: string | undefined;

  constructor(node = 'local', opts: { netns?: string } = {}) {
    this.node = node;
    this.netns = opts.netns;
  }

  run(cmd: string, opts: RunOptions = {}): Promise<ExecResult> {
    return this.stream(cmd, opts).done;
  }

  stream(cmd: string, opts: StreamOptions = {}): RunningCommand {
    const argv = this.netns ? ['nsenter', `--net=/run/netns/${this.netns}`, 'sh', '-c', cmd] : ['sh', '-c', cmd];
    const t0 = performance.now();
    const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let timedOut = false;
    const killGroup = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    };
    const timer =
      opts.timeoutMs === undefined
        ? null
        : setTimeout(() => {
            timedOut = true;
            killGroup();
          }, opts.timeoutMs);
    const done = new Promise<ExecResult>((resolve, reject) => {
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (d: Buffer) => {
        out.push(d);
        opts.onStdout?.(d);
      });
      child.stderr.on('data', (d: Buffer) => {
        err.push(d);
        opts.onStderr?.(d);
      });
      child.on('error', (e) =>
        reject(new ConmigError('COMMAND_FAILED', `cannot start ${argv[0]} on ${this.node}: ${e.message}`, { context: { node: this.node, command: cmd }, cause: e })),
      );
      child.on('close', (code) => {
        if (timer) clearTimeout(timer);
        const stderr = Buffer.concat(err).toString('utf8');
        resolve({
          code: code ?? -1,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: timedOut ? `${stderr}\n(timed out after ${opts.timeoutMs} ms)` : stderr,
          wallMs: performance.now() - t0,
        });
      });
      child.stdin.on('error', () => {
        /* the command did not read its input */
      });
      if (opts.stdin !== undefined) child.stdin.end(opts.stdin);
      else child.stdin.end();
    });
    return { done, kill: killGroup };
  }

  /** A long-lived `bash -c CMD` with its streams open (the node agent's channel, in tests). */
  openPipe(cmd: string): Promise<ExecPipe> {
    const argv = this.netns ? ['nsenter', `--net=/run/netns/${this.netns}`, 'bash', '-c', cmd] : ['bash', '-c', cmd];
    const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.on('error', () => {
      /* it ended: its close reports that */
    });
    let closed = false;
    const closeCbs: Array<(code: number | null) => void> = [];
    // its exit, not the end of its streams: commands it started may hold those open
    child.on('exit', (code) => {
      if (closed) return;
      closed = true;
      for (const cb of closeCbs) cb(code);
    });
    child.on('error', () => {
      if (!closed) for (const cb of closeCbs) cb(null);
      closed = true;
    });
    return Promise.resolve({
      write: (b) => {
        if (!closed) child.stdin.write(b);
      },
      end: () => child.stdin.end(),
      onStdout: (cb) => child.stdout.on('data', cb),
      onStderr: (cb) => child.stderr.on('data', cb),
      onClose: (cb) => closeCbs.push(cb),
      kill: () => child.kill('SIGKILL'),
    });
  }

  async close(): Promise<void> {}
}
