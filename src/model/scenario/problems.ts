/**
 * Problems found while checking a scenario, located by the path of the field
 * in the file (so the io layer can map them to a line), and the conversion of
 * zod issues into such problems with "expected ..., got ..." messages.
 */
import type { core } from 'zod';

export type PathSegment = string | number;

export interface ScenarioProblem {
  /** Path of the field in the file as written, e.g. ['topology', 'nodes', 2, 'cpuCores']. */
  path: PathSegment[];
  /** What was expected, and what was found. */
  message: string;
}

const PLAIN_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** `['topology', 'nodes', 2, 'cpuCores']` -> `topology.nodes[2].cpuCores`. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (PLAIN_KEY.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** A short rendering of a value found in the file, for "got ..." in messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing (the field is missing)';
  if (value === null) return 'an empty value';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object') {
    const keys = Object.keys(value);
    return keys.length === 0 ? 'an empty mapping' : `a mapping with keys ${keys.slice(0, 5).join(', ')}${keys.length > 5 ? ', …' : ''}`;
  }
  return String(value);
}

export function levenshtein(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

/** The closest candidate within edit distance 2 (case-insensitive), if any. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = Math.min(levenshtein(word, c), levenshtein(word.toLowerCase(), c.toLowerCase()));
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/** The message for an id that is not among `known`: expected <what>, got "<id>" (did you mean "<closest>"?). */
export function unknownId(expected: string, got: string, known: readonly string[]): string {
  const hint = suggest(got, known);
  return `expected ${expected}, got ${JSON.stringify(got)}${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ''}`;
}

function valueAt(root: unknown, path: readonly PathSegment[]): unknown {
  let v: unknown = root;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v;
}

/** Prefix of the message of an unknown-key issue; the known keys follow, comma-separated (see schema.ts). */
export const KNOWN_KEYS_PREFIX = 'conmig-known-keys:';

function toPath(path: readonly PropertyKey[]): PathSegment[] {
  return path.map((p) => (typeof p === 'number' ? p : String(p)));
}

/** Convert zod issues of `ScenarioFileSchema` into scenario problems. */
export function problemsFromZod(issues: readonly core.$ZodIssue[], data: unknown, base: PathSegment[] = []): ScenarioProblem[] {
  const out: ScenarioProblem[] = [];
  for (const issue of issues) {
    const path = [...base, ...toPath(issue.path)];
    const found = valueAt(data, path);
    switch (issue.code) {
      case 'unrecognized_keys': {
        const known = issue.message.startsWith(KNOWN_KEYS_PREFIX)
          ? issue.message.slice(KNOWN_KEYS_PREFIX.length).split(',').filter((k) => k !== '')
          : [];
        for (const key of issue.keys) {
          const hint = suggest(key, known);
          out.push({
            path: [...path, key],
            message: `unknown key ${JSON.stringify(key)}${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ''}; expected one of ${known.join(', ')}`,
          });
        }
        break;
      }
      case 'invalid_union': {
        if ('discriminator' in issue && issue.discriminator !== undefined) {
          // No option has this discriminator value: the path points at `kind`.
          const options = (issue as { options?: unknown[] }).options ?? [];
          out.push({ path, message: `expected one of ${options.map(String).join(', ')}, got ${describeValue(found)}` });
          break;
        }
        // Pick the option the value matched best: one whose issues are inside the value.
        // Of those, the one with the fewest issues (a typo in one key beats three missing keys).
        const branch = issue.errors
          .filter((errs) => errs.length > 0 && errs.every((e) => e.path.length > 0 || e.code === 'unrecognized_keys'))
          .reduce<core.$ZodIssue[] | undefined>((best, errs) => (best === undefined || errs.length < best.length ? errs : best), undefined);
        if (branch && found !== null && typeof found === 'object') out.push(...problemsFromZod(branch, data, path));
        else out.push({ path, message: `${issue.message}, got ${describeValue(found)}` });
        break;
      }
      default:
        out.push({ path, message: `${issue.message}, got ${describeValue(found)}` });
    }
  }
  return out;
}
