/**
 * Writing a run folder. Every file is written under a temporary name and
 * renamed into place, so a crash never leaves half a file under the real name.
 */
import { closeSync, mkdirSync, openSync, renameSync, writeSync, unlinkSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConmigError } from '../model/errors.ts';
import type { RequestRecord, RunData } from '../model/results.ts';
import { formatHeader, formatRow, formatTable } from './csv.ts';
import { formatSummaryJson } from './summary.ts';
import {
  HISTOGRAM_COLUMNS,
  MIGRATION_COLUMNS,
  NODE_LOAD_COLUMNS,
  REQUEST_COLUMNS,
  RESULT_FILES,
  TIMESERIES_COLUMNS,
  USER_SERIES_COLUMNS,
} from './tables.ts';

function tmpName(path: string): string {
  return `${path}.tmp-${process.pid}`;
}

/** Write `text` to `path` via a temporary file and a rename. */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const tmp = tmpName(path);
  try {
    await writeFile(tmp, text, 'utf8');
    await rename(tmp, path);
  } catch (cause) {
    await rm(tmp, { force: true });
    throw new ConmigError('RESULT_INVALID', `cannot write result file ${path}`, { context: { file: path }, cause });
  }
}

/**
 * Write summary.json and the CSV files of a run into `dir` (created if
 * needed). With `userSeries === null` a stale user-series.csv is removed.
 * requests.csv is not touched (see createRequestTraceWriter).
 */
export async function writeRun(dir: string, data: RunData): Promise<void> {
  await mkdir(dir, { recursive: true });
  await Promise.all([
    writeFileAtomic(join(dir, RESULT_FILES.summary), formatSummaryJson(data.summary)),
    writeFileAtomic(join(dir, RESULT_FILES.timeseries), formatTable(data.timeseries, TIMESERIES_COLUMNS)),
    writeFileAtomic(join(dir, RESULT_FILES.histogram), formatTable(data.histogram, HISTOGRAM_COLUMNS)),
    writeFileAtomic(join(dir, RESULT_FILES.migrations), formatTable(data.migrations, MIGRATION_COLUMNS)),
    writeFileAtomic(join(dir, RESULT_FILES.nodeLoad), formatTable(data.nodeLoad, NODE_LOAD_COLUMNS)),
    data.userSeries === null
      ? rm(join(dir, RESULT_FILES.userSeries), { force: true })
      : writeFileAtomic(join(dir, RESULT_FILES.userSeries), formatTable(data.userSeries, USER_SERIES_COLUMNS)),
  ]);
}

export interface RequestTraceWriter {
  /** Append one request. Synchronous; buffered. */
  write(r: RequestRecord): void;
  /** Flush, close and rename requests.csv into place. Idempotent. */
  close(): Promise<void>;
  /** Rows written so far. */
  readonly rows: number;
}

/** Characters buffered before one write to the file (about 1 MiB). */
const TRACE_CHUNK_CHARS = 1 << 20;

/**
 * Streaming writer for `dir/requests.csv` (millions of rows). Rows are joined
 * into ~1 MiB string chunks and each chunk is written synchronously: a
 * synchronous producer (the simulator) is held back by the disk instead of
 * queueing unbounded memory, which is the backpressure a `void` write() can
 * give. The file is written as requests.csv.tmp-<pid> and renamed on close().
 * `dir` is created if needed.
 */
export function createRequestTraceWriter(dir: string): RequestTraceWriter {
  const path = join(dir, RESULT_FILES.requests);
  const tmp = tmpName(path);
  let fd: number;
  try {
    mkdirSync(dir, { recursive: true });
    fd = openSync(tmp, 'w');
  } catch (cause) {
    throw new ConmigError('RESULT_INVALID', `cannot create request trace ${tmp}`, { context: { file: tmp }, cause });
  }
  let buf = formatHeader(REQUEST_COLUMNS) + '\n';
  let rows = 0;
  let closed = false;
  const flush = (): void => {
    if (buf.length === 0) return;
    writeSync(fd, buf);
    buf = '';
  };
  return {
    write(r: RequestRecord): void {
      if (closed) throw new ConmigError('SIM_INVARIANT', 'request trace written after close', { context: { file: path } });
      buf += formatRow(r, REQUEST_COLUMNS) + '\n';
      rows++;
      if (buf.length >= TRACE_CHUNK_CHARS) flush();
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      try {
        flush();
        closeSync(fd);
        renameSync(tmp, path);
      } catch (cause) {
        try {
          unlinkSync(tmp);
        } catch {
          // already gone
        }
        throw new ConmigError('RESULT_INVALID', `cannot finish request trace ${path}`, { context: { file: path }, cause });
      }
    },
    get rows(): number {
      return rows;
    },
  };
}
