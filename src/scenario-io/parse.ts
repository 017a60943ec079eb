/**
 * From scenario text to a resolved `Scenario`, with every problem located at
 * `<file>:<line>`. No file system access: files the scenario refers to are
 * checked through an injected `fileExists` (load.ts passes the real one).
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import { ConmigError, type Problem } from '../model/errors.ts';
import type { Scenario } from '../model/types.ts';
import { formatPath, problemsFromZod, type PathSegment, type ScenarioProblem } from '../model/scenario/problems.ts';
import { resolveScenario, type ScenarioOverrides } from '../model/scenario/resolve.ts';
import { ScenarioFileSchema } from '../model/scenario/schema.ts';
import { checkFieldBounds, checkRelations, checkResources } from '../model/scenario/limits.ts';

export interface ParseOptions {
  /** Absolute path recorded in `Scenario.file`. Default: the label. */
  file?: string;
  /** Resolves a path written in the scenario (relative to its file). Default: unchanged. */
  resolvePath?: (relative: string) => string;
  /** Existence check for trace files and policy modules. Default: no check. */
  fileExists?: (resolved: string) => boolean;
  overrides?: ScenarioOverrides;
  /** Memory a run may use for its per-window series and metrics (default: limits.ts). */
  memoryBudgetBytes?: number;
  /** Events a run may be expected to fire (default: limits.ts, about half an hour here). */
  maxEvents?: number;
}

export interface ParseOutcome {
  scenario?: Scenario;
  /** Sorted by line. */
  problems: Problem[];
}

/** Parse, validate and resolve; returns the problems instead of throwing. */
export function checkScenarioText(text: string, fileLabel: string, opts: ParseOptions = {}): ParseOutcome {
  const yaml = yamlData(text, fileLabel);
  if (!yaml.ok) return { problems: yaml.problems };
  const { doc, lineCounter, data } = yaml;
  const locate = (p: ScenarioProblem): Problem => ({
    file: `${fileLabel}:${lineOf(doc, lineCounter, p.path)}`,
    path: formatPath(p.path),
    message: p.message,
  });
  const sorted = (ps: ScenarioProblem[]): Problem[] =>
    ps
      .map((p) => ({ problem: locate(p), line: lineOf(doc, lineCounter, p.path) }))
      .sort((a, b) => a.line - b.line)
      .map((x) => x.problem);

  const parsed = ScenarioFileSchema.safeParse(data ?? {});
  if (!parsed.success) return { problems: sorted(problemsFromZod(parsed.error.issues, data ?? {})) };

  const bounds = checkFieldBounds(parsed.data);
  if (bounds.length > 0) return { problems: sorted(bounds) };

  const result = resolveScenario(parsed.data, { file: opts.file ?? fileLabel, resolvePath: opts.resolvePath, overrides: opts.overrides });
  const problems = [...result.problems];
  if (opts.fileExists) {
    for (const ref of result.fileRefs) {
      if (!opts.fileExists(ref.file)) problems.push({ path: ref.path, message: `expected an existing ${ref.what}, got ${JSON.stringify(ref.written)} (not found at ${ref.file})` });
    }
  }
  if (problems.length > 0 || !result.scenario) return { problems: sorted(problems) };
  const limits = checkRelations(result.scenario, parsed.data);
  if (limits.length === 0) limits.push(...checkResources(result.scenario, opts.memoryBudgetBytes, opts.maxEvents));
  if (limits.length > 0) return { problems: sorted(limits) };
  return { scenario: result.scenario, problems: [] };
}

export type YamlOutcome = { ok: true; doc: Document; lineCounter: LineCounter; data: unknown } | { ok: false; problems: Problem[] };

/**
 * YAML text to plain data within the limits (size of mappings and lists, nesting, aliases),
 * or the problems at `<label>:<line>`. Shared by every YAML file conmig reads: scenarios,
 * sweeps, inventories, testbed topologies.
 */
export function yamlData(text: string, label: string): YamlOutcome {
  const lineCounter = new LineCounter();
  // uniqueKeys is checked in checkCollections: the library's check is quadratic in the keys of a mapping.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => {
        const pos = e.linePos?.[0] ?? lineCounter.linePos(e.pos[0]);
        const message = e.message.replace(/ at line \d+, column \d+:?[\s\S]*$/, '').trim();
        return { file: `${label}:${pos.line}:${pos.col}`, path: '(yaml)', message: `expected valid YAML, got a syntax error: ${message}` };
      }),
    };
  }
  const sizeProblem = checkCollections(doc, lineCounter, label);
  if (sizeProblem) return { ok: false, problems: [sizeProblem] };
  const aliasProblem = checkAliases(doc, lineCounter, label);
  if (aliasProblem) return { ok: false, problems: [aliasProblem] };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    // The yaml library throws on alias bombs (excessive alias count) and deep recursion.
    return { ok: false, problems: [{ file: `${label}:${firstAliasLine(doc, lineCounter)}`, path: '(yaml)', message: `expected YAML within the alias and nesting limits (1000 alias expansions), got ${e instanceof Error ? e.message : String(e)}` }] };
  }
  return { ok: true, doc, lineCounter, data };
}

