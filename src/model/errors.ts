/**
 * One error type for the whole project. Library code throws it with a stable
 * `code` and the context a user needs to act (file, field, node, command);
 * only the CLI turns it into a message and an exit status.
 */
export type ErrorCode =
  | 'SCENARIO_INVALID' // a scenario file failed validation (see `problems`)
  | 'SWEEP_INVALID' // a sweep file failed validation (see `problems`)
  | 'SCENARIO_NOT_FOUND'
  | 'POLICY_NOT_FOUND'
  | 'POLICY_INVALID'
  | 'POLICY_FAILED' // a custom policy threw, returned no decision list, ran past its time budget or exited
  | 'TRACE_INVALID' // a mobility trace file could not be parsed
  | 'SIM_INVARIANT' // the simulator detected an impossible state (a bug)
  | 'RESULT_INVALID' // a result folder is missing or malformed
  | 'RESULT_MISMATCH' // results that should be comparable are not
  | 'RUN_UNFINISHED' // a run was written, but most of its requests got no answer
  | 'INVENTORY_INVALID'
  | 'NODE_UNKNOWN'
  | 'NODE_UNREACHABLE'
  | 'HOSTKEY_MISMATCH'
  | 'CONTAINER_UNKNOWN'
  | 'MODE_UNSUPPORTED'
  | 'COMMAND_FAILED' // a command on a node exited non-zero
  | 'MIGRATION_FAILED'
  | 'TESTBED_FAILED'
  | 'SETUP_MISSING' // a system tool the live side needs is not installed
  | 'USAGE' // bad command-line arguments
  | 'INTERRUPTED';

/** One validation problem: where it is and what was expected. */
export interface Problem {
  /** File the problem is in, when there is one. */
  file?: string;
  /** Dotted path of the field, e.g. `topology.nodes[3].cpuCores`. */
  path: string;
  message: string;
}

export class ConmigError extends Error {
  readonly code: ErrorCode;
  readonly context: Readonly<Record<string, unknown>>;
  readonly problems: readonly Problem[];

  constructor(
    code: ErrorCode,
    message: string,
    opts: { context?: Record<string, unknown>; problems?: Problem[]; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ConmigError';
    this.code = code;
    this.context = opts.context ?? {};
    this.problems = opts.problems ?? [];
  }
}

export function isConmigError(e: unknown): e is ConmigError {
  return e instanceof ConmigError;
}

/** Render a problem list as one line per problem: `file: path: message`. */
export function formatProblems(problems: readonly Problem[]): string {
  return problems
    .map((p) => `${p.file ? `${p.file}: ` : ''}${p.path || '(root)'}: ${p.message}`)
    .join('\n');
}
