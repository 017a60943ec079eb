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

// `conmig compare ... | head` closes the pipe early: that is not an error.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

process.exitCode = await main(process.argv.slice(2));
