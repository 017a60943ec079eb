/**
 * Starting conmig's own code in another process (the `--seeds` children,
 * the testbed's latency relay) the way this process runs: from the compiled
 * dist/ with plain node, or from the sources through tsx in development.
 */
import { fileURLToPath } from 'node:url';


/** The command of this package (bin/conmig.js) and the environment that makes it run what this process runs. */
export function selfCommand(): { args: string[]; env: Record<string, string> } {
  const bin = fileURLToPath(new URL('../../bin/conmig.js', import.meta.url));
  return { args: [bin], env: import.meta.url.endsWith('.ts') ? { CONMIG_FROM_SOURCE: '1' } : {} };
}

/**
 * Node arguments that run module `name` (without extension) beside `callerUrl`:
 * `dir/name.js` when the caller is compiled, `--import tsx dir/name.ts` when it is a source.
 */
export function siblingModuleArgs(callerUrl: string, name: string): string[] {
  const source = callerUrl.endsWith('.ts');
  const file = fileURLToPath(new URL(`./${name}${source ? '.ts' : '.js'}`, callerUrl));
  return source ? ['--import', 'tsx', file] : [file];
}
