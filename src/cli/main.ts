/**
 * The conmig command line. The only place that writes to the terminal as a
 * program and the only place that exits the process: every command module
 * throws ConmigError, and this file turns it into a message and a status.
 */
import { Command, CommanderError } from 'commander';
import { ConmigError, formatProblems, isConmigError } from '../model/errors.ts';
import { registerRun } from './run.ts';
import { registerValidate } from './validate.ts';
import { registerTestbed } from './testbed.ts';
import { registerMigrate } from './migrate.ts';
import { registerCompare } from './compare.ts';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('conmig')
    .description('Dynamic container migration in mobile edge clouds: simulate, run live, compare.')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  registerRun(program);
  registerValidate(program);
  registerTestbed(program);
  registerMigrate(program);
  registerCompare(program);
  return program;
}

/** Exit status by error code: 2 for bad input, 3 for environment, 1 otherwise. */
function exitStatusOf(e: ConmigError): number {
  switch (e.code) {
    case 'SCENARIO_INVALID':
    case 'SCENARIO_NOT_FOUND':
    case 'POLICY_NOT_FOUND':
    case 'POLICY_INVALID':
    case 'TRACE_INVALID':
    case 'RESULT_INVALID':
    case 'RESULT_MISMATCH':
    case 'INVENTORY_INVALID':
    case 'NODE_UNKNOWN':
    case 'CONTAINER_UNKNOWN':
    case 'MODE_UNSUPPORTED':
    case 'USAGE':
      return 2;
    case 'SETUP_MISSING':
    case 'NODE_UNREACHABLE':
    case 'HOSTKEY_MISMATCH':
      return 3;
    case 'INTERRUPTED':
      return 130;
    default:
      return 1;
  }
}

export function describeError(e: ConmigError): string {
  const lines = [`conmig: ${e.message}`];
  // Some messages already list their problems (readRun's, for one): do not print them twice.
  const listed = formatProblems(e.problems);
  if (e.problems.length > 0 && !e.message.includes(listed)) lines.push(listed);
  // Nor context values the message already says (a live run's placement, its output folder).
  const ctx = Object.entries(e.context).filter(([, v]) => v !== undefined && v !== '' && !(typeof v === 'string' && e.message.includes(v)));
  for (const [k, v] of ctx) lines.push(`  ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  if (e.cause instanceof Error && !isConmigError(e.cause)) lines.push(`  cause: ${e.cause.message}`);
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    if (isConmigError(e)) {
      process.stderr.write(describeError(e) + '\n');
      if (process.env.CONMIG_DEBUG) process.stderr.write(String(e.stack) + '\n');
      return exitStatusOf(e);
    }
    // A bug, not bad input: keep the stack so it can be reported.
    process.stderr.write(`conmig: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 1;
  }
}

// `conmig compare ... | head` closes the pipe early: that is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

process.exitCode = await main(process.argv);
