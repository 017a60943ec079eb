/**
 * CSV primitives for result files: deterministic number formatting, RFC 4180
 * quoting only when needed, `\n` line ends, and an incremental parser that
 * handles quoted fields (with commas, quotes and newlines) across chunks.
 */

/**
 * How a column's numbers are printed:
 *   int   integer, printed as JS prints it (counts, ids, bytes);
 *   num   rounded to 6 significant digits (means, quantiles, utilisation);
 *   time  rounded to 1 µs (scenario times in seconds);
 *   exact shortest round-trip form (histogram bounds);
 *   str   text; enum: text from a fixed list.
 * NaN is written as an empty cell, ±Infinity as `Infinity`/`-Infinity`.
 */
export type ColumnKind = 'int' | 'num' | 'time' | 'exact' | 'str' | 'enum';

export interface ColumnSpec<T> {
  key: keyof T & string;
  kind: ColumnKind;
  /** Allowed values for kind 'enum'. */
  values?: readonly string[];
  /**
   * A column added later: readers accept files without it (the field is then
   * undefined; an empty cell too), and formatTable writes it only when a row sets it.
   */
  optional?: boolean;
}

export const SIGNIFICANT_DIGITS = 6;

export function formatNumber(x: number, kind: ColumnKind): string {
  if (Number.isNaN(x)) return '';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  let v = x;
  if (kind === 'num') v = Number(x.toPrecision(SIGNIFICANT_DIGITS));
  else if (kind === 'time') v = Math.round(x * 1e6) / 1e6;
  if (Object.is(v, -0)) v = 0;
  return String(v);
}

/** The value a number has after a CSV write and read (for comparing in memory with a file). */
export function roundAsCsv(x: number, kind: ColumnKind): number {
  const s = formatNumber(x, kind);
  return s === '' ? NaN : Number(s);
}

export function quoteField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function formatRow<T>(row: T, columns: readonly ColumnSpec<T>[]): string {
  let line = '';
  for (let i = 0; i < columns.length; i++) {
    const c = columns[i];
    const v = row[c.key] as unknown;
    const cell = typeof v === 'number' ? formatNumber(v, c.kind) : quoteField(String(v ?? ''));
    line += i === 0 ? cell : `,${cell}`;
  }
  return line;
}

export function formatHeader<T>(columns: readonly ColumnSpec<T>[]): string {
  return columns.map((c) => quoteField(c.key)).join(',');
}

/** Whole table: header, one line per row, each line ended by `\n`. */
export function formatTable<T>(rows: readonly T[], allColumns: readonly ColumnSpec<T>[]): string {
  const columns = allColumns.filter((c) => !c.optional || rows.some((r) => r[c.key] !== undefined));
  const parts: string[] = [formatHeader(columns)];
  for (const r of rows) parts.push(formatRow(r, columns));
  return parts.join('\n') + '\n';
}

/** One parsed record and the 1-based line it starts on. */
export interface CsvRecord {
  line: number;
  fields: string[];
}

/**
 * Incremental RFC 4180 parser. Accepts `\n` and `\r\n`. Feed chunks with
 * push(); call end() once. Throws (plain Error with a line number) on a quote
 * in the middle of an unquoted field or an unterminated quoted field; callers
 * wrap it into a ConmigError naming the file.
 */
export class CsvParser {
  private field = '';
  private fields: string[] = [];
  private inQuotes = false;
  /** Just saw a quote inside a quoted field: either the closing quote or the first of "". */
  private quotePending = false;
  private fieldWasQuoted = false;
  private line = 1;
  private recordLine = 1;
  private sawAny = false;

  push(chunk: string): CsvRecord[] {
    const out: CsvRecord[] = [];
    for (let i = 0; i < chunk.length; i++) {
      const ch = chunk[i];
      if (this.inQuotes) {
        if (this.quotePending) {
          this.quotePending = false;
          if (ch === '"') {
            this.field += '"';
            continue;
          }
          this.inQuotes = false; // the quote closed the field; handle ch below
        } else if (ch === '"') {
          this.quotePending = true;
          continue;
        } else {
          if (ch === '\n') this.line++;
          this.field += ch;
          continue;
        }
      }
      this.sawAny = true;
      if (ch === ',') {
        this.fields.push(this.field);
        this.field = '';
        this.fieldWasQuoted = false;
      } else if (ch === '\n') {
        this.fields.push(this.field.endsWith('\r') && !this.fieldWasQuoted ? this.field.slice(0, -1) : this.field);
        out.push({ line: this.recordLine, fields: this.fields });
        this.fields = [];
        this.field = '';
        this.fieldWasQuoted = false;
        this.sawAny = false;
        this.line++;
        this.recordLine = this.line;
      } else if (ch === '"') {
        if (this.field !== '' || this.fieldWasQuoted) {
          throw new Error(`line ${this.line}: quote inside an unquoted field`);
        }
        this.inQuotes = true;
        this.fieldWasQuoted = true;
      } else if (this.fieldWasQuoted && ch !== '\r') {
        throw new Error(`line ${this.line}: text after a closing quote`);
      } else if (!(this.fieldWasQuoted && ch === '\r')) {
        this.field += ch;
      }
    }
    return out;
  }

  end(): CsvRecord[] {
    if (this.inQuotes && !this.quotePending) throw new Error(`line ${this.recordLine}: unterminated quoted field`);
    this.inQuotes = false;
    this.quotePending = false;
    if (!this.sawAny && this.fields.length === 0 && this.field === '') return [];
    this.fields.push(this.field);
    const rec = { line: this.recordLine, fields: this.fields };
    this.fields = [];
    this.field = '';
    this.sawAny = false;
    return [rec];
  }
}

export function parseCsv(text: string): CsvRecord[] {
  const p = new CsvParser();
  const out = p.push(text);
  for (const r of p.end()) out.push(r);
  return out;
}
