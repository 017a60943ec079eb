/**
 * `conmig recover [--inventory FILE] [--journal DIR] [--json]`
 *
 * End every migration whose controller died (the journal, src/live/migrate/journal.ts):
 * the container ends up running on exactly one node with its state (docs/migrate.md,
 * "A controller that dies"). `conmig migrate` and live runs do this first by themselves.
 * Exit status 0 when nothing is left open, 1 when an entry could not be ended.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { ConmigError } from '../model/errors.ts';
import type { CliContext } from './io.ts';
import { DEFAULT_STATE_DIR } from '../live/testbed/layout.ts';

interface RecoverFlags {
  inventory: string;
  journal?: string;
  json?: boolean;
  /** false with --no-agent */
  agent?: boolean;
}

/** The journal folder: --journal, else CONMIG_JOURNAL_DIR, else the default (journal.ts). */
export async function journalDirOf(ctx: CliContext, flag: string | undefined): Promise<string> {
  const { defaultJournalDir } = await import('../live/migrate/journal.ts');
  return flag ? ctx.abs(flag) : defaultJournalDir({ ...ctx.io.env });
}

export function registerRecover(program: Command, ctx: CliContext): void {
  program
    .command('recover')
    .description('end migrations whose controller died (from the journal and the nodes): the container runs on exactly one node')
    .option('--inventory <file>', 'inventory file', path.join(DEFAULT_STATE_DIR, 'inventory.yaml'))
    .option('--journal <dir>', 'journal folder (default: CONMIG_JOURNAL_DIR, else /var/lib/conmig/journal for root, else ~/.local/state/conmig/journal)')
    .option('--json', 'print the outcomes as JSON')
    .option('--no-agent', 'no node agent: one SSH command per step (as CONMIG_AGENT=off; docs/migrate.md)')
    .action(async (o: RecoverFlags) => {
      const [{ loadInventory }, { recoverInterrupted }] = await Promise.all([import('../live/inventory.ts'), import('../live/migrate/recover.ts')]);
      const inventory = await loadInventory(ctx.abs(o.inventory));
      const journalDir = await journalDirOf(ctx, o.journal);
      const outcomes = await recoverInterrupted({ inventory, journalDir, agent: o.agent === false ? 'off' : undefined, log: o.json ? undefined : (l) => ctx.out(l) });
      if (o.json) ctx.out(JSON.stringify(outcomes, null, 2));
      else if (outcomes.length === 0) ctx.out(`nothing to recover (journal ${journalDir})`);
      const open = outcomes.filter((x) => !x.closed && x.action !== 'skipped');
      if (open.length > 0) {
        throw new ConmigError('MIGRATION_FAILED', `${open.length} interrupted migration${open.length === 1 ? '' : 's'} could not be ended (journal ${journalDir}): ${open.map((x) => x.summary).join('; ')}`, {
          context: { journal: journalDir },
        });
      }
    });
}
