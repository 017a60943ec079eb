/**
 * Which folder may import which, and no import circles, type-only imports
 * included (they tie modules together as much as value imports do), checked
 * with dependency-cruiser. dependency-cruiser reads TypeScript through the
 * TypeScript compiler API, which TypeScript 7 no longer has: so the sources
 * are first turned into JavaScript by esbuild with every import kept
 * (`import type` made a plain import, verbatimModuleSyntax keeps the rest),
 * and the cruise runs on that copy, file for file.
 */
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cruise, type ICruiseResult, type IForbiddenRuleType } from 'dependency-cruiser';
import { transformSync } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.ts';

const SRC = path.join(ROOT, 'src');
const work = mkdtempSync(path.join(tmpdir(), 'conmig-imports-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const FORBIDDEN: IForbiddenRuleType[] = [
  { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
  { name: 'model-is-the-pure-core', severity: 'error', from: { path: '^src/model/' }, to: { path: '^src/', pathNot: '^src/model/' } },
  {
    name: 'cluster-and-mobility-serve-both-backends',
    severity: 'error',
    from: { path: '^src/(cluster|mobility)/' },
    to: { path: '^src/(sim|live|run|cli|report|results|analysis|scenario-io)/' },
  },
  { name: 'the-simulator-knows-no-live-side', severity: 'error', from: { path: '^src/sim/' }, to: { path: '^src/(live|cli|run|report|analysis)/' } },
  { name: 'analysis-computes-report-renders', severity: 'error', from: { path: '^src/analysis/' }, to: { path: '^src/(report|cli)/' } },
  { name: 'only-the-cli-imports-the-cli', severity: 'error', from: { path: '^src/', pathNot: '^src/cli/' }, to: { path: '^src/cli/' } },
];

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? tsFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** src/ as JavaScript with every import (type-only ones as plain imports), .ts specifiers as .js. */
function transpileKeepingImports(): string[] {
  const files = tsFiles(SRC);
  for (const file of files) {
    const ts = readFileSync(file, 'utf8')
      .replace(/^(\s*)import type (?=[{*]|\w+\s+from\b)/gm, '$1import ')
      .replace(/^(\s*)export type (?=[{*])/gm, '$1export ');
    const { code } = transformSync(ts, { loader: 'ts', format: 'esm', tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true } } });
    const out = path.join(work, 'src', path.relative(SRC, file)).replace(/\.ts$/, '.js');
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, code.replace(/(from\s*|import\s*\(?\s*)(["'])(\.{1,2}\/[^"']+)\.ts\2/g, '$1$2$3.js$2'));
  }
  return files;
}

let result: ICruiseResult;
let sources: string[];

beforeAll(async () => {
  sources = transpileKeepingImports();
  const r = await cruise(['src'], { baseDir: work, ruleSet: { forbidden: FORBIDDEN }, validate: true, doNotFollow: { path: 'node_modules' } });
  result = r.output as ICruiseResult;
});

describe('imports', () => {
  it('cruises every source file, and sees type-only imports', () => {
    const modules = result.modules.filter((m) => m.source.startsWith('src/')).map((m) => m.source);
    expect(modules.length).toBe(sources.length);
    // src/sim/view.ts imports the cluster state for its type only.
    const view = result.modules.find((m) => m.source === 'src/sim/view.js');
    expect(view?.dependencies.map((d) => d.resolved)).toContain('src/cluster/state.js');
  });

  it('no import circles, and every folder imports only what it may', () => {
    const violations = result.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}${v.cycle ? ` (${v.cycle.map((c) => c.name).join(' -> ')})` : ''}`);
    expect(violations).toEqual([]);
  });
});
