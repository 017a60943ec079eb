/**
 * Whether a run's figures can be taken at face value (pure): its latencies
 * describe only the requests that were served, so a run in which many
 * requests failed or never finished, or many migrations never finished, says
 * so next to its numbers (the terminal, report.html), and a run in which most
 * requests got no answer is not a result one should quote: the CLI ends it
 * with a non-zero status unless told to accept it (--allow-unfinished).
 */
import type { RunSummary } from '../model/results.ts';

/** Requests without an answer (failed or unfinished) above this fraction get a warning. */
export const UNANSWERED_WARN_FRACTION = 0.01;
/** Migrations still running at the end above this fraction (of all migrations) get a warning. */
export const UNFINISHED_MIGRATIONS_WARN_FRACTION = 0.1;

export interface RunHealth {
  /** Failed + unfinished requests. */
  unanswered: number;
  /** Fewer than half of the requests generated after warm-up were served. */
  mostUnanswered: boolean;
  /** One sentence per problem, without the run's label; empty when there is none. */
  warnings: string[];
}

const n = (x: number): string => x.toLocaleString('en-US');
const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

export function runHealth(s: RunSummary): RunHealth {
  const { generated, served, failed, unfinished } = s.requests;
  const unanswered = failed + unfinished;
  const warnings: string[] = [];
  const mostUnanswered = generated > 0 && served * 2 < generated;
  if (generated > 0 && unanswered > UNANSWERED_WARN_FRACTION * generated) {
    const parts = [failed > 0 ? `${n(failed)} failed` : '', unfinished > 0 ? `${n(unfinished)} never finished` : ''].filter(Boolean).join(', ');
    const tail = served === 0 ? ': no request was served, so there are no latencies' : ': the latencies describe only the served ones';
    warnings.push(`${n(unanswered)} of ${n(generated)} requests (${pct(unanswered / generated)}) got no answer (${parts})${tail}`);
  }
  const migUnfinished = s.migrations.unfinished;
  if (Number.isFinite(migUnfinished) && migUnfinished > 0 && migUnfinished > UNFINISHED_MIGRATIONS_WARN_FRACTION * s.migrations.count) {
    warnings.push(`${n(migUnfinished)} of ${n(s.migrations.count)} migrations never finished (the downtime figures cover the finished ones only)`);
  }
  return { unanswered, mostUnanswered, warnings };
}

/** Warning lines for a set of labelled runs: `label: sentence`. */
export function healthWarnings(runs: readonly { label: string; summary: RunSummary }[]): string[] {
  return runs.flatMap((r) => runHealth(r.summary).warnings.map((w) => `${r.label}: ${w}`));
}
