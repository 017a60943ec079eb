/**
 * Trace file I/O: reading trace files from disk and a caching TraceStore.
 * Parsing itself is pure and lives in trace.ts.
 */
import { closeSync, constants, fstatSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { ConmigError } from '../model/errors.ts';
import { cabName, parseCabspottingFixes, parseCsvTrace, projectCabs, type GeoFix } from './trace.ts';
import type { TraceData, TraceFormat, TraceStore } from './types.ts';

/** Largest trace file read: a regular file only (not a FIFO or /dev/zero), checked before reading. */
export const MAX_TRACE_BYTES = 256 * 2 ** 20;

function readText(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (cause) {
    throw new ConmigError('TRACE_INVALID', `${path}: cannot read trace file`, { context: { file: path }, cause });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new ConmigError('TRACE_INVALID', `${path}:1: expected a regular file as trace file, got ${st.isFIFO() ? 'a FIFO' : st.isDirectory() ? 'a directory' : 'a device or socket'}`, { context: { file: path } });
    if (st.size > MAX_TRACE_BYTES) throw new ConmigError('TRACE_INVALID', `${path}:1: expected a trace file of at most 256 MiB, got ${Math.round(st.size / 2 ** 20)} MiB`, { context: { file: path } });
    return readFileSync(fd, 'utf8');
  } catch (cause) {
    if (cause instanceof ConmigError) throw cause;
    throw new ConmigError('TRACE_INVALID', `${path}: cannot read trace file`, { context: { file: path }, cause });
  } finally {
    closeSync(fd);
  }
}

/**
 * Load and parse one trace. For 'cabspotting', `path` is either one cab file
 * (one user, the cab name) or a directory: every `*.txt` file in it is a cab
 * (cab names sorted), all projected with one common origin and t = 0.
 */
export function loadTraceFile(path: string, format: TraceFormat): TraceData {
  if (format === 'csv') return parseCsvTrace(readText(path), path);
  let isDir = false;
  try {
    isDir = statSync(path).isDirectory();
  } catch (cause) {
    throw new ConmigError('TRACE_INVALID', `${path}: cannot read trace file`, { context: { file: path }, cause });
  }
  const files = isDir
    ? readdirSync(path)
        .filter((f) => f.endsWith('.txt'))
        .sort()
        .map((f) => join(path, f))
    : [path];
  if (files.length === 0) {
    throw new ConmigError('TRACE_INVALID', `${path}: expected cabspotting files (*.txt) in the directory, found none`, {
      context: { file: path },
    });
  }
  const cabs = new Map<string, GeoFix[]>();
  for (const f of files) cabs.set(cabName(basename(f)), parseCabspottingFixes(readText(f), f));
  return projectCabs(cabs);
}

/**
 * A TraceStore reading from disk: relative paths are resolved against
 * `baseDir` (the scenario file's directory); each (path, format) is parsed
 * once and cached for the store's lifetime.
 */
export function createTraceStore(baseDir: string = process.cwd()): TraceStore {
  const cache = new Map<string, TraceData>();
  return {
    get(file: string, format: TraceFormat): TraceData {
      const abs = resolve(baseDir, file);
      const key = `${format}\u0000${abs}`;
      let data = cache.get(key);
      if (data === undefined) {
        data = loadTraceFile(abs, format);
        cache.set(key, data);
      }
      return data;
    },
  };
}

/** A TraceStore over already-parsed traces keyed by the `file` string as written in the scenario (tests, built-in scenarios). */
export function createMemoryTraceStore(traces: Readonly<Record<string, TraceData>>): TraceStore {
  return {
    get(file: string): TraceData {
      const data = traces[file];
      if (data === undefined) {
        throw new ConmigError('TRACE_INVALID', `${file}: no such trace in the in-memory store`, { context: { file } });
      }
      return data;
    },
  };
}
