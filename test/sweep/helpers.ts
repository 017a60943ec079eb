/**
 * Shared by the sweep tests: temporary folders with the small fixture
 * scenario, `conmig` in-process or as a child process (as a user runs it), and folder
 * comparisons.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { parseCsv } from '../../src/results/csv.ts';
import { conmig as conmigInProcess } from '../helpers/cli.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const FIXTURES = path.join(ROOT, 'test/sweep/fixtures');

const roots: string[] = [];
/** A fresh temporary folder, removed after the file's tests. */
export function tmp(prefix = 'conmig-sweep-'): string {
  const d = mkdtempSync(path.join(tmpdir(), prefix));
  roots.push(d);
  return d;
}
afterAll(() => {
  for (const d of roots) rmSync(d, { recursive: true, force: true });
});

/** A temporary folder with `sweep.yaml` holding `yaml`, where FIXTURES/ stands for the fixture folder. */
export function sweepDir(yaml: string, dir = tmp()): { dir: string; file: string } {
  const file = path.join(dir, 'sweep.yaml');
  writeFileSync(file, yaml.replaceAll('FIXTURES/', `${FIXTURES}/`));
  return { dir, file };
}

export interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

// Spawned conmig runs the sources (as the tests do), not a dist/ that may be older.
const ENV = { ...process.env, CONMIG_DEBUG: '', CI: '1', CONMIG_FROM_SOURCE: '1' };

/** `conmig ARGS` in this process (main(args, io)): no process start-up per call. */
export function conmig(...args: string[]): Promise<Result> {
  return conmigInProcess(args);
}

/** Start conmig in its own process group (so the whole group can be killed, as a crash would). */
export function conmigDetached(...args: string[]) {
  return spawn(process.execPath, [path.join(ROOT, 'bin/conmig.js'), ...args], { cwd: ROOT, env: ENV, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** 12 runs of about half a second each (more on a loaded machine): long enough to stop mid-way. */
export function interruptibleSweep(name: string): string {
  return `name: ${name}
scenarios: [FIXTURES/small.yaml]
policies: [never, threshold]
seeds: 1..2
grid:
  durationS: [150, 200, 250]
`;
}

/** Several conmig processes per test; on a loaded 2-core machine a test takes a minute or two. */
export const SLOW_SWEEP_TEST_MS = 300_000;

/** `conmig sweep FILE --jobs 2 --out OUT` in its own process group, its stderr collected as it comes. */
export function startDetachedSweep(file: string, out: string) {
  const child = conmigDetached('sweep', file, '--jobs', '2', '--out', out);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stderr: (): string => stderr, exited };
}

/** Relative path -> bytes of every file under `dir`. */
export function tree(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(path.relative(dir, p), readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

/** Identity of each file (inode and modification time): unchanged if nothing rewrote it. */
export function stamps(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const rel of tree(dir).keys()) {
    const st = statSync(path.join(dir, rel));
    out.set(rel, `${st.ino}:${st.mtimeMs}`);
  }
  return out;
}

/** The merged files of a sweep folder, for byte comparison. */
export const MERGED = ['results.csv', 'cells.csv', 'failed.csv', 'report.html'] as const;

export function expectNoStack(r: Result): void {
  if (/^\s+at /m.test(r.stderr)) throw new Error(`stack trace in stderr:\n${r.stderr}`);
}

/** A CSV file as records keyed by its header (parsed by the project's RFC 4180 parser). */
export function readCsv(file: string): Record<string, string>[] {
  const [head, ...rows] = parseCsv(readFileSync(file, 'utf8'));
  return rows.map((r) => Object.fromEntries(head.fields.map((h, i) => [h, r.fields[i]])));
}
