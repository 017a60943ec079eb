/**
 * What every part of scenario resolution shares (resolve.ts runs the parts):
 * the file as parsed, the options, the problems found so far and the files
 * referred to.
 */
import type { Point, Scenario } from '../types.ts';
import { formatPath, type PathSegment, type ScenarioProblem } from './problems.ts';
import type { ScenarioFile } from './schema.ts';

export interface ScenarioOverrides {
  seed?: number;
  /** A policy name: one of the scenario's policies (keeps its params) or a built-in. */
  policy?: string;
}

export interface ResolveOptions {
  /** Absolute path of the scenario file, recorded in `Scenario.file`. */
  file?: string;
  /** Resolves a path written in the file (relative to the file). Default: unchanged. */
  resolvePath?: (relative: string) => string;
  overrides?: ScenarioOverrides;
}

/** A file the scenario refers to; the io layer checks that it exists. */
export interface FileRef {
  path: PathSegment[];
  /** As resolved by `resolvePath`. */
  file: string;
  /** As written in the scenario. */
  written: string;
  what: 'trace file' | 'policy module';
}

export interface ResolveResult {
  /** Present when there are no problems. */
  scenario?: Scenario;
  problems: ScenarioProblem[];
  fileRefs: FileRef[];
}

/** How many ids to name before "…" in a problem about many users or containers. */
const LIST_MAX = 3;

export function sample(ids: readonly string[]): string {
  return ids.length <= LIST_MAX ? ids.join(', ') : `${ids.slice(0, LIST_MAX).join(', ')}, … (${ids.length} in all)`;
}

export function distanceM(a: Point, b: Point): number {
  return Math.hypot(a.xM - b.xM, a.yM - b.yM);
}

export class ResolveContext {
  readonly problems: ScenarioProblem[] = [];
  readonly fileRefs: FileRef[] = [];
  readonly resolvePath: (relative: string) => string;

  constructor(
    readonly raw: ScenarioFile,
    readonly opts: ResolveOptions,
  ) {
    this.resolvePath = opts.resolvePath ?? ((p) => p);
  }

  problem(path: PathSegment[], message: string): void {
    this.problems.push({ path, message });
  }

  checkRange(path: PathSegment[], r: readonly [number, number] | undefined): void {
    if (r && r[0] > r[1]) this.problem(path, `expected a range [lo, hi] with lo <= hi, got [${r[0]}, ${r[1]}]`);
  }

  /** Report ids that occur more than once (at each later occurrence). */
  checkUnique(entries: readonly { id: string; path: PathSegment[] }[], what: string): void {
    const first = new Map<string, string>();
    for (const e of entries) {
      const seen = first.get(e.id);
      if (seen !== undefined) this.problem(e.path, `expected a unique ${what} id, got ${JSON.stringify(e.id)} again (first at ${seen})`);
      else first.set(e.id, formatPath(e.path));
    }
  }
}
