/** Helpers the statistics modules share. */
import { ConmigError } from '../model/errors.ts';
import type { HistogramBucketRow } from '../model/results.ts';

/** Bad arguments to a statistics function (a caller's mistake, reported as USAGE). */
export function usage(message: string, context: Record<string, unknown> = {}): ConmigError {
  return new ConmigError('USAGE', message, { context });
}

/** Total count of a histogram's rows. */
export function histogramCount(rows: readonly HistogramBucketRow[]): number {
  let n = 0;
  for (const r of rows) n += r.count;
  return n;
}