/** Parse, validate and resolve; throws ConmigError('SCENARIO_INVALID') listing every problem. */
export function parseScenarioText(text: string, fileLabel: string, opts: ParseOptions = {}): Scenario {
  const outcome = checkScenarioText(text, fileLabel, opts);
  if (!outcome.scenario) throw invalidScenario(fileLabel, outcome.problems);
  return outcome.scenario;
}

export function invalidScenario(fileLabel: string, problems: Problem[]): ConmigError {
  const n = problems.length;
  return new ConmigError('SCENARIO_INVALID', `scenario ${fileLabel} is invalid (${n} problem${n === 1 ? '' : 's'})`, {
    problems,
  });
}

/**
 * Line (1-based) of the field at `path`; for a key the file does not have
 * (a missing field) the line of the nearest enclosing field. Also used for
 * sweep files (src/sweep/load.ts).
 */
export function lineOf(doc: Document, lineCounter: LineCounter, path: readonly PathSegment[]): number {
  let node: unknown = doc.contents;
  let offset = (doc.contents as Node | null)?.range?.[0] ?? 0;
  for (const seg of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((it) => (isScalar(it.key) ? String(it.key.value) : String(it.key)) === String(seg));
      if (!pair) break;
      const keyNode = pair.key as Node | null;
      offset = keyNode?.range?.[0] ?? offset;
      node = pair.value;
      continue;
    }
    if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
      node = node.items[seg];
      offset = (node as Node | null)?.range?.[0] ?? offset;
      continue;
    }
    break;
  }
  return lineCounter.linePos(offset).line;
}

/** An alias to an anchor the file does not define, as a located problem. */
function checkAliases(doc: Document, lineCounter: LineCounter, fileLabel: string): Problem | undefined {
  let found: Problem | undefined;
  visit(doc, {
    Alias(_key, node) {
      if (node.resolve(doc) === undefined) {
        found = { file: `${fileLabel}:${lineCounter.linePos(node.range?.[0] ?? 0).line}`, path: '(yaml)', message: `expected an alias to a defined anchor, got *${node.source} (no &${node.source} before it)` };
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

function firstAliasLine(doc: Document, lineCounter: LineCounter): number {
  let line = 1;
  visit(doc, {
    Alias(_key, node) {
      line = lineCounter.linePos(node.range?.[0] ?? 0).line;
      return visit.BREAK;
    },
  });
  return line;
}

/** Limits on what the file may hold: keys per mapping, items per list, nesting depth. */
export const YAML_LIMITS = Object.freeze({ mapKeys: 10_000, listItems: 200_000, depth: 64 });

function checkCollections(doc: Document, lineCounter: LineCounter, fileLabel: string): Problem | undefined {
  let found: Problem | undefined;
  const at = (node: Node, message: string): Problem => ({ file: `${fileLabel}:${lineCounter.linePos(node.range?.[0] ?? 0).line}`, path: '(yaml)', message });
  visit(doc, {
    Map(_k, node, path) {
      if (path.length > YAML_LIMITS.depth * 2) found = at(node, `expected at most ${YAML_LIMITS.depth} levels of nesting, got more`);
      else if (node.items.length > YAML_LIMITS.mapKeys) found = at(node, `expected a mapping of at most ${YAML_LIMITS.mapKeys} keys, got ${node.items.length}`);
      else {
        const seen = new Set<string>();
        for (const pair of node.items) {
          const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
          if (seen.has(key)) {
            const pos = lineCounter.linePos((pair.key as Node | null)?.range?.[0] ?? 0);
            found = { file: `${fileLabel}:${pos.line}:${pos.col}`, path: '(yaml)', message: `expected valid YAML, got a syntax error: Map keys must be unique (${JSON.stringify(key)} twice)` };
            break;
          }
          seen.add(key);
        }
      }
      return found ? visit.BREAK : undefined;
    },
    Seq(_k, node, path) {
      if (path.length > YAML_LIMITS.depth * 2) found = at(node, `expected at most ${YAML_LIMITS.depth} levels of nesting, got more`);
      else if (node.items.length > YAML_LIMITS.listItems) found = at(node, `expected a list of at most ${YAML_LIMITS.listItems} items, got ${node.items.length}`);
      return found ? visit.BREAK : undefined;
    },
  });
  return found;
}
