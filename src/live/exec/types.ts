/**
 * The exec primitive of the live side (docs/testbed.md, docs/migrate.md): run a shell
 * command on a node and get its exit code and output. Implemented over SSH
 * (ssh.ts) for real nodes and locally (local.ts) for tests.
 */
import { ConmigError } from '../../model/errors.ts';

export interface ExecResult {
  /** Exit status; -1 when the command was killed by a signal or timed out. */
  code: number;
  stdout: string;
  stderr: string;
  /** Wall-clock duration of the command as seen by the caller. */
  wallMs: number;
  /** Its duration timed on the node (the node agent reports it; absent over plain SSH). */
  nodeWallMs?: number;
}

export interface RunOptions {
  /** Kill the command (and report code -1) after this long. */
  timeoutMs?: number;
  /** Written to the command's standard input, then closed. */
  stdin?: string | Buffer;
}

export interface StreamOptions extends RunOptions {
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
}

/** A command that is still running. */
export interface RunningCommand {
  readonly done: Promise<ExecResult>;
  /** Stop it (closes the channel / kills the process). */
  kill(): void;
}

export interface NodeExec {
  /** Inventory name of the node. */
  readonly node: string;
  /** Run `cmd` with a POSIX shell on the node. Never throws for a non-zero exit; throws NODE_UNREACHABLE when the node cannot be reached. */
  run(cmd: string, opts?: RunOptions): Promise<ExecResult>;
  /** Like run, with output delivered as it arrives. */
  stream(cmd: string, opts?: StreamOptions): RunningCommand;
  close(): Promise<void>;
}

/** A long-lived command with its standard streams open (the node agent's channel). */
export interface ExecPipe {
  write(data: Buffer): void;
  /** Close its standard input. */
  end(): void;
  onStdout(cb: (chunk: Buffer) => void): void;
  onStderr(cb: (chunk: Buffer) => void): void;
  /** It exited, or its channel ended (exit code; null if unknown: killed, or the connection went away). */
  onClose(cb: (code: number | null) => void): void;
  kill(): void;
}

/** Quote one word for a POSIX shell. */
export function shq(s: string): string {
  if (/^[A-Za-z0-9_./:=@%+,-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Last `lines` lines of a text (for error context). */
export function tail(text: string, lines = 12): string {
  const all = text.trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

/** Run and throw COMMAND_FAILED (with node, command, stderr tail, phase) on a non-zero exit. */
export async function runChecked(
  exec: NodeExec,
  cmd: string,
  opts: RunOptions & { phase?: string; what?: string } = {},
): Promise<ExecResult> {
  const r = await exec.run(cmd, opts);
  if (r.code !== 0) {
    throw new ConmigError(
      'COMMAND_FAILED',
      `${opts.what ?? 'command'} failed on ${exec.node} (exit ${r.code})${opts.phase ? ` during ${opts.phase}` : ''}`,
      { context: { node: exec.node, command: cmd, exit: r.code, stderr: tail(r.stderr || r.stdout), phase: opts.phase } },
    );
  }
  return r;
}
