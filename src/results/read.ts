/**
 * Reading and validating run folders. Anything that is not a well-formed
 * result gives ConmigError('RESULT_INVALID') whose message names the folder,
 * the file and the field / line / column, with one Problem per defect
 * (at most MAX_PROBLEMS).
 */
import { createReadStream } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConmigError, formatProblems, type Problem } from '../model/errors.ts';
import type { RequestRecord, RunData } from '../model/results.ts';
import { CsvParser, parseCsv, type ColumnSpec, type CsvRecord } from './csv.ts';
import { runSummarySchema } from './summary.ts';
import {
  HISTOGRAM_COLUMNS,
  MIGRATION_COLUMNS,
  NODE_LOAD_COLUMNS,
  REQUEST_COLUMNS,
  RESULT_FILES,
  TIMESERIES_COLUMNS,
  USER_SERIES_COLUMNS,
} from './tables.ts';

const MAX_PROBLEMS = 20;

function invalid(dir: string, problems: Problem[], cause?: unknown): ConmigError {
  const shown = problems.slice(0, MAX_PROBLEMS);
  const more = problems.length > shown.length ? `\n(${problems.length - shown.length} more)` : '';
  return new ConmigError('RESULT_INVALID', `${dir} is not a valid conmig result folder:\n${formatProblems(shown)}${more}`, {
    context: { dir, file: problems[0]?.file, path: problems[0]?.path },
    problems: shown,
    cause,
  });
}

