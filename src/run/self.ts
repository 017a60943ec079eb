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

/**
 * This package's public entry (what `import ... from 'conmig'` means for a
 * policy module run by this process: dist/index.js when compiled,
 * src/index.ts from the sources) and its root folder. The sweep worker is a
 * bundle in a temporary folder, where import.meta.url says nothing about
 * the package: its bundler replaces process.env.CONMIG_PACKAGE_ENTRY with
 * the entry of the conmig that built it (src/sweep/entry.ts).
 */
export function selfPackage(): { entryUrl: string; rootUrl: string } {
  const entryUrl = process.env.CONMIG_PACKAGE_ENTRY || new URL(import.meta.url.endsWith('.ts') ? '../index.ts' : '../index.js', import.meta.url).href;
  return { entryUrl, rootUrl: new URL('../', entryUrl).href };
}
