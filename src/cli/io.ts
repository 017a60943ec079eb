/**
 * What the command line reads from and writes to, passed in rather than
 * taken from `process`, so the CLI runs in-process (tests call main() with
 * buffers) exactly as it runs in a terminal (bin/conmig.js passes the
 * process's own streams).
 */
import path from 'node:path';

/** A stream the CLI writes text to (process.stdout, or a buffer in tests). */
export interface CliWriter {
  write(text: string): unknown;
  /** A person is watching (progress bars, bold headers, help width). */
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface CliIo {
  readonly stdout: CliWriter;
  readonly stderr: CliWriter;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Folder that relative paths on the command line are relative to. */
  readonly cwd: string;
}

/** The running process's streams, environment and folder. */
export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}

/** What every command gets: the io and path helpers bound to its folder. */
export interface CliContext {
  readonly io: CliIo;
  /** A path from the command line, made absolute against io.cwd. */
  abs(p: string): string;
  /** A path shown to the user: relative to io.cwd when that is shorter. */
  rel(p: string): string;
  out(line: string): void;
  err(line: string): void;
}

export function cliContext(io: CliIo): CliContext {
  return {
    io,
    abs: (p) => path.resolve(io.cwd, p),
    rel: (p) => path.relative(io.cwd, p) || p,
    out: (line) => void io.stdout.write(line + '\n'),
    err: (line) => void io.stderr.write(line + '\n'),
  };
}
