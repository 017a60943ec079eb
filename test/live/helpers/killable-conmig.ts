/**
 * `conmig ARGS` from the sources in a child process with its own journal folder; with
 * `pauseAt`, it is killed -9 as soon as it says it paused at that migration state
 * (CONMIG_TEST_PAUSE_AT, src/live/migrate/test-pause.ts): the controller dies there.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { StateKind } from '../../../src/live/migrate/state.ts';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

export interface ConmigExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function conmigKilledAt(journalDir: string, args: string[], pauseAt?: StateKind): Promise<ConmigExit> {
  const env: NodeJS.ProcessEnv = { ...process.env, CONMIG_DEBUG: '', CONMIG_FROM_SOURCE: '1', CONMIG_JOURNAL_DIR: journalDir };
  if (pauseAt) env.CONMIG_TEST_PAUSE_AT = pauseAt;
  else delete env.CONMIG_TEST_PAUSE_AT;
  const proc = spawn(process.execPath, ['bin/conmig.js', ...args], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (pauseAt && stderr.includes(`conmig-test: paused at ${pauseAt}`)) proc.kill('SIGKILL');
  });
  return new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
}
