#!/usr/bin/env node
// The conmig command: runs main() with this process's streams and exits with
// its status (the only place that exits the process).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');

// `conmig compare ... | head` closes the pipe early: that is not an error.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

process.exitCode = await main(process.argv.slice(2));
