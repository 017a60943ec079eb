/**
 * The conmig command line as a function: `main(args, io)` parses the
 * arguments, runs the command and returns the exit status. It writes only to
 * `io` and never exits the process (bin/conmig.js does, with the status
 * returned here): every command module throws ConmigError, and this file
 * turns it into a message and a status.
 */
import { Command, CommanderError } from 'commander';
import { ConmigError, formatProblems, isConmigError } from '../model/errors.ts';
import { cliContext, processIo, type CliContext, type CliIo } from './io.ts';
import { registerRun } from './run.ts';
import { registerValidate } from './validate.ts';
import { registerTestbed } from './testbed.ts';
import { registerMigrate } from './migrate.ts';
import { registerRecover } from './recover.ts';
import { registerCompare } from './compare.ts';
import { registerSweep } from './sweep.ts';

export type { CliIo, CliWriter } from './io.ts';

export function buildProgram(ctx: CliContext = cliContext(processIo())): Command {
  const { io } = ctx;
  const program = new Command();
  program
    .name('conmig')
    .description('Dynamic container migration in mobile edge clouds: simulate, run live, compare.')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride()
    // Set before the commands are added: they inherit it.
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      // The parser's errors quote what was typed: never raw control characters.
      writeErr: (s) => io.stderr.write(escapeControl(s)),
      getOutHelpWidth: () => (io.stdout.isTTY && io.stdout.columns ? io.stdout.columns : 80),
      getErrHelpWidth: () => (io.stderr.isTTY && io.stderr.columns ? io.stderr.columns : 80),
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    });
  registerRun(program, ctx);
  registerValidate(program, ctx);
  registerTestbed(program, ctx);
  registerMigrate(program, ctx);
  registerRecover(program, ctx);
  registerCompare(program, ctx);
  registerSweep(program, ctx);
  return program;
}

/** Exit status by error code: 2 for bad input, 3 for environment, 1 otherwise. */
export function exitStatusOf(e: ConmigError): number {
  switch (e.code) {
    case 'SCENARIO_INVALID':
    case 'SWEEP_INVALID':
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

const MAX_PROBLEMS_SHOWN = 50;

export function describeError(e: ConmigError): string {
  const lines = [`conmig: ${e.message}`];
  // Some messages already list their problems (readRun's, for one): do not print them twice.
  // A file with a hundred thousand bad entries gets its first problems and a count, not a flood.
  const shown = e.problems.slice(0, MAX_PROBLEMS_SHOWN);
  const listed = formatProblems(shown);
  if (shown.length > 0 && !e.message.includes(listed)) {
    lines.push(listed);
    const more = e.problems.length - shown.length;
    if (more > 0) lines.push(`... and ${more.toLocaleString('en-US')} more problem${more === 1 ? '' : 's'} (fix these first)`);
  }
  // Nor context values the message already says (a live run's placement, its output folder).
  const ctx = Object.entries(e.context).filter(([, v]) => v !== undefined && v !== '' && !(typeof v === 'string' && e.message.includes(v)));
  for (const [k, v] of ctx) lines.push(`  ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  if (e.cause instanceof Error && !isConmigError(e.cause)) lines.push(`  cause: ${e.cause.message}`);
  return lines.join('\n');
}

/**
 * Control characters (ANSI escapes among them) of user input shown as escapes,
 * never written raw to a terminal; newlines and tabs stay.
 */
export function escapeControl(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Run the command line `args` (without node and the script) and return its exit status. */
export async function main(args: readonly string[], io: CliIo = processIo()): Promise<number> {
  try {
    await buildProgram(cliContext(io)).parseAsync([...args], { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    if (isConmigError(e)) {
      io.stderr.write(escapeControl(describeError(e)) + '\n');
      if (io.env.CONMIG_DEBUG) io.stderr.write(String(e.stack) + '\n');
      return exitStatusOf(e);
    }
    // A bug, not bad input: keep the stack so it can be reported.
    io.stderr.write(escapeControl(`conmig: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`) + '\n');
    return 1;
  }
}
