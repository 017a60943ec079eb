#!/usr/bin/env node
// The conmig command: runs main() with this process's streams and exits with
// its status (the only place that exits the process). It runs the compiled
// dist/ (`npm run build`; `npm ci` builds it as `prepare`);
// CONMIG_FROM_SOURCE=1 runs src/ through tsx instead (development, tests).
import { existsSync } from 'node:fs';

let main;
if (process.env.CONMIG_FROM_SOURCE === '1') {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
} else {
  const dist = new URL('../dist/cli/main.js', import.meta.url);
  if (!existsSync(dist)) {
    process.stderr.write('conmig: dist/ is not built: run `npm run build` (npm ci does it), or set CONMIG_FROM_SOURCE=1\n');
    process.exit(3);
  }
  ({ main } = await import(dist.href));
}

let finished = false;
// `conmig compare ... | head` closes the pipe early: that is not an error.
process.stdout.on('error', (e) => {
  finished = true;
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

// Something ended the process before the command finished: process.exit() called
// where conmig does not trap it (a policy's timer, say). Say so and never exit 0.
process.on('exit', (code) => {
  if (finished) return;
  process.stderr.write(`conmig: the process ended (exit code ${code}) before the command finished (process.exit() called by a policy module?); results written so far are kept\n`);
  if (!code) process.exitCode = 70;
});

const status = await main(process.argv.slice(2));
finished = true;
process.exitCode = status;
