/**
 * Override paths: a field of a scenario as written in its file, addressed as
 *
 *   qosThresholdMs                     a top-level field
 *   migration.cost.checkpointBaseMs    nested mappings (missing ones are created)
 *   containers[*].memoryMiB            every entry of a list
 *   users[walker].mobility.speedMps    the entry whose id (or name) is walker
 *   topology.nodes[0].cpuCores         an entry by position
 *
 * Applying a path to a scenario's data (pure) either sets the value at every
 * place it addresses, or says why the path does not resolve there. Whether the
 * value fits is the scenario schema's job (expand.ts validates every cell).
 */
import { formatPath, suggest, type PathSegment } from '../model/scenario/problems.ts';

export type Selector = { all: true } | { index: number } | { match: string };

export interface PathStep {
  key: string;
  /** Zero or more list selectors after the key, e.g. `nodes[*][0]` (rare) or `users[walker]`. */
  selectors: Selector[];
}

export type ParsedPath = { ok: true; steps: PathStep[] } | { ok: false; message: string };

const KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*/;
const SELECTOR = /^\[([^\]]*)\]/;

/** Parse `a.b[*].c[id]` into steps; a message naming what is wrong otherwise. */
export function parseOverridePath(text: string): ParsedPath {
  const steps: PathStep[] = [];
  let rest = text;
  const bad = (why: string): ParsedPath => ({
    ok: false,
    message: `expected a field path like qosThresholdMs, containers[*].memoryMiB or users[walker].mobility.speedMps, got ${JSON.stringify(text)} (${why})`,
  });
  if (text.trim() === '') return bad('empty');
  for (;;) {
    const key = KEY.exec(rest);
    if (!key) return bad(`a field name expected at ${JSON.stringify(rest || 'the end')}`);
    rest = rest.slice(key[0].length);
    const step: PathStep = { key: key[0], selectors: [] };
    for (let sel = SELECTOR.exec(rest); sel; sel = SELECTOR.exec(rest)) {
      const inner = sel[1].trim();
      if (inner === '') return bad('empty [] selector');
      step.selectors.push(inner === '*' ? { all: true } : /^\d+$/.test(inner) ? { index: Number(inner) } : { match: inner });
      rest = rest.slice(sel[0].length);
    }
    steps.push(step);
    if (rest === '') return { ok: true, steps };
    if (!rest.startsWith('.')) return bad(`unexpected ${JSON.stringify(rest[0])}`);
    rest = rest.slice(1);
  }
}

export type ApplyResult =
  /** The concrete paths that were set (e.g. containers[0].memoryMiB, containers[1].memoryMiB). */
  | { ok: true; targets: PathSegment[][] }
  | { ok: false; message: string };

type Json = Record<string, unknown> | unknown[];

function isMapping(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function entryName(v: unknown): string | undefined {
  if (typeof v === 'string') return v; // a policy written by name
  if (!isMapping(v)) return undefined;
  if (typeof v.id === 'string') return v.id;
  if (typeof v.name === 'string') return v.name;
  return undefined;
}

/** The entries of `list` a selector picks, with their positions; or why none. */
function select(list: unknown[], sel: Selector, where: string): { ok: true; picked: number[] } | { ok: false; message: string } {
  if ('all' in sel) {
    if (list.length === 0) return { ok: false, message: `${where} is an empty list: [*] selects nothing` };
    return { ok: true, picked: list.map((_, i) => i) };
  }
  if ('index' in sel) {
    if (sel.index >= list.length) return { ok: false, message: `${where} has ${list.length} entr${list.length === 1 ? 'y' : 'ies'}, no [${sel.index}]` };
    return { ok: true, picked: [sel.index] };
  }
  const names = list.map(entryName);
  const picked = names.flatMap((n, i) => (n === sel.match ? [i] : []));
  if (picked.length > 0) return { ok: true, picked };
  const known = names.filter((n): n is string => n !== undefined);
  const hint = suggest(sel.match, known);
  return {
    ok: false,
    message: `${where} has no entry with id ${JSON.stringify(sel.match)}${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ''}; ids there: ${known.length > 0 ? known.join(', ') : 'none'}`,
  };
}

/**
 * Set `value` at every place `steps` addresses in `data` (mutated; pass a
 * copy). Mappings on the way that the file leaves out are created, so an
 * optional section can be swept; lists must exist and be selected from.
 */
export function applyOverride(data: Record<string, unknown>, steps: readonly PathStep[], value: unknown): ApplyResult {
  let frontier: { node: Json; path: PathSegment[] }[] = [{ node: data, path: [] }];
  const out: PathSegment[][] = [];
  for (let s = 0; s < steps.length; s++) {
    const step = steps[s];
    const last = s === steps.length - 1 && step.selectors.length === 0;
    const next: { node: Json; path: PathSegment[] }[] = [];
    for (const { node, path } of frontier) {
      const where = path.length === 0 ? 'the scenario' : formatPath(path);
      if (!isMapping(node)) return { ok: false, message: `${where} is a list, not a mapping: select entries with [*], [<position>] or [<id>] before .${step.key}` };
      const keyPath = [...path, step.key];
      if (last) {
        node[step.key] = structuredClone(value);
        out.push(keyPath);
        continue;
      }
      let child = node[step.key];
      if (child === undefined || child === null) {
        if (step.selectors.length > 0) return { ok: false, message: `${formatPath(keyPath)} is not in the scenario: there is no list to select from` };
        child = node[step.key] = {};
      }
      let level: { node: unknown; path: PathSegment[] }[] = [{ node: child, path: keyPath }];
      for (let k = 0; k < step.selectors.length; k++) {
        const finalSelector = s === steps.length - 1 && k === step.selectors.length - 1;
        const deeper: { node: unknown; path: PathSegment[] }[] = [];
        for (const l of level) {
          if (!Array.isArray(l.node)) return { ok: false, message: `${formatPath(l.path)} is not a list, so it has no entries to select` };
          const picked = select(l.node, step.selectors[k], formatPath(l.path));
          if (!picked.ok) return picked;
          for (const i of picked.picked) {
            if (finalSelector) {
              (l.node as unknown[])[i] = structuredClone(value);
              out.push([...l.path, i]);
            } else deeper.push({ node: (l.node as unknown[])[i], path: [...l.path, i] });
          }
        }
        level = deeper;
      }
      for (const l of level) {
        if (l.node === null || typeof l.node !== 'object') return { ok: false, message: `${formatPath(l.path)} is ${JSON.stringify(l.node)}, not a mapping or list` };
        next.push({ node: l.node as Json, path: l.path });
      }
    }
    frontier = next;
  }
  return { ok: true, targets: out };
}

/** True when `inner` is `outer` or lies below it. */
export function isWithin(inner: readonly PathSegment[], outer: readonly PathSegment[]): boolean {
  return outer.length <= inner.length && outer.every((seg, i) => String(seg) === String(inner[i]));
}
