/**
 * The per-policy summary table, shared by the HTML report and the terminal.
 */
import type { LabelledRun } from './charts.ts';

export interface SummaryColumn {
  key: string;
  header: string;
  align: 'left' | 'right';
}

export const SUMMARY_COLUMNS: readonly SummaryColumn[] = [
  { key: 'policy', header: 'policy', align: 'left' },
  { key: 'requests', header: 'requests', align: 'right' },
  { key: 'failed', header: 'failed', align: 'right' },
  { key: 'unfinished', header: 'unfinished', align: 'right' },
  { key: 'mean', header: 'mean ms', align: 'right' },
  { key: 'p50', header: 'p50 ms', align: 'right' },
  { key: 'p95', header: 'p95 ms', align: 'right' },
  { key: 'p99', header: 'p99 ms', align: 'right' },
  { key: 'qos', header: 'QoS viol.', align: 'right' },
  { key: 'migrations', header: 'migrations', align: 'right' },
  { key: 'bytes', header: 'moved', align: 'right' },
  { key: 'downtime', header: 'mean downtime ms', align: 'right' },
];

const DASH = '–';

export function formatMs(x: number): string {
  if (!Number.isFinite(x)) return DASH;
  return Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2);
}

export function formatBytes(b: number): string {
  if (!Number.isFinite(b)) return DASH;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = b;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

function formatPct(fraction: number): string {
  return Number.isFinite(fraction) ? `${(fraction * 100).toFixed(2)}%` : DASH;
}

/** One row of display strings per run, keyed by SUMMARY_COLUMNS keys. */
export function summaryTableRows(runs: readonly LabelledRun[]): Array<Record<string, string>> {
  return runs.map((r) => {
    const s = r.summary;
    const notes = [
      s.migrations.failed > 0 ? `${s.migrations.failed} failed` : '',
      s.migrations.unfinished > 0 ? `${s.migrations.unfinished} unfinished` : '',
    ].filter(Boolean);
    const failedMigs = notes.length > 0 ? ` (${notes.join(', ')})` : '';
    return {
      policy: r.label,
      requests: String(s.requests.generated),
      failed: String(s.requests.failed),
      unfinished: String(s.requests.unfinished),
      mean: formatMs(s.responseMs.meanMs),
      p50: formatMs(s.responseMs.p50Ms),
      p95: formatMs(s.responseMs.p95Ms),
      p99: formatMs(s.responseMs.p99Ms),
      qos: formatPct(s.qos.fractionOver),
      migrations: `${s.migrations.count}${failedMigs}`,
      bytes: formatBytes(s.migrations.bytesTotal),
      downtime: formatMs(s.migrations.downtimeMs.mean),
    };
  });
}

/**
 * A compact aligned table, one line per run, `\n`-separated, no trailing
 * newline. ANSI bold header only with `color: true` (pass
 * `process.stdout.isTTY` from the CLI); plain text otherwise.
 */
export function formatSummaryTable(runs: readonly LabelledRun[], opts: { color?: boolean } = {}): string {
  const rows = summaryTableRows(runs);
  const widths = SUMMARY_COLUMNS.map((c) => Math.max([...c.header].length, ...rows.map((r) => [...r[c.key]].length)));
  const pad = (text: string, i: number): string => {
    const fill = ' '.repeat(widths[i] - [...text].length);
    return SUMMARY_COLUMNS[i].align === 'left' ? text + fill : fill + text;
  };
  const line = (cells: string[]): string => cells.map(pad).join('  ').trimEnd();
  let header = line(SUMMARY_COLUMNS.map((c) => c.header));
  if (opts.color) header = `\u001b[1m${header}\u001b[22m`;
  const rule = widths.map((w) => '─'.repeat(w)).join('  ');
  return [header, rule, ...rows.map((r) => line(SUMMARY_COLUMNS.map((c) => r[c.key])))].join('\n');
}
