/**
 * Running the command line in tests: in-process through main(args, io) (fast:
 * no process, no loader), or spawned through bin/conmig.js as a user runs it
 * (for the exit status the shell sees; one test per exit-status class).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/conmig.js', import.meta.url));

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Folder relative paths are relative to (default: the repository root). */
  cwd?: string;
  env?: Record<string, string | undefined>;
}

/** `conmig ARGS` in this process: what it wrote and the status main() returned. */
export async function conmig(args: readonly string[], opts: CliOptions = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const status = await main(args, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: { CI: '1', ...opts.env },
    cwd: opts.cwd ?? ROOT,
  });
  return { status, stdout, stderr };
}

/** `node bin/conmig.js ARGS` as a child process, running the sources (as the tests do). */
export function conmigProcess(args: readonly string[], opts: CliOptions = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, CONMIG_DEBUG: '', CI: '1', CONMIG_FROM_SOURCE: '1', ...opts.env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
