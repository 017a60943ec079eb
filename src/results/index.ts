export { writeRun, writeFileAtomic, createRequestTraceWriter, type RequestTraceWriter } from './write.ts';
export { readRun, readSummary, readRequestTrace, hasRequestTrace, findRuns } from './read.ts';
export { normalizeRunData, RESULT_FILES } from './tables.ts';
export { formatSummaryJson, orderSummary, runSummarySchema } from './summary.ts';
export { formatNumber, parseCsv, CsvParser, type ColumnKind, type ColumnSpec } from './csv.ts';
export { checkOutputDir, claimOutputDir, readRunIdentity, writeRunIdentity, RUN_FILE, type RunIdentity } from './output-dir.ts';
