/**
 * TEST-ONLY: `CONMIG_TEST_PAUSE_AT=<state>` (a state kind of state.ts) makes a
 * migration stop right after the journal has recorded that state and before
 * the step it announces runs: it prints `conmig-test: paused at <state> (pid
 * P)` on stderr and waits until the process is killed. test/live/recover.test.ts
 * uses it to kill -9 the controller at a chosen phase boundary. Never set it
 * outside tests: the migration does not go on by itself.
 */
import type { StateKind } from './state.ts';

export async function pauseIfAsked(kind: StateKind, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (!env.CONMIG_TEST_PAUSE_AT || env.CONMIG_TEST_PAUSE_AT !== kind) return;
  process.stderr.write(`conmig-test: paused at ${kind} (pid ${process.pid})\n`);
  await new Promise<never>(() => {
    setInterval(() => undefined, 60_000); // keeps the process alive until it is killed
  });
}
