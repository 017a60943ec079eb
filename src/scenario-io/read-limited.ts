/**
 * Reading an input file the user named (scenario, trace) with limits: it must
 * be a regular file (a FIFO, a device such as /dev/zero or a socket would
 * block or never end) no larger than `maxBytes`, checked before reading. The
 * file is opened non-blocking and checked on the open descriptor, so a FIFO
 * without a writer cannot hang the open.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import { totalmem } from 'node:os';
import { ConmigError, type ErrorCode } from '../model/errors.ts';

/** Largest scenario file read (a scenario is a few KiB; 100,000 users listed one by one fit). */
export const MAX_SCENARIO_BYTES = 8 * 2 ** 20;
/** Largest trace file read (each; a cabspotting folder counts its files together). */
export const MAX_TRACE_BYTES = 256 * 2 ** 20;

function mib(n: number): string {
  return `${(n / 2 ** 20).toFixed(n < 2 ** 20 ? 2 : 0)} MiB`;
}

/** The file's text; throws `code` with a clear message for a non-regular, unreadable or too large file. */
export function readLimitedText(file: string, label: string, what: string, maxBytes: number, code: ErrorCode): string {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (cause) {
    const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
    throw new ConmigError(code, missing ? `${what} not found: ${label}` : `${label}: cannot read ${what}: ${(cause as Error).message}`, { context: { path: file }, cause });
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new ConmigError(code, `${what} ${label} is a directory, not a file`, { context: { path: file } });
    if (!st.isFile()) {
      const kind = st.isFIFO() ? 'a FIFO (named pipe)' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isSocket() ? 'a socket' : 'not a regular file';
      throw new ConmigError(code, `${label}:1: expected a regular file as ${what}, got ${kind}`, { context: { path: file } });
    }
    if (st.size > maxBytes) throw new ConmigError(code, `${label}:1: expected a ${what} of at most ${mib(maxBytes)}, got ${mib(st.size)}`, { context: { path: file } });
    // Read at most maxBytes + 1: a file that grows while read is still caught.
    const buf = Buffer.alloc(Math.min(maxBytes + 1, Math.max(st.size, 0) + 65_536));
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
      if (n >= buf.length) break;
    }
    if (n > maxBytes) throw new ConmigError(code, `${label}:1: expected a ${what} of at most ${mib(maxBytes)}, got more (it grew while read)`, { context: { path: file } });
    return buf.toString('utf8', 0, n);
  } catch (e) {
    if (e instanceof ConmigError) throw e;
    throw new ConmigError(code, `${label}: cannot read ${what}: ${(e as Error).message}`, { context: { path: file }, cause: e });
  } finally {
    closeSync(fd);
  }
}

/** Memory a run may plan for on this machine: half the RAM, at most the V8 heap limit. */
export function machineMemoryBudgetBytes(): number {
  return Math.min(getHeapStatistics().heap_size_limit, totalmem() / 2);
}
