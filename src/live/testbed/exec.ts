/**
 * The one exec primitive of the local testbed (like Mininet's `cmd`): run a
 * program without a shell, collect output and exit status. `run` throws
 * COMMAND_FAILED with the command and the stderr tail; `tryRun` never throws.
 * Internal to src/live/testbed.
 */
import { spawn } from 'node:child_process';
import { ConmigError } from '../../model/errors.ts';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Run inside this network namespace (`nsenter --net=/run/netns/<netns>`). */
  netns?: string;
  input?: string;
  timeoutMs?: number;
  /** Node name for error context. */
  node?: string;
}

function tail(s: string, lines = 8): string {
  return s.trim().split('\n').slice(-lines).join('\n');
}

export function tryRun(cmd: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const argv = opts.netns ? ['nsenter', `--net=/run/netns/${opts.netns}`, cmd, ...args] : [cmd, ...args];
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: stderr + String(e.message) });
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    if (child.stdin) {
      child.stdin.on('error', () => {}); // the program may exit before reading its input
      child.stdin.end(opts.input);
    }
  });
}

export async function run(cmd: string, args: readonly string[], opts: ExecOptions = {}): Promise<string> {
  const r = await tryRun(cmd, args, opts);
  if (r.code !== 0) {
    const line = [cmd, ...args].join(' ');
    throw new ConmigError('COMMAND_FAILED', `${cmd} failed (exit ${r.code})${opts.node ? ` on ${opts.node}` : ''}`, {
      context: { node: opts.node, netns: opts.netns, command: line, stderr: tail(r.stderr || r.stdout) },
    });
  }
  return r.stdout;
}

/** True when `cmd` is an executable on PATH (or an absolute executable path). */
export async function haveTool(cmd: string): Promise<boolean> {
  const r = await tryRun('sh', ['-c', `command -v ${cmd}`]);
  return r.code === 0 && r.stdout.trim() !== '';
}
