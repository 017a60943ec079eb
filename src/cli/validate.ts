/**
 * `conmig validate SCENARIO [--json]`: load, check and resolve a scenario
 * file and say what it contains, or list every problem (one line each, with
 * file and line) and fail with SCENARIO_INVALID.
 */
import type { Command } from 'commander';
import type { Scenario } from '../model/types.ts';
import type { CliContext } from './io.ts';

export function summariseScenario(s: Scenario): string {
  return `ok: ${s.name}: ${s.topology.nodes.length} nodes, ${s.users.length} users, ${s.containers.length} containers, policies: ${s.policies.map((p) => p.name).join(', ')}`;
}

export async function validateCommand(ctx: CliContext, file: string, opts: { json?: boolean; maxEvents?: string }): Promise<void> {
  const [{ checkScenarioFile, invalidScenario }, { parseMaxEvents }] = await Promise.all([import('../scenario-io/load.ts'), import('./run.ts')]);
  const maxEvents = opts.maxEvents === undefined ? undefined : parseMaxEvents(opts.maxEvents);
  const outcome = await checkScenarioFile(file, undefined, { cwd: ctx.io.cwd, maxEvents });
  const s = outcome.scenario;
  if (opts.json) {
    const report = s
      ? {
          ok: true,
          file,
          name: s.name,
          mode: s.mode,
          nodes: s.topology.nodes.length,
          users: s.users.length,
          containers: s.containers.length,
          policies: s.policies.map((p) => p.name),
        }
      : { ok: false, file, problems: outcome.problems };
    ctx.out(JSON.stringify(report, null, 2));
  } else if (s) {
    ctx.out(summariseScenario(s));
  }
  if (!s) throw invalidScenario(file, outcome.problems);
}

export function registerValidate(program: Command, ctx: CliContext): void {
  program
    .command('validate')
    .description('check a scenario file and show what it contains, or list its problems with file and line')
    .argument('<scenario>', 'scenario YAML file')
    .option('--json', 'print the result as JSON on stdout')
    .option('--max-events <n>', "the estimated-events limit to check against (as conmig run's)")
    .action(async (file: string, opts: { json?: boolean; maxEvents?: string }) => {
      await validateCommand(ctx, file, opts);
    });
}