async function readText(dir: string, file: string): Promise<string> {
  try {
    return await readFile(join(dir, file), 'utf8');
  } catch (cause) {
    const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
    throw invalid(dir, [{ file, path: '', message: missing ? 'file is missing' : `cannot read: ${String(cause)}` }], cause);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Maps header names to column positions; reports missing columns. */
function headerIndex<T>(file: string, header: CsvRecord | undefined, columns: readonly ColumnSpec<T>[], problems: Problem[]): number[] | null {
  if (!header || (header.fields.length === 1 && header.fields[0] === '')) {
    problems.push({ file, path: 'line 1', message: 'missing header row' });
    return null;
  }
  const index = columns.map((c) => header.fields.indexOf(c.key));
  const missing = columns.filter((c, i) => index[i] < 0 && !c.optional).map((c) => c.key);
  if (missing.length > 0) {
    problems.push({ file, path: 'line 1', message: `missing column(s) ${missing.join(', ')} (header: ${header.fields.join(',')})` });
    return null;
  }
  return index;
}

/** Decode one record into a row; pushes a problem per bad cell. */
function decodeRecord<T>(
  file: string,
  rec: CsvRecord,
  width: number,
  index: readonly number[],
  columns: readonly ColumnSpec<T>[],
  problems: Problem[],
): T | null {
  if (rec.fields.length !== width) {
    problems.push({ file, path: `line ${rec.line}`, message: `expected ${width} fields, found ${rec.fields.length}` });
    return null;
  }
  const row: Record<string, unknown> = {};
  let ok = true;
  for (let i = 0; i < columns.length; i++) {
    const c = columns[i];
    if (c.optional && (index[i] < 0 || rec.fields[index[i]] === '')) continue; // absent: undefined
    const cell = rec.fields[index[i]];
    const bad = (expected: string): void => {
      problems.push({ file, path: `line ${rec.line}, column ${c.key}`, message: `expected ${expected}, got ${JSON.stringify(cell)}` });
      ok = false;
    };
    switch (c.kind) {
      case 'str':
        row[c.key] = cell;
        break;
      case 'enum':
        if (c.values?.includes(cell)) row[c.key] = cell;
        else bad(`one of ${c.values?.join(', ')}`);
        break;
      case 'int': {
        const v = cell.trim() === '' ? NaN : Number(cell);
        if (Number.isInteger(v)) row[c.key] = v;
        else bad('an integer');
        break;
      }
      default: {
        // num / time / exact: empty = NaN
        const v = cell === '' ? NaN : Number(cell);
        if (cell !== '' && (Number.isNaN(v) || cell.trim() !== cell)) bad('a number');
        else row[c.key] = v;
      }
    }
  }
  return ok ? (row as T) : null;
}

function parseTable<T>(dir: string, file: string, text: string, columns: readonly ColumnSpec<T>[]): T[] {
  let records: CsvRecord[];
  try {
    records = parseCsv(text);
  } catch (cause) {
    throw invalid(dir, [{ file, path: '', message: (cause as Error).message }], cause);
  }
  const problems: Problem[] = [];
  const index = headerIndex(file, records[0], columns, problems);
  if (!index) throw invalid(dir, problems);
  const width = records[0].fields.length;
  const rows: T[] = [];
  for (let r = 1; r < records.length && problems.length <= MAX_PROBLEMS; r++) {
    const row = decodeRecord(file, records[r], width, index, columns, problems);
    if (row) rows.push(row);
  }
  if (problems.length > 0) throw invalid(dir, problems);
  return rows;
}

/** summary.json, validated. */
export async function readSummary(dir: string): Promise<RunData['summary']> {
  const file = RESULT_FILES.summary;
  const text = await readText(dir, file);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw invalid(dir, [{ file, path: '', message: `not JSON: ${(cause as Error).message}` }], cause);
  }
  const parsed = runSummarySchema.safeParse(json);
  if (!parsed.success) {
    throw invalid(
      dir,
      parsed.error.issues.map((i) => ({ file, path: i.path.map(String).join('.'), message: i.message })),
      parsed.error,
    );
  }
  return parsed.data;
}

/**
 * Read and validate a run folder. The returned `dir` is absolute.
 * Cross-file check: histogram counts must add up to summary.responseMs.count.
 */
export async function readRun(dir: string): Promise<RunData & { dir: string }> {
  const abs = resolve(dir);
  try {
    const st = await stat(abs);
    if (!st.isDirectory()) throw new Error('not a directory');
  } catch (cause) {
    throw invalid(abs, [{ path: '', message: 'not a directory (or missing)' }], cause);
  }
  const table = async <T>(file: string, columns: readonly ColumnSpec<T>[]): Promise<T[]> =>
    parseTable(abs, file, await readText(abs, file), columns);
  const [summary, timeseries, histogram, migrations, nodeLoad, userSeries] = await Promise.all([
    readSummary(abs),
    table(RESULT_FILES.timeseries, TIMESERIES_COLUMNS),
    table(RESULT_FILES.histogram, HISTOGRAM_COLUMNS),
    table(RESULT_FILES.migrations, MIGRATION_COLUMNS),
    table(RESULT_FILES.nodeLoad, NODE_LOAD_COLUMNS),
    exists(join(abs, RESULT_FILES.userSeries)).then((has) =>
      has ? table(RESULT_FILES.userSeries, USER_SERIES_COLUMNS) : null,
    ),
  ]);
  const histCount = histogram.reduce((a, b) => a + b.count, 0);
  if (histCount !== summary.responseMs.count) {
    throw invalid(abs, [
      {
        file: RESULT_FILES.histogram,
        path: 'count',
        message: `bucket counts add up to ${histCount}, but summary.json responseMs.count is ${summary.responseMs.count}`,
      },
    ]);
  }
  // A folder written before summary.json counted unfinished migrations: count them here.
  if (Number.isNaN(summary.migrations.unfinished)) summary.migrations.unfinished = migrations.filter((m) => m.status === 'unfinished').length;
  return { dir: abs, summary, timeseries, histogram, migrations, nodeLoad, userSeries };
}

/** Whether the folder has a request trace. */
export function hasRequestTrace(dir: string): Promise<boolean> {
  return exists(join(dir, RESULT_FILES.requests));
}

/**
 * Stream requests.csv of a run folder row by row (validated like the other
 * CSVs). Yields nothing when the folder has no request trace.
 */
export async function* readRequestTrace(dir: string): AsyncGenerator<RequestRecord> {
  const abs = resolve(dir);
  const file = RESULT_FILES.requests;
  if (!(await hasRequestTrace(abs))) return;
  const parser = new CsvParser();
  let index: number[] | null = null;
  let width = 0;
  const problems: Problem[] = [];
  const decode = function* (records: CsvRecord[]): Generator<RequestRecord> {
    for (const rec of records) {
      if (index === null) {
        index = headerIndex(file, rec, REQUEST_COLUMNS, problems);
        if (!index) throw invalid(abs, problems);
        width = rec.fields.length;
        continue;
      }
      const row = decodeRecord(file, rec, width, index, REQUEST_COLUMNS, problems);
      if (!row) throw invalid(abs, problems);
      yield row;
    }
  };
  try {
    for await (const chunk of createReadStream(join(abs, file), { encoding: 'utf8', highWaterMark: 1 << 20 })) {
      yield* decode(parser.push(chunk as string));
    }
    yield* decode(parser.end());
  } catch (cause) {
    if (cause instanceof ConmigError) throw cause;
    throw invalid(abs, [{ file, path: '', message: (cause as Error).message }], cause);
  }
  if (index === null) throw invalid(abs, [{ file, path: 'line 1', message: 'missing header row' }]);
}

/**
 * Run folders (directories with a summary.json) at `dir` itself or one level
 * below, as absolute paths: `dir` first if it is a run, then sub-folders by
 * name. Empty when there are none; RESULT_INVALID when `dir` is not a directory.
 */
export async function findRuns(dir: string): Promise<string[]> {
  const abs = resolve(dir);
  let entries;
  try {
    entries = await readdir(abs, { withFileTypes: true });
  } catch (cause) {
    throw invalid(abs, [{ path: '', message: 'not a directory (or missing)' }], cause);
  }
  const runs: string[] = [];
  if (entries.some((e) => e.isFile() && e.name === RESULT_FILES.summary)) runs.push(abs);
  const subdirs = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  for (const name of subdirs) {
    if (await exists(join(abs, name, RESULT_FILES.summary))) runs.push(join(abs, name));
  }
  return runs;
}
